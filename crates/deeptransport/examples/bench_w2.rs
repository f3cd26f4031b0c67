//! Times the exact network simplex `wasserstein::exact` (W₂² between two uniform clouds) on seeded
//! synthetic data; `bench/peers/bench_w2.py` times POT's `ot.emd2` on the same `.npy` files.
//!
//! ```text
//! cargo run --release --example bench_w2 -- N D REPEATS DIR
//! ```
//! Generates `x` (N × D standard normal) and `y` (N × D, 0.8·standard normal + 0.5) from a fixed
//! seed, writes them to `DIR/w2_x_N_D.npy` and `DIR/w2_y_N_D.npy` (the peer reads these), solves
//! REPEATS times and prints one JSON line: the wall-clock seconds of every repeat, their median,
//! `W₂²`, the pivots, the duality gap and the solver's memory estimate.

#[path = "support/npy.rs"]
mod npy;
use npy::write;

use deeptransport::wasserstein::exact::{ExactOptions, exact, memory_bytes};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
#[path = "support/timing.rs"]
mod timing;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() == 5, "usage: bench_w2 N D REPEATS DIR");
    let n: usize = args[1].parse().expect("N");
    let d: usize = args[2].parse().expect("D");
    let repeats: usize = args[3].parse().expect("REPEATS");
    let dir = &args[4];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let x = Array2::from_shape_fn((n, d), |_| StandardNormal.sample(&mut rng));
    let y = Array2::from_shape_fn((n, d), |_| {
        0.8 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng) + 0.5
    });
    write(&format!("{dir}/w2_x_{n}_{d}.npy"), &x);
    write(&format!("{dir}/w2_y_{n}_{d}.npy"), &y);
    let t = timing::repeat(repeats, 1, || {
        exact(x.view(), y.view(), None, None, &ExactOptions::default()).expect("exact")
    });
    let r = &t.last;
    println!(
        "{{\"solver\": \"deeptransport exact\", \"n\": {n}, \"d\": {d}, \"times\": {:?}, \
         \"median\": {}, \"w2_squared\": {}, \"pivots\": {}, \"status\": \"{:?}\", \
         \"duality_gap\": {:e}, \"memory_bytes\": {}}}",
        t.times,
        t.median,
        r.ot.cost,
        r.ot.iterations,
        r.ot.status,
        r.duality_gap,
        memory_bytes(n, n, d)
    );
}
