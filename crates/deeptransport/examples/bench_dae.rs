//! Times the empirical optimal DAE Φ_t and the deep DAE (blurring mean shift), Gaussian noise, on
//! `.npy` inputs; used by `bench/run.sh`.
//!
//! ```text
//! cargo run --release --example bench_dae -- DATA.npy QUERY.npy T REPEATS OUT.npy
//! cargo run --release --example bench_dae -- deep DATA.npy TAU LAYERS REPEATS OUT.npy
//! ```
//! Prints one JSON object: the wall-clock seconds of every repeat and their median. Writes Φ_t
//! (or the particles after the last layer) of the last repeat to OUT.npy so that the driver can
//! check it against the peers. The environment variable `PRECISION=f32` selects the `f32` kernel
//! (`dae::Precision::F32`; default `f64`), and `DEEPTRANSPORT_SIMD` the SIMD path (default: the widest).

#[path = "support/npy.rs"]
mod npy;
use npy::{read, write};

use deeptransport::dae::{self, Precision};
use deeptransport::{flow::deep, measure::Empirical, noise::Noise};
use ndarray::Array2;
#[path = "support/timing.rs"]
mod timing;

/// Runs `work` `repeats` times; prints the timings as JSON and writes the last result.
fn time(repeats: usize, out: &str, precision: Precision, mut work: impl FnMut() -> Array2<f64>) {
    let simd = timing::simd_path_from_env();
    let t = timing::repeat(repeats, 1, &mut work);
    write(out, &t.last);
    println!(
        "{{\"times\": {:?}, \"median\": {}, \"threads\": {}, \"precision\": \"{precision}\", \"simd\": \"{simd}\"}}",
        t.times,
        t.median,
        rayon::current_num_threads()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let precision: Precision = std::env::var("PRECISION")
        .map_or(Ok(Precision::F64), |p| p.parse())
        .expect("PRECISION is f64 or f32");
    if args.get(1).map(String::as_str) == Some("deep") {
        assert!(
            args.len() == 7,
            "usage: bench_dae deep DATA.npy TAU LAYERS REPEATS OUT.npy"
        );
        let x = read(&args[2]);
        let tau: f64 = args[3].parse().expect("TAU");
        let layers: u64 = args[4].parse().expect("LAYERS");
        let taus = deep::constant_schedule(tau, layers).expect("valid schedule");
        time(
            args[5].parse().expect("REPEATS"),
            &args[6],
            precision,
            || {
                let r = deep::deep_dae_with(
                    x.view(),
                    None,
                    Noise::Gaussian,
                    &taus,
                    None,
                    precision,
                    &|_| {},
                )
                .expect("deep DAE");
                r.particles.last().to_owned()
            },
        );
        return;
    }
    assert!(
        args.len() == 6,
        "usage: bench_dae DATA.npy QUERY.npy T REPEATS OUT.npy"
    );
    let x = read(&args[1]);
    let q = read(&args[2]);
    let t: f64 = args[3].parse().expect("T");
    let mu = Empirical::new(x).expect("valid data");
    time(
        args[4].parse().expect("REPEATS"),
        &args[5],
        precision,
        || dae::empirical_with(&mu, Noise::Gaussian, t, q.view(), precision, &|_| {}).expect("Φ_t"),
    );
}
