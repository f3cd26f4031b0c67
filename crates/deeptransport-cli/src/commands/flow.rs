//! `deeptransport flow`: the continuous DAE (Definition 3.1), as a trajectory file.

use crate::io::{self, Output};
use crate::{BadInput, Common, limits, progress};
use anyhow::Result;
use deeptransport::flow::continuous::{self, FlowSource, SmoothedData};
use deeptransport::flow::ode::{ErrorNorm, OdeOptions};
use deeptransport::measure::{Empirical, Measure};
use ndarray::{Array2, Axis};
use std::path::PathBuf;

/// Integrate the continuous DAE dx/dt = ∇log μ_t(x) (Definition 3.1), where μ_t = φ_t♯μ₀ solves
/// the backward heat equation, and write the trajectory of the query points, shape (T, n, d).
///
/// A Gaussian --measure N(m, Σ) moves the points in closed form (eq. 12),
/// φ_t(x) = (I − 2tΣ⁻¹)^{1/2}(x − m) + m. A mixture Σ_k π_k N(m_k, Σ_k) has
/// μ_t = Σ_k π_k N(m_k, Σ_k − 2tI), and --data with --bandwidth H is the mixture
/// Σ_i w_i N(x_i, (H − 2t)I) (the data smoothed by a Gaussian of variance H): both are integrated
/// by the adaptive Dormand–Prince 5(4) method on the exact score. The flow exists up to the first
/// singular time t* (λ_min/2 of the covariances, H/2 for data); --t at or past it is refused.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["data", "measure"])))]
#[command(after_help = "Examples:\n  \
    deeptransport flow --measure gauss.json --t 0.4 --times 0.1,0.2,0.3 --query grid.csv --out traj.npy\n  \
    deeptransport flow --measure mix.json --t 0.2 --samples 2000 --seed 1 --out traj.npy --json\n  \
    deeptransport flow --data points.csv --bandwidth 0.1 --t 0.049 --rtol 1e-10 --out traj.npy\n\n\
    The times of the slices are written to TRAJ.times.csv (one column, header t) and, with --json,\n\
    as the \"times\" key.")]
pub struct Args {
    /// Data points (CSV or NPY): μ₀ is the data smoothed by a Gaussian of variance --bandwidth.
    #[arg(long, value_name = "FILE", conflicts_with = "measure")]
    data: Option<PathBuf>,
    /// One non-negative weight per data row (CSV column or NPY); default uniform.
    #[arg(long, value_name = "FILE", requires = "data")]
    weights: Option<PathBuf>,
    /// Kernel variance H > 0 of the smoothing of --data (required with --data); t* = H/2.
    #[arg(
        long,
        value_name = "H",
        requires = "data",
        allow_negative_numbers = true
    )]
    bandwidth: Option<f64>,
    /// A measure spec (JSON): a Gaussian (closed form) or a Gaussian mixture (integrated).
    #[arg(long, value_name = "SPEC.json")]
    measure: Option<PathBuf>,
    /// Final time T > 0 (a variance, like the DAE's t); must be below the singular time t*.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    t: f64,
    /// Intermediate output times, comma separated, non-decreasing, each in [0, T]; the
    /// trajectory holds t = 0, these, then T.
    #[arg(
        long,
        value_name = "T1,T2,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    times: Vec<f64>,
    /// Query points to move (default: the data; with --measure, --samples draws from it).
    #[arg(long, value_name = "FILE")]
    query: Option<PathBuf>,
    /// With --measure and no --query: how many points to sample from the measure.
    #[arg(long, default_value_t = 1000, value_name = "N", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    samples: usize,
    /// Seed of that sample.
    #[arg(long, default_value_t = 0, value_name = "S", allow_negative_numbers = true,
          value_parser = limits::count::<0, u64>)]
    seed: u64,
    /// Output trajectory (.npy, shape (T, n, d)); the times go to TRAJ.times.csv.
    #[arg(long, value_name = "TRAJ.npy")]
    out: PathBuf,
    /// Relative tolerance of the integrator: the local error estimate of each step, scaled by
    /// atol + rtol·|x| per coordinate, must have norm ≤ 1 (see --error-norm).
    #[arg(
        long,
        default_value_t = 1e-8,
        value_name = "R",
        allow_negative_numbers = true
    )]
    rtol: f64,
    /// Absolute tolerance of the integrator (default: equal to --rtol).
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    atol: Option<f64>,
    /// rms: Hairer's root-mean-square over all n·d coordinates (standard; one outlying point may
    /// carry up to √(n·d) times the tolerance); max: every coordinate of every point within
    /// tolerance at every step (more steps on large point sets).
    #[arg(long, value_enum, default_value_t = NormArg::Rms, value_name = "NORM")]
    error_norm: NormArg,
    /// Most integrator steps (accepted + rejected) before giving up.
    #[arg(long, default_value_t = 100_000, value_name = "N", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    max_steps: usize,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// `--error-norm`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum NormArg {
    /// Root-mean-square (Hairer).
    Rms,
    /// Maximum.
    Max,
}

/// Checks `--t`, `--times`, the tolerances and `--bandwidth`, and returns the output times after
/// 0: the `--times` values, then `T` (once).
fn check_flags(a: &Args) -> Result<Vec<f64>> {
    // T is a variance like the DAE's t, under the same rule.
    let t = super::check_variance("--t", a.t)?;
    let min_rtol = deeptransport::flow::ode::MIN_RTOL;
    if !(a.rtol.is_finite() && a.rtol >= min_rtol) {
        return Err(BadInput::new(format!(
            "--rtol {:?}: the relative tolerance must be a finite number ≥ {min_rtol:e} (below \
             that the integrator's own rounding error exceeds it and no step can meet it)",
            a.rtol
        )));
    }
    if let Some(atol) = a.atol
        && !(atol.is_finite() && atol >= 0.0)
    {
        return Err(BadInput::new(format!(
            "--atol {atol:?}: the absolute tolerance must be a finite number ≥ 0"
        )));
    }
    if a.data.is_some() {
        match a.bandwidth {
            None => {
                return Err(BadInput::new(
                    "--data needs --bandwidth H: μ₀ is the data smoothed by a Gaussian of \
                     variance H (the flow reaches the data points at t = H/2)",
                ));
            }
            Some(h) if !(h.is_finite() && h > 0.0) => {
                return Err(BadInput::new(format!(
                    "--bandwidth {h:?}: the kernel variance must be a finite number > 0"
                )));
            }
            Some(_) => {}
        }
    }
    let mut prev = 0.0;
    for (k, &s) in a.times.iter().enumerate() {
        if !(s.is_finite() && s >= prev && s <= t) {
            return Err(BadInput::new(format!(
                "--times: value {} is {s:?}; times must be finite, non-decreasing and in \
                 [0, T = {t:?}]",
                k + 1
            )));
        }
        prev = s;
    }
    let mut out = a.times.clone();
    if out.last() != Some(&t) {
        out.push(t);
    }
    Ok(out)
}

pub fn run(a: Args) -> Result<()> {
    let times = check_flags(&a)?;
    let out = Output::trajectory(&a.out, "shape (T, n, d)")?;

    let (source, default_query, file) = match (&a.data, &a.measure) {
        (Some(path), _) => {
            let x = io::read_points(path)?;
            let mu = match &a.weights {
                Some(wp) => Empirical::weighted(x.clone(), io::read_weights(wp, x.nrows())?)?,
                None => Empirical::new(x.clone())?,
            };
            let h = a.bandwidth.expect("checked with --data");
            (
                FlowSource::SmoothedData(SmoothedData::new(mu, h)?),
                Some(x),
                path.clone(),
            )
        }
        (None, Some(path)) => {
            let src = match io::read_measure(path)? {
                Measure::Gaussian(g) => FlowSource::Gaussian(g),
                Measure::Mixture(m) => FlowSource::Mixture(m),
                Measure::Empirical(_) => unreachable!("a measure spec is a Gaussian or mixture"),
            };
            (src, None, path.clone())
        }
        (None, None) => unreachable!("clap requires --data or --measure"),
    };
    let d = source.dim();
    let t_star = continuous::singular_time(&source)
        .map_err(|e| anyhow::Error::new(e).context(file.display().to_string()))?;
    // Refuse a T past the singular time before reading or sampling any query.
    if a.t >= t_star {
        return Err(anyhow::Error::new(deeptransport::Error::PastSingularTime {
            t: a.t,
            singular_time: t_star,
            what: match &source {
                FlowSource::SmoothedData(_) => format!(
                    "the data smoothed with bandwidth H = {:?} (t* = H/2)",
                    a.bandwidth.unwrap_or(0.0)
                ),
                FlowSource::Gaussian(_) => "the Gaussian μ₀ (t* = λ_min(Σ)/2, eq. 12)".into(),
                FlowSource::Mixture(_) => {
                    "the Gaussian mixture μ₀ (t* = min_k λ_min(Σ_k)/2)".into()
                }
            },
        })
        .context(format!("{}: --t {:?}", file.display(), a.t)));
    }
    let given: Option<Array2<f64>> = match (&a.query, default_query) {
        (Some(qp), _) => Some(io::read_queries(qp, d, &file)?),
        (None, x) => x,
    };
    // The trajectory (T slices) and the integrator's dense output at the same times, plus about
    // twelve n·d vectors of Dormand–Prince stages and work space.
    let m = given.as_ref().map_or(a.samples, |q| q.nrows());
    let slices = times.len() as f64 + 1.0;
    limits::check_memory(
        8.0 * d as f64 * m as f64 * (2.0 * slices + 12.0),
        &if given.is_some() {
            format!("{m} query points in ℝ^{d} at {slices} times")
        } else {
            format!("--samples {m}: {m} points in ℝ^{d} at {slices} times")
        },
        if given.is_some() {
            "move fewer points, or give fewer --times"
        } else {
            "lower --samples, or give fewer --times"
        },
    )?;
    let queries = match given {
        Some(q) => q,
        None => super::sample_queries(a.samples, a.seed, |n, rng| match &source {
            FlowSource::Gaussian(g) => g.sample(n, rng),
            FlowSource::Mixture(m) => m.sample(n, rng),
            FlowSource::SmoothedData(_) => unreachable!("data is its own default query"),
        }),
    };

    let opts = OdeOptions {
        rtol: a.rtol,
        atol: a.atol.unwrap_or(a.rtol),
        max_steps: a.max_steps,
        norm: match a.error_norm {
            NormArg::Rms => ErrorNorm::Rms,
            NormArg::Max => ErrorNorm::Max,
        },
        ..OdeOptions::default()
    };
    // Cost of one RHS per query row, times a typical 60 evaluations, to decide on a bar.
    let per_rhs = match &source {
        FlowSource::Gaussian(_) => 0.0,
        FlowSource::Mixture(m) => (m.components().len() * d * d) as f64,
        FlowSource::SmoothedData(s) => (s.data().len() * d) as f64,
    };
    let bar = progress::bar(
        1000,
        60.0 * per_rhs * queries.nrows() as f64,
        a.common.quiet,
        "continuous DAE",
    );
    let flow = continuous::continuous_dae(&source, queries.view(), &times, &opts, &mut |f| {
        bar.set_position((f * 1000.0).round() as u64)
    })
    .map_err(|e| anyhow::Error::new(e).context(file.display().to_string()))?;
    bar.finish_and_clear();

    let traj = &flow.trajectory;
    out.commit_trajectory(traj)?;

    let mean_displacement = (&traj.last() - &traj.first())
        .map_axis(Axis(1), |r| r.dot(&r).sqrt())
        .mean()
        .unwrap_or(0.0);
    let method = if flow.closed_form {
        "closed form (eq. 12)"
    } else {
        "dopri5"
    };
    let s = flow.stats;
    if a.json {
        let summary = serde_json::json!({
            "t": a.t,
            "singular_time": flow.singular_time,
            "steps": s.steps,
            "rejected_steps": s.rejected_steps,
            "max_error_estimate": s.max_error_estimate,
            "rhs_evaluations": s.rhs_evaluations,
            "n_query": traj.n_points(),
            "dim": traj.dim(),
            "times": traj.times(),
            "source": match &source {
                FlowSource::Gaussian(_) => "gaussian",
                FlowSource::Mixture(_) => "mixture",
                FlowSource::SmoothedData(_) => "data",
            },
            "bandwidth": a.bandwidth.filter(|_| a.data.is_some()),
            "method": method,
            "simd": crate::simd_name(),
            "rtol": opts.rtol,
            "atol": opts.atol,
            "error_norm": match a.error_norm { NormArg::Rms => "rms", NormArg::Max => "max" },
            "mean_displacement": mean_displacement,
            "out": a.out.display().to_string(),
            "times_file": io::trajectory_times_path(&a.out).display().to_string(),
        });
        outln!("{summary}");
    } else {
        let what = match &source {
            FlowSource::Gaussian(_) => "Gaussian".to_string(),
            FlowSource::Mixture(m) => format!("{}-component mixture", m.components().len()),
            FlowSource::SmoothedData(d) => format!(
                "{} data points smoothed with H = {:?}",
                d.data().len(),
                d.bandwidth()
            ),
        };
        let how = if flow.closed_form {
            method.to_string()
        } else {
            format!(
                "DOPRI5, {} steps ({} rejected), max local error estimate {:.3e}",
                s.steps, s.rejected_steps, s.max_error_estimate
            )
        };
        outln!(
            "continuous DAE of the {what} to t = {:?} (singular time t* = {:?}), {how}: {} points in ℝ^{} at {} times → {} (times in {}; mean displacement {mean_displacement:.6})",
            a.t,
            flow.singular_time,
            traj.n_points(),
            traj.dim(),
            traj.len_times(),
            a.out.display(),
            io::trajectory_times_path(&a.out).display()
        );
    }
    Ok(())
}
