//! Times the Bures–Wasserstein distance `wasserstein::bures::bures_w2_squared` between two
//! Gaussians given as `.npy` files; `bench/peers/bench_bures.py` times SciPy and NumPy on the
//! same files.
//!
//! ```text
//! cargo run --release --example bench_bures -- A.npy B.npy CALLS REPEATS
//! ```
//! Each file is a `(d + 1) × d` array: row 0 the mean, rows 1..=d the SPD covariance. The
//! Gaussians are built once (as the peers receive ready arrays); each repeat times a loop of CALLS
//! calls, because one call takes about a millisecond. Prints one JSON object: the seconds per call
//! of every repeat, their median and `W₂²`.

#[path = "support/npy.rs"]
mod npy;
use npy::read;

use deeptransport::measure::Gaussian;
use deeptransport::wasserstein::bures::bures_w2_squared;
use ndarray::s;
#[path = "support/timing.rs"]
mod timing;

/// Reads a `(d + 1) × d` mean-and-covariance file into a `Gaussian`.
fn gaussian(path: &str) -> Gaussian {
    let a = read(path);
    assert!(a.nrows() == a.ncols() + 1, "{path}: expected (d + 1) × d");
    Gaussian::new(a.row(0).to_owned(), a.slice(s![1.., ..]).to_owned()).expect("SPD covariance")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 5,
        "usage: bench_bures A.npy B.npy CALLS REPEATS"
    );
    let a = gaussian(&args[1]);
    let b = gaussian(&args[2]);
    let calls: usize = args[3].parse().expect("CALLS");
    let repeats: usize = args[4].parse().expect("REPEATS");
    assert!(
        calls > 0 && repeats > 0,
        "CALLS and REPEATS must be positive"
    );
    let t = timing::repeat(repeats, calls, || {
        let mut w2 = f64::NAN;
        for _ in 0..calls {
            // black_box: the loop must not be hoisted as one call (the inputs never change).
            w2 = bures_w2_squared(std::hint::black_box(&a), std::hint::black_box(&b))
                .expect("Bures W2");
        }
        w2
    });
    println!(
        "{{\"impl\": \"deeptransport\", \"d\": {}, \"calls\": {calls}, \"times\": {:?}, \
         \"median\": {}, \"w2_squared\": {:?}, \"threads\": {}}}",
        a.dim(),
        t.times,
        t.median,
        t.last,
        rayon::current_num_threads()
    );
}
