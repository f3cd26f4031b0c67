//! `deeptransport deep`: compositions of optimal DAEs (Section 3.1), as a trajectory file.

use crate::io::{self, Output};
use crate::{BadInput, Common, limits, progress};
use anyhow::Result;
use deeptransport::dae::Precision;
use deeptransport::flow::{Trajectory, deep, gaussian};
use deeptransport::measure::Measure;
use deeptransport::noise::Noise;
use ndarray::{Array2, Axis};
use std::path::PathBuf;

/// Compose optimal DAEs, Φ_{0:L} = Φ_L ∘ … ∘ Φ_0: layer ℓ is the optimal DAE of the current
/// pushforward μ_ℓ with noise variance τ_ℓ, and the output is the trajectory of the query points
/// (or of the data), shape (L+1, n, d).
///
/// With --data the particles are the data themselves (Gaussian noise: blurring mean shift) and
/// query points are carried by the same layer maps; with a Gaussian --measure the closed-form
/// recursion Σ_{ℓ+1} = A_ℓ Σ_ℓ A_ℓ, A_ℓ = (I + τ_ℓ Σ_ℓ⁻¹)⁻¹ moves the queries exactly.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    deeptransport deep --data points.csv --tau 0.05 --layers 20 --out traj.npy\n  \
    deeptransport deep --data points.npy --tau 0.1,0.05,0.02 --query grid.csv --out traj.npy --json\n  \
    deeptransport deep --measure gauss.json --tau 0.05 --layers 10 --query grid.csv --out traj.npy\n  \
    deeptransport deep --data points.npy --tau 0.05 --layers 20 --precision f32 --out traj.npy")]
pub struct Args {
    /// Data points (CSV or NPY): the particles of the deep DAE.
    #[arg(long, value_name = "FILE", group = "input")]
    data: Option<PathBuf>,
    /// A measure spec (JSON). A Gaussian moves the queries in closed form; a mixture is sampled
    /// (--samples, --seed) and its sample moved as particles.
    #[arg(long, value_name = "SPEC.json", group = "input")]
    measure: Option<PathBuf>,
    /// Noise variance per layer: one value for every layer, or a comma list, one per layer.
    #[arg(
        long,
        value_name = "TAU",
        value_delimiter = ',',
        allow_negative_numbers = true,
        required = true
    )]
    tau: Vec<f64>,
    /// Number of layers L (required with a single --tau; with a list it must match its length).
    #[arg(long, value_name = "L", allow_negative_numbers = true,
          value_parser = limits::count::<1, u64>)]
    layers: Option<u64>,
    /// Noise family of every layer (particles only; a Gaussian measure is Gaussian noise).
    #[arg(long, default_value = "gaussian", value_name = "NOISE")]
    noise: String,
    /// Query points carried by the layer maps (default: the data, or samples of the measure).
    #[arg(long, value_name = "FILE")]
    query: Option<PathBuf>,
    /// With --measure and no --query, or a mixture measure: how many points to sample.
    #[arg(long, default_value_t = 1000, value_name = "N", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    samples: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0, value_name = "S", allow_negative_numbers = true,
          value_parser = limits::count::<0, u64>)]
    seed: u64,
    /// Output trajectory (.npy, shape (L+1, n, d)).
    #[arg(long, value_name = "TRAJ.npy")]
    out: PathBuf,
    /// Floating-point precision of the particle layers (--data, or a sampled mixture): f64 (default), or f32 for
    /// Gaussian noise in d ≤ 3 on a CPU with AVX-512 or AVX2 — about twice as fast, within a
    /// stated bound of f64 (`kernel::softmax_mean_f32`; typically 1e-6 on unit-scale data).
    #[arg(long, default_value = "f64", value_name = "f64|f32", value_parser = ["f64", "f32"])]
    precision: String,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// The per-layer variances from `--tau` and `--layers`, refusing absurd depths before allocating.
/// One variance needs `--layers` (the contract's `--tau TAU --layers L`); a list gives the depth.
fn schedule(tau: &[f64], layers: Option<u64>) -> Result<Vec<f64>> {
    match (tau, layers) {
        ([t], Some(l)) => {
            super::check_variance("--tau", *t)?;
            deep::constant_schedule(*t, l).map_err(|e| BadInput::new(format!("--layers {l}: {e}")))
        }
        ([t], None) => Err(BadInput::new(format!(
            "--tau {}: one variance needs --layers L, the number of layers (or give one variance \
             per layer as a comma list, --tau 0.1,0.05,…)",
            deeptransport::error::fmt_num(*t)
        ))),
        (list, l) => {
            if let Some(l) = l.filter(|&l| l != list.len() as u64) {
                return Err(BadInput::new(format!(
                    "--layers {l} but --tau lists {} values; give one per layer",
                    list.len()
                )));
            }
            for (k, &t) in list.iter().enumerate() {
                super::check_variance(&format!("--tau value {}", k + 1), t)?;
            }
            Ok(list.to_vec())
        }
    }
}

pub fn run(a: Args) -> Result<()> {
    let taus = schedule(&a.tau, a.layers)?;
    let noise = super::parse_noise(&a.noise)?;
    let precision: Precision = a
        .precision
        .parse()
        .map_err(|e| BadInput::new(format!("--precision: {e}")))?;
    let out = Output::trajectory(&a.out, "shape (L+1, n, d)")?;
    let (source, measure) = match (&a.data, &a.measure) {
        (Some(p), _) => (p.clone(), None),
        (None, Some(p)) => (p.clone(), Some(io::read_measure(p)?)),
        (None, None) => return Err(BadInput::new("give --data FILE or --measure SPEC.json")),
    };
    let read = match &measure {
        None => Some(io::read_points(&source)?),
        Some(_) => None,
    };
    let d = read
        .as_ref()
        .map_or_else(|| measure.as_ref().map_or(0, |m| m.dim()), |x| x.ncols());
    let queries = match &a.query {
        Some(qp) => Some(io::read_queries(qp, d, &source)?),
        None => None,
    };
    check_memory(&a, &taus, d, &measure, read.as_ref(), queries.as_ref())?;
    let data: Option<Array2<f64>> = match &measure {
        None => read,
        Some(Measure::Gaussian(_)) => None,
        Some(m) => Some(super::sample_queries(a.samples, a.seed, |n, rng| {
            m.sample(n, rng)
        })),
    };
    let (traj, method) = match (&measure, data) {
        (Some(Measure::Gaussian(g)), _) => {
            if precision == Precision::F32 {
                return Err(BadInput::new(
                    "--precision f32 applies to particles only; a Gaussian measure is moved in \
                     closed form, in f64",
                ));
            }
            if noise != Noise::Gaussian {
                return Err(BadInput::new(
                    "a Gaussian measure is moved in closed form under Gaussian noise only; \
                     sample it and pass --data for other noise",
                ));
            }
            let q = match queries {
                Some(q) => q,
                None => super::sample_queries(a.samples, a.seed, |n, rng| g.sample(n, rng)),
            };
            let layers = gaussian::composition_map(g, &taus, q.view())
                .map_err(|e| anyhow::Error::new(e).context(source.display().to_string()))?;
            (
                Trajectory::from_layers(layers, deep::cumulative_times(&taus))?,
                "closed form (METHODS §4)",
            )
        }
        (_, Some(x)) => {
            let n_rows = x.nrows() + queries.as_ref().map_or(0, |q| q.nrows());
            let pairs = taus.len() as f64 * n_rows as f64 * x.nrows() as f64 * d as f64;
            let bar = progress::bar(
                (taus.len() * n_rows) as u64,
                pairs,
                a.common.quiet,
                "deep DAE",
            );
            let r = deep::deep_dae_with(
                x.view(),
                None,
                noise,
                &taus,
                queries.as_ref().map(|q| q.view()),
                precision,
                &|k| bar.inc(k as u64),
            )
            .map_err(|e| anyhow::Error::new(e).context(source.display().to_string()))?;
            bar.finish_and_clear();
            (
                r.queries.unwrap_or(r.particles),
                "particles (empirical DAE per layer)",
            )
        }
        (_, None) => unreachable!("data is read or sampled unless the measure is Gaussian"),
    };
    out.commit_trajectory(&traj)?;

    let last = traj.last();
    let first = traj.first();
    let mean_displacement = (&last - &first)
        .map_axis(Axis(1), |r| r.dot(&r).sqrt())
        .mean()
        .unwrap_or(0.0);
    if a.json {
        let summary = serde_json::json!({
            "n": traj.n_points(),
            "dim": traj.dim(),
            "layers": taus.len(),
            "t": traj.times().last().copied().unwrap_or(0.0),
            "times": traj.times(),
            "noise": noise.to_string(),
            "precision": precision.to_string(),
            "simd": crate::simd_name(),
            "method": method,
            "mean_displacement": mean_displacement,
            "out": a.out.display().to_string(),
        });
        outln!("{summary}");
    } else {
        outln!(
            "deep DAE, {} layers, total t = {:?}, {noise} noise{} ({method}): trajectory of {} points in ℝ^{} → {} (mean displacement {mean_displacement:.6})",
            taus.len(),
            traj.times().last().copied().unwrap_or(0.0),
            if precision == Precision::F32 {
                " (f32)"
            } else {
                ""
            },
            traj.n_points(),
            traj.dim(),
            a.out.display()
        );
    }
    Ok(())
}

/// Refuses a trajectory that cannot be held: (L+1) slices of the particles and queries, the
/// working copies of a layer, and for a Gaussian the layer maps copied into the trajectory.
fn check_memory(
    a: &Args,
    taus: &[f64],
    d: usize,
    measure: &Option<Measure>,
    data: Option<&Array2<f64>>,
    queries: Option<&Array2<f64>>,
) -> Result<()> {
    let slices = taus.len() as f64 + 1.0;
    let m = queries.map(|q| q.nrows());
    let sampled = match measure {
        Some(Measure::Gaussian(_)) => m.is_none(),
        Some(_) => true,
        None => false,
    };
    let bytes = match measure {
        Some(Measure::Gaussian(_)) => {
            let m = m.unwrap_or(a.samples) as f64;
            8.0 * (2.0 * slices * m * d as f64 + 2.0 * slices * (d * d) as f64)
        }
        _ => {
            let n = data.map_or(a.samples, |x| x.nrows()) as f64;
            8.0 * d as f64 * (slices + 4.0) * (n + m.unwrap_or(0) as f64)
        }
    };
    let reduce = if sampled {
        "lower --layers or --samples"
    } else {
        "lower --layers, or move fewer points"
    };
    limits::check_memory(
        bytes,
        &format!(
            "--layers {}: a trajectory of {slices} slices in ℝ^{d}",
            taus.len()
        ),
        reduce,
    )
}
