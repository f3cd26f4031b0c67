//! Times log-domain Sinkhorn with ε-scaling (`wasserstein::sinkhorn::sinkhorn`) on `.npy` inputs;
//! used by `bench/peers/bench_sinkhorn.py`.
//!
//! ```text
//! cargo run --release --example bench_sinkhorn -- X.npy Y.npy EPS TOL REPEATS [SCALING]
//! cargo run --release --example bench_sinkhorn -- synthetic N EPS TOL REPEATS [SCALING]
//! ```
//! Environment: `LEVEL_TOL` (default 1e-4), `OVERRELAX=0` (disable adaptive over-relaxation) and
//! `KERNEL_CACHE_BYTES` (0: always stream) override the options of the same name; `DEEPTRANSPORT_SIMD`
//! forces a SIMD path. `synthetic N` draws two standardised 2-D clouds of `N` points (a Gaussian and a two-component
//! mixture, each centred and scaled to unit variance per coordinate) from a fixed seed. Prints one
//! JSON object: the wall-clock seconds of every repeat, their median, the sweeps, the recomputed
//! `ℓ₁` marginal error, the cost `⟨P, C⟩`, the dual objective and the thread count.

#[path = "support/npy.rs"]
mod npy;
use npy::read;

use deeptransport::wasserstein::sinkhorn::{SinkhornOptions, sinkhorn};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
#[path = "support/timing.rs"]
mod timing;

/// Centres and scales every coordinate to unit variance.
fn standardise(mut a: Array2<f64>) -> Array2<f64> {
    let mean = a.mean_axis(Axis(0)).expect("non-empty");
    a -= &mean;
    let sd = a
        .map_axis(Axis(0), |c| c.dot(&c) / c.len() as f64)
        .mapv(f64::sqrt);
    a /= &sd;
    a
}

fn synthetic(n: usize) -> (Array2<f64>, Array2<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let x = Array2::from_shape_fn((n, 2), |_| StandardNormal.sample(&mut rng));
    let y = Array2::from_shape_fn((n, 2), |(i, k)| {
        let z: f64 = StandardNormal.sample(&mut rng);
        let centre = if i % 2 == 0 { 2.0 } else { -2.0 };
        0.5 * z + if k == 0 { centre } else { 0.0 }
    });
    (standardise(x), standardise(y))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 6 || args.len() == 7,
        "usage: bench_sinkhorn (X.npy Y.npy | synthetic N) EPS TOL REPEATS [SCALING]"
    );
    let (x, y) = if args[1] == "synthetic" {
        synthetic(args[2].parse().expect("N"))
    } else {
        (read(&args[1]), read(&args[2]))
    };
    let opts = SinkhornOptions {
        eps: args[3].parse().expect("EPS"),
        tol: args[4].parse().expect("TOL"),
        scaling_factor: args.get(6).map_or(16.0, |s| s.parse().expect("SCALING")),
        level_tol: std::env::var("LEVEL_TOL").map_or(1e-4, |v| v.parse().expect("LEVEL_TOL")),
        overrelaxation: std::env::var("OVERRELAX").map_or(true, |v| v != "0"),
        kernel_cache_bytes: std::env::var("KERNEL_CACHE_BYTES")
            .map_or(SinkhornOptions::default().kernel_cache_bytes, |v| {
                v.parse().expect("KERNEL_CACHE_BYTES")
            }),
        ..SinkhornOptions::default()
    };
    let repeats: usize = args[5].parse().expect("REPEATS");
    let simd = timing::simd_path_from_env();
    let t = timing::repeat(repeats, 1, || {
        sinkhorn(x.view(), y.view(), None, None, &opts).expect("sinkhorn")
    });
    let r = &t.last;
    println!(
        "{{\"times\": {:?}, \"median\": {}, \"iterations\": {}, \"marginal_error\": {:e}, \
         \"converged\": {}, \"cost\": {}, \"dual\": {}, \"threads\": {}, \"simd\": \"{simd}\"}}",
        t.times,
        t.median,
        r.ot.iterations,
        r.marginal_error,
        r.converged,
        r.ot.cost,
        r.dual_objective,
        rayon::current_num_threads()
    );
}
