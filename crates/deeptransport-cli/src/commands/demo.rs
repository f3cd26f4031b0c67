//! `deeptransport demo`: the main job on built-in data.
//!
//! A fixed 2-D Gaussian mixture μ₀ and a seeded sample from it. For several noise variances t the
//! optimal DAE of the sample (the exact empirical Φ_t) moves the sample; the closed form (7) of the
//! mixture's own Φ_t gives the population answer it estimates, and the velocity (Φ_t(x) − x)/t is
//! compared with the score ∇log μ₀ (8). Everything lands in `DIR/` with a `summary.json`.

use crate::io::Output;
use crate::{Common, progress};
use anyhow::{Context, Result};
use deeptransport::dae;
use deeptransport::measure::{Empirical, Gaussian, Measure, Mixture};
use deeptransport::noise::Noise;
use ndarray::{Array2, Axis, array};
use rand::SeedableRng;
use std::path::PathBuf;

/// Run the main job on built-in data: Φ_t of a 2-D Gaussian-mixture sample at several t, checked
/// against the closed form, written to DIR with a summary.json.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  deeptransport demo --out demo-output")]
pub struct Args {
    /// Output folder (created if missing).
    #[arg(long, default_value = "deeptransport-demo", value_name = "DIR")]
    out: PathBuf,
    /// Sample size drawn from the built-in mixture.
    #[arg(long, default_value_t = 4000, value_name = "N")]
    samples: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Noise variances the demo moves the data with.
const TIMES: [f64; 4] = [0.05, 0.2, 0.5, 1.0];
/// Small t at which the velocity is compared with the score.
const T_SCORE: f64 = 1e-4;

/// The built-in μ₀: three anisotropic Gaussian clusters in the plane.
pub fn builtin_mixture() -> Mixture {
    let comp = |m: [f64; 2], c: [[f64; 2]; 2]| {
        Gaussian::new(
            array![m[0], m[1]],
            array![[c[0][0], c[0][1]], [c[1][0], c[1][1]]],
        )
        .expect("built-in covariances are SPD")
    };
    Mixture::new(
        array![0.5, 0.3, 0.2],
        vec![
            comp([-2.0, 0.0], [[0.6, 0.25], [0.25, 0.4]]),
            comp([2.0, 1.0], [[0.3, -0.1], [-0.1, 0.5]]),
            comp([0.5, -2.5], [[0.8, 0.0], [0.0, 0.2]]),
        ],
    )
    .expect("built-in weights are valid")
}

pub fn run(a: Args) -> Result<()> {
    if a.samples == 0 {
        return Err(crate::BadInput::new("--samples must be at least 1"));
    }
    if a.samples > isize::MAX as usize / 16 {
        return Err(crate::BadInput::new(format!(
            "--samples {}: too many points to hold in memory",
            a.samples
        )));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| {
        crate::BadInput::new(format!("{}: cannot create folder: {e}", a.out.display()))
    })?;
    let mix = builtin_mixture();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let x = mix.sample(a.samples, &mut rng);
    Output::create(&a.out.join("data.csv"))?.commit_points(&x)?;
    let data = Empirical::new(x.clone())?;

    let n = x.nrows() as f64;
    let bar = progress::bar(
        (TIMES.len() * x.nrows()) as u64,
        TIMES.len() as f64 * n * n * 2.0,
        a.common.quiet,
        "demo: Φ_t",
    );
    let mut rows = Vec::new();
    for &t in &TIMES {
        let phi = dae::empirical(&data, Noise::Gaussian, t, x.view(), &|k| bar.inc(k as u64))?;
        let exact = dae::mixture(&mix, t, x.view())?;
        let name = format!("phi_t{t}.csv");
        Output::create(&a.out.join(&name))?.commit_points(&phi)?;
        rows.push(serde_json::json!({
            "t": t,
            "file": name,
            "mean_displacement": mean_norm(&(&phi - &x)),
            "closed_form_mean_displacement": mean_norm(&(&exact - &x)),
            "rms_empirical_vs_closed_form": rms(&(&phi - &exact)),
            "covariance_trace_before": trace(&Empirical::new(x.clone())?.covariance()),
            "covariance_trace_after": trace(&Empirical::new(phi.clone())?.covariance()),
        }));
    }
    bar.finish_and_clear();

    // Eq. (8): the velocity of the closed-form Φ_t at small t against the score.
    let mu = Measure::Mixture(mix.clone());
    let phi = dae::mixture(&mix, T_SCORE, x.view())?;
    let vel = dae::velocity(phi.view(), x.view(), T_SCORE);
    let score = dae::score(&mu, x.view())?;
    let score_err = rms(&(&vel - &score)) / rms(&score);

    let summary = serde_json::json!({
        "measure": "built-in 2-D Gaussian mixture (3 components)",
        "n": x.nrows(),
        "dim": 2,
        "seed": a.seed,
        "noise": "gaussian",
        "times": TIMES,
        "dae": rows,
        "velocity_vs_score": {
            "t": T_SCORE,
            "relative_rms_error": score_err,
            "claim": "(Φ_t(x) − x)/t → ∇log μ₀(x) as t → 0, error O(t) (eq. 8)",
        },
    });
    let text = serde_json::to_string_pretty(&summary)?;
    Output::file(&a.out.join("summary.json"))?
        .commit_bytes(text.as_bytes())
        .context("writing summary.json")?;
    if a.json {
        outln!("{summary}");
    } else {
        outln!(
            "deeptransport demo: {} points from a 2-D Gaussian mixture (seed {})",
            x.nrows(),
            a.seed
        );
        outln!(
            "  {:>5}  {:>12}  {:>12}  {:>14}  {:>10}",
            "t",
            "mean |Φ−x|",
            "closed form",
            "rms emp−exact",
            "tr Σ after"
        );
        for r in &rows {
            outln!(
                "  {:>5}  {:>12.6}  {:>12.6}  {:>14.3e}  {:>10.4}",
                r["t"].as_f64().unwrap_or(f64::NAN),
                r["mean_displacement"].as_f64().unwrap_or(f64::NAN),
                r["closed_form_mean_displacement"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
                r["rms_empirical_vs_closed_form"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
                r["covariance_trace_after"].as_f64().unwrap_or(f64::NAN),
            );
        }
        outln!(
            "  velocity vs score at t = {T_SCORE}: relative rms error {score_err:.2e} (eq. 8: O(t))"
        );
        outln!(
            "  wrote {}/{{data.csv, phi_t*.csv, summary.json}}",
            a.out.display()
        );
    }
    Ok(())
}

fn mean_norm(a: &Array2<f64>) -> f64 {
    a.map_axis(Axis(1), |r| r.dot(&r).sqrt())
        .mean()
        .unwrap_or(0.0)
}

fn rms(a: &Array2<f64>) -> f64 {
    (a.iter().map(|v| v * v).sum::<f64>() / a.nrows().max(1) as f64).sqrt()
}

fn trace(c: &Array2<f64>) -> f64 {
    c.diag().iter().sum()
}
