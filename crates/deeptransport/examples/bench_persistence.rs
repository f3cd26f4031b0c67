//! Times Vietoris–Rips persistence (`topology::persistence`, issue 15) on a point file;
//! `bench/peers/bench_persistence.py` times ripser.py on the same files and compares diagrams.
//!
//! ```text
//! cargo run --release --example bench_persistence -- POINTS.npy REPEATS OUT_PREFIX
//! ```
//! Runs `rips(points, max_dim 1)` REPEATS times and prints one JSON line (times, median, the SIMD
//! path and thread count, the diagram sizes); writes the diagrams to `OUT_PREFIX_h0.npy` and
//! `OUT_PREFIX_h1.npy` (`k × 2`, death `inf` for essential classes). Then the same on the
//! distances rounded to `f32` as ripser.py rounds them (`rips_from_distances`), timed once, with
//! its diagrams in `OUT_PREFIX_f32_h0.npy` / `_h1.npy`: on that matrix the two programs must give
//! equal pairs.

#[path = "support/npy.rs"]
mod npy;
#[path = "support/timing.rs"]
mod timing;

use deeptransport::kernel::pairwise;
use deeptransport::topology::persistence::{
    Diagrams, PersistenceOptions, rips, rips_from_distances,
};
use ndarray::Array2;
use std::time::Instant;

fn write(prefix: &str, d: &Diagrams) {
    for (k, pairs) in [(0, &d.h0), (1, &d.h1)] {
        let a = Array2::from_shape_fn((pairs.len(), 2), |(i, c)| {
            if c == 0 { pairs[i].0 } else { pairs[i].1 }
        });
        npy::write(&format!("{prefix}_h{k}.npy"), &a);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 4,
        "usage: bench_persistence POINTS.npy REPEATS OUT_PREFIX"
    );
    let path = timing::simd_path_from_env();
    let x = npy::read(&args[1]);
    let repeats: usize = args[2].parse().expect("REPEATS");
    let prefix = &args[3];
    let options = PersistenceOptions::default();
    let t = timing::repeat(repeats, 1, || rips(x.view(), &options).expect("rips"));
    write(prefix, &t.last);
    let d32 = pairwise::distance_matrix(x.view()).mapv(|v| v as f32 as f64);
    let start = Instant::now();
    let f32_diagrams = rips_from_distances(d32.view(), &options).expect("rips_from_distances");
    let f32_seconds = start.elapsed().as_secs_f64();
    write(&format!("{prefix}_f32"), &f32_diagrams);
    println!(
        "{{\"impl\": \"deeptransport\", \"file\": \"{}\", \"n\": {}, \"d\": {}, \"simd\": \"{path}\", \
         \"threads\": {}, \"times\": {:?}, \"median\": {}, \"h0\": {}, \"h1\": {}, \
         \"threshold\": {}, \"f32_matrix_seconds\": {f32_seconds}}}",
        args[1],
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads(),
        t.times,
        t.median,
        t.last.h0.len(),
        t.last.h1.len(),
        t.last.threshold,
    );
}
