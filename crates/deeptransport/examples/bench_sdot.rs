//! Times one iteration of the semi-discrete OT solvers (`sdot`, issue 14) on seeded synthetic
//! targets; `bench/peers/bench_sdot.py` times pyOMT's algorithm (the full `N × n` score matrix,
//! argmax and Adam per iteration) in NumPy and PyTorch on the same `.npy` files.
//!
//! ```text
//! cargo run --release --example bench_sdot -- qmc N_TARGETS D SAMPLES ITERATIONS DIR
//! cargo run --release --example bench_sdot -- newton N_TARGETS REPEATS
//! ```
//! `qmc`: targets `y` (standard normal, `n × d`) and QMC samples `x` (`SAMPLES × d`, shifted Sobol
//! on the cube, seed 0), written to `DIR/sdot_y_N_D.npy` and `DIR/sdot_x_SAMPLES_D.npy`; then
//! ITERATIONS Adam steps on the uniform target measure, each with its exact cell masses. Prints one
//! JSON line: seconds per iteration (median over the iterations) with the cached assignment, the
//! same with a full scan every step, the error reached, and a check that both paths gave equal
//! masses at every step. `newton`: n uniform targets in the square, uniform masses, solved to
//! 1e-10 REPEATS times; prints the times, Newton steps and the mass error.

#[path = "support/npy.rs"]
mod npy;
#[path = "support/timing.rs"]
mod timing;

use deeptransport::sdot::newton2d::{Newton2dOptions, newton_2d};
use deeptransport::sdot::qmc::{Adam, CellCounter, SobolSamples, initial_step};
use deeptransport::sdot::{Source, max_relative_error};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = timing::simd_path_from_env();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    match args.get(1).map(String::as_str) {
        Some("qmc") if args.len() == 7 => {
            let n: usize = args[2].parse().expect("N_TARGETS");
            let d: usize = args[3].parse().expect("D");
            let samples: usize = args[4].parse().expect("SAMPLES");
            let iterations: usize = args[5].parse().expect("ITERATIONS");
            let dir = &args[6];
            let y = Array2::from_shape_fn((n, d), |_| StandardNormal.sample(&mut rng));
            let x = SobolSamples::new(d, Source::Cube, 0)
                .expect("dimension")
                .take(samples);
            npy::write(&format!("{dir}/sdot_y_{n}_{d}.npy"), &y);
            npy::write(&format!("{dir}/sdot_x_{samples}_{d}.npy"), &x);
            let nu = Array1::from_elem(n, 1.0 / n as f64);
            let lr = initial_step(y.view());
            let mut h = Array1::zeros(n);
            let mut cells = CellCounter::new(x, y.view(), h.view());
            let mut adam = Adam::new(n);
            let (mut cached, mut full, mut equal) = (Vec::new(), Vec::new(), true);
            let mut mass = cells.masses(h.view());
            for _ in 0..iterations {
                adam.step(&mut h, &(&mass - &nu), lr);
                let t = Instant::now();
                mass = cells.masses(h.view());
                cached.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let reference = cells.masses_full_scan(h.view());
                full.push(t.elapsed().as_secs_f64());
                equal &= reference == mass;
            }
            println!(
                "{{\"case\": \"qmc\", \"n\": {n}, \"d\": {d}, \"samples\": {samples}, \
                 \"iterations\": {iterations}, \"seconds_per_iteration\": {}, \
                 \"full_scan_seconds_per_iteration\": {}, \"masses_equal_full_scan\": {equal}, \
                 \"max_mass_error\": {}, \"lr\": {lr}, \"simd\": \"{path}\"}}",
                median(cached),
                median(full),
                max_relative_error(mass.view(), nu.view())
            );
        }
        Some("newton") if args.len() == 4 => {
            let n: usize = args[2].parse().expect("N_TARGETS");
            let repeats: usize = args[3].parse().expect("REPEATS");
            let y = Array2::from_shape_fn((n, 2), |_| rng.random_range(-0.5..0.5));
            let nu = Array1::from_elem(n, 1.0 / n as f64);
            let opts = Newton2dOptions {
                tol: 1e-10,
                max_iter: 100,
            };
            let t = timing::repeat(repeats, 1, || {
                newton_2d(y.view(), nu.view(), None, &opts).expect("newton")
            });
            println!(
                "{{\"case\": \"newton\", \"n\": {n}, \"times\": {:?}, \"median\": {}, \
                 \"newton_steps\": {}, \"max_mass_error\": {:e}, \"converged\": {}, \"simd\": \"{path}\"}}",
                t.times, t.median, t.last.iterations, t.last.max_mass_error, t.last.converged
            );
        }
        _ => panic!(
            "usage: bench_sdot qmc N_TARGETS D SAMPLES ITERATIONS DIR | bench_sdot newton N REPEATS"
        ),
    }
}
