//! `deeptransport w2`: the Wasserstein-2 distance between two weighted point clouds, exactly
//! (network simplex; sorting in 1-D), entropically (Sinkhorn) or between the fitted Gaussians
//! (Bures–Wasserstein). METHODS §5–6.

use crate::io::{self, Format, Output};
use crate::progress::note;
use crate::{BadInput, Common, limits, progress};
use anyhow::Result;
use deeptransport::measure::{Empirical, Gaussian};
use deeptransport::wasserstein::exact::{ExactOptions, exact};
use deeptransport::wasserstein::one_d::w2_1d;
use deeptransport::wasserstein::sinkhorn::{SinkhornOptions, sinkhorn_divergence};
use deeptransport::wasserstein::{OtStatus, Plan, bures};
use ndarray::{Array1, Array2};
use std::path::{Path, PathBuf};

/// How `w2` computes the distance.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Exact optimal transport by the network simplex.
    Exact,
    /// Entropic optimal transport (log-domain Sinkhorn) and the Sinkhorn divergence.
    Sinkhorn,
    /// Bures–Wasserstein distance between the fitted Gaussians.
    Gaussian,
    /// Exact, by sorting (d = 1 only).
    #[value(name = "1d")]
    OneD,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Sinkhorn => "sinkhorn",
            Method::Gaussian => "gaussian",
            Method::OneD => "1d",
        }
    }
}

/// Wasserstein-2 distance between two point clouds, with the cost c(x, y) = |x − y|² (not
/// normalised) and uniform weights unless weight files are given.
///
/// Methods: exact — W₂² by the network simplex (costs computed from the coordinates, memory
/// O((n + m)·d); under a second for n = m = 4000 in d = 2); 1d — exact, by sorting (d = 1 only);
/// sinkhorn — entropic OT with regularisation ε·KL(P | a⊗b): reports the transport cost ⟨P, C⟩ of
/// the entropic plan as w2_squared, plus the debiased Sinkhorn divergence; gaussian — the
/// Bures–Wasserstein distance between the Gaussians fitted to the two clouds (weighted mean and
/// covariance; needs non-singular covariances).
///
/// --plan writes the coupling: for exact and 1d the non-zero entries, one row `i,j,mass` each
/// (0-based row indices into --a and --b; CSV with a header, or a (k, 3) .npy); for sinkhorn the
/// dense n × m matrix.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    deeptransport w2 --a before.csv --b after.csv\n  \
    deeptransport w2 --a x.npy --b y.npy --a-weights wx.csv --plan plan.csv --json\n  \
    deeptransport w2 --a x.npy --b y.npy --method sinkhorn --eps 0.01 --tol 1e-9 --json\n  \
    deeptransport w2 --a x.csv --b y.csv --method gaussian\n  \
    deeptransport w2 --a x1.csv --b y1.csv --method 1d --plan plan.npy\n  \
    deeptransport w2 --trajectory traj.npy --json")]
pub struct Args {
    /// First point cloud (CSV or NPY, one point per row).
    #[arg(
        long = "a",
        value_name = "FILE",
        required_unless_present = "trajectory"
    )]
    a: Option<PathBuf>,
    /// Second point cloud (same dimension).
    #[arg(
        long = "b",
        value_name = "FILE",
        required_unless_present = "trajectory"
    )]
    b: Option<PathBuf>,
    /// Instead of --a/--b: a trajectory file (.npy, (T, n, d), from `deep` or `flow`); prints
    /// the exact W₂ from the first slice to every slice (uniform weights).
    #[arg(long, value_name = "TRAJ.npy", conflicts_with_all = ["a", "b", "a_weights", "b_weights", "plan"])]
    trajectory: Option<PathBuf>,
    /// One non-negative weight per row of --a (CSV column or NPY); default uniform.
    #[arg(long, value_name = "FILE")]
    a_weights: Option<PathBuf>,
    /// One non-negative weight per row of --b; default uniform.
    #[arg(long, value_name = "FILE")]
    b_weights: Option<PathBuf>,
    /// exact (network simplex), sinkhorn (entropic), gaussian (Bures between fitted Gaussians),
    /// 1d (exact, by sorting; d = 1).
    #[arg(long, value_enum, default_value = "exact", value_name = "METHOD")]
    method: Method,
    /// Sinkhorn: the entropic regularisation ε > 0, in the units of |x − y|² (default 0.05).
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    eps: Option<f64>,
    /// Sinkhorn: the target ℓ₁ marginal error ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁ > 0 (default 1e-6).
    #[arg(long, value_name = "TOL", allow_negative_numbers = true)]
    tol: Option<f64>,
    /// Iteration limit: simplex pivots (exact; default 100·(n + m) + 100000) or Sinkhorn sweeps
    /// (default 100000).
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    max_iter: Option<usize>,
    /// Write the transport plan here (.csv or .npy): sparse rows i,j,mass for exact and 1d, the
    /// dense n × m matrix for sinkhorn.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    // Flags first: no file is read for a run that cannot succeed.
    if let Some(eps) = a.eps
        && !(eps.is_finite() && eps > 0.0)
    {
        return Err(BadInput::new(format!(
            "--eps {eps:?}: the entropic regularisation must be a finite number > 0"
        )));
    }
    if let Some(tol) = a.tol
        && !(tol.is_finite() && tol > 0.0)
    {
        return Err(BadInput::new(format!(
            "--tol {tol:?}: the marginal tolerance must be a finite number > 0"
        )));
    }
    if a.method != Method::Sinkhorn && (a.eps.is_some() || a.tol.is_some()) {
        note(&format!(
            "note: --eps and --tol apply to --method sinkhorn only; ignored by --method {}",
            a.method.name()
        ));
    }
    if a.method == Method::Gaussian && a.plan.is_some() {
        return Err(BadInput::new(
            "--plan: --method gaussian couples the fitted Gaussians, not the points, so it has \
             no plan; use --method exact or sinkhorn",
        ));
    }
    let plan_out = match &a.plan {
        Some(p) => Some((Output::create(p)?, io::format_of(p)?)),
        None => None,
    };

    if let Some(path) = &a.trajectory {
        return run_trajectory(&a, path);
    }
    let (pa, pb) = (
        a.a.clone().expect("clap requires --a"),
        a.b.clone().expect("clap requires --b"),
    );
    let x = io::read_points(&pa)?;
    let y = io::read_points(&pb)?;
    let (n, m, d) = (x.nrows(), y.nrows(), x.ncols());
    if y.ncols() != d {
        return Err(BadInput::new(format!(
            "{}: points have dimension {}, but {} has dimension {d}; both clouds must live in the \
             same space",
            pb.display(),
            y.ncols(),
            pa.display()
        )));
    }
    if a.method == Method::OneD && d != 1 {
        return Err(BadInput::new(format!(
            "--method 1d: {} has dimension {d}; sorting computes W₂ only in dimension 1 (use \
             --method exact)",
            pa.display()
        )));
    }
    let wa = a
        .a_weights
        .as_ref()
        .map(|p| io::read_weights(p, n))
        .transpose()?;
    let wb = a
        .b_weights
        .as_ref()
        .map(|p| io::read_weights(p, m))
        .transpose()?;
    if a.method == Method::Sinkhorn && a.plan.is_some() {
        // The dense plan is the one n × m allocation (the solver itself is O(n + m)).
        limits::check_memory(
            8.0 * n as f64 * m as f64,
            &format!("--plan with --method sinkhorn: the dense {n} × {m} plan"),
            "drop --plan, or use --method exact (a sparse plan of at most n + m − 1 entries)",
        )?;
    }
    let (wav, wbv) = (wa.as_ref().map(|w| w.view()), wb.as_ref().map(|w| w.view()));
    let files = format!("{} vs {}", pa.display(), pb.display());

    let mut summary = serde_json::Map::new();
    summary.insert("method".into(), a.method.name().into());
    summary.insert("simd".into(), crate::simd_name().into());
    summary.insert("n".into(), n.into());
    summary.insert("m".into(), m.into());
    summary.insert("dim".into(), d.into());
    let mut detail = String::new();
    // The solvers report no progress, so long runs get a spinner with the elapsed time (only on
    // a terminal, without --quiet, and when the work is large: n·m·d pairs per pricing pass or
    // Sinkhorn sweep, times about 100 sweeps for Sinkhorn).
    let work = (n as f64) * (m as f64) * (d as f64);
    let work = match a.method {
        Method::Exact => work,
        Method::Sinkhorn => 100.0 * work,
        Method::Gaussian | Method::OneD => 0.0,
    };
    let spinner = progress::spinner(
        work,
        a.common.quiet,
        format!("{} W₂ of {n} × {m} points", a.method.name()),
    );
    let w2_squared;
    match a.method {
        Method::Exact => {
            let opts = ExactOptions {
                max_iter: a.max_iter,
            };
            let r = exact(x.view(), y.view(), wav, wbv, &opts)
                .map_err(|e| anyhow::Error::new(e).context(files.clone()))?;
            if r.ot.status != OtStatus::Converged {
                // Not bad input: the limit was too low for this problem (exit 1).
                anyhow::bail!(
                    "{files}: the network simplex stopped at the pivot limit {} before reaching \
                     the optimum; raise --max-iter",
                    r.ot.iterations
                );
            }
            w2_squared = r.ot.cost;
            summary.insert("iterations".into(), r.ot.iterations.into());
            summary.insert("duality_gap".into(), r.duality_gap.into());
            detail = format!(
                "{} pivots, duality gap {:.1e}",
                r.ot.iterations, r.duality_gap
            );
            if let Some((out, format)) = plan_out {
                write_sparse(out, format, r.ot.plan.as_ref())?;
            }
        }
        Method::OneD => {
            let r = w2_1d(x.view(), y.view(), wav, wbv)
                .map_err(|e| anyhow::Error::new(e).context(files.clone()))?;
            w2_squared = r.cost;
            if let Some((out, format)) = plan_out {
                write_sparse(out, format, r.plan.as_ref())?;
            }
        }
        Method::Gaussian => {
            let fit =
                |pts: &Array2<f64>, w: &Option<Array1<f64>>, path: &Path| -> Result<Gaussian> {
                    let e = match w {
                        Some(w) => Empirical::weighted(pts.clone(), w.clone())?,
                        None => Empirical::new(pts.clone())?,
                    };
                    Gaussian::new(e.mean(), e.covariance()).map_err(|err| {
                        BadInput::new(format!(
                            "{}: the fitted covariance is not positive definite ({err}); --method \
                         gaussian needs more than d = {d} points in general position with \
                         positive weight",
                            path.display()
                        ))
                    })
                };
            let ga = fit(&x, &wa, &pa)?;
            let gb = fit(&y, &wb, &pb)?;
            w2_squared = bures::bures_w2_squared(&ga, &gb)?;
        }
        Method::Sinkhorn => {
            let defaults = SinkhornOptions::default();
            let opts = SinkhornOptions {
                eps: a.eps.unwrap_or(defaults.eps),
                tol: a.tol.unwrap_or(defaults.tol),
                max_iter: a.max_iter.unwrap_or(defaults.max_iter),
                plan: plan_out.is_some(),
                ..defaults
            };
            let s = sinkhorn_divergence(x.view(), y.view(), wav, wbv, &opts)
                .map_err(|e| anyhow::Error::new(e).context(files.clone()))?;
            let r = &s.cross;
            w2_squared = r.ot.cost;
            let converged = s.converged();
            summary.insert("eps".into(), r.eps.into());
            summary.insert("iterations".into(), r.ot.iterations.into());
            summary.insert("converged".into(), converged.into());
            summary.insert("marginal_error".into(), r.marginal_error.into());
            summary.insert("sinkhorn_divergence".into(), s.divergence.into());
            if !converged {
                note(&format!(
                    "warning: Sinkhorn stopped at the iteration limit with marginal error {:e} \
                     (target {:e}); raise --max-iter or --eps",
                    r.marginal_error, opts.tol
                ));
            }
            detail = format!(
                "ε = {}, {} sweeps, marginal error {:.1e}, Sinkhorn divergence {}",
                r.eps, r.ot.iterations, r.marginal_error, s.divergence
            );
            if let Some((out, _)) = plan_out {
                match &r.ot.plan {
                    Some(Plan::Dense(p)) => out.commit_points(p)?,
                    _ => anyhow::bail!("the Sinkhorn solver returned no dense plan"),
                }
            }
        }
    }
    drop(spinner);
    let w2 = w2_squared.max(0.0).sqrt();
    summary.insert("w2_squared".into(), w2_squared.into());
    summary.insert("w2".into(), w2.into());
    if let Some(p) = &a.plan {
        summary.insert("plan".into(), p.display().to_string().into());
    }
    if a.json {
        outln!("{}", serde_json::Value::Object(summary));
    } else {
        let extra = if detail.is_empty() {
            String::new()
        } else {
            format!("; {detail}")
        };
        outln!(
            "W₂² = {w2_squared:?}, W₂ = {w2:?} ({}, n = {n}, m = {m}, d = {d}{extra})",
            a.method.name()
        );
    }
    Ok(())
}

/// `--trajectory`: the exact W₂ from the first slice to every slice.
fn run_trajectory(a: &Args, path: &Path) -> Result<()> {
    if !matches!(a.method, Method::Exact | Method::OneD) {
        return Err(BadInput::new(format!(
            "--trajectory: W₂ along a trajectory is computed exactly; --method {} is not \
             supported there (use exact)",
            a.method.name()
        )));
    }
    let (traj, _) = io::read_trajectory(path)?;
    if a.method == Method::OneD && traj.dim() != 1 {
        return Err(BadInput::new(format!(
            "--method 1d: {} has dimension {}; sorting computes W₂ only in dimension 1",
            path.display(),
            traj.dim()
        )));
    }
    let (n, d, slices) = (traj.n_points(), traj.dim(), traj.len_times());
    let bar = progress::bar(1, (slices * n * n * d) as f64, a.common.quiet, "");
    let bar = progress::ClearOnDrop(bar);
    let w2 = deeptransport::wasserstein::w2_from_start(&traj)
        .map_err(|e| anyhow::Error::new(e).context(path.display().to_string()))?;
    drop(bar);
    if a.json {
        let summary = serde_json::json!({
            "method": if d == 1 { "1d" } else { "exact" },
            "n": n,
            "m": n,
            "dim": d,
            "times": traj.times(),
            "w2": w2,
            "w2_squared": w2.iter().map(|w| w * w).collect::<Vec<_>>(),
        });
        outln!("{summary}");
    } else {
        outln!(
            "W₂ from the first slice of {} (n = {n}, d = {d}):",
            path.display()
        );
        for (t, w) in traj.times().iter().zip(&w2) {
            outln!("  t = {t:<12} W₂ = {w:?}");
        }
    }
    Ok(())
}

/// Writes a sparse plan: CSV `i,j,mass` with a header (integer indices, masses with round-trip
/// precision) or a `(k, 3)` `<f8` `.npy`.
fn write_sparse(out: Output, format: Format, plan: Option<&Plan>) -> Result<()> {
    let Some(Plan::Sparse { rows, cols, mass }) = plan else {
        anyhow::bail!("expected a sparse plan");
    };
    match format {
        Format::Csv => {
            use std::fmt::Write as _;
            let mut s = String::with_capacity(32 * rows.len() + 16);
            s.push_str("i,j,mass\n");
            for k in 0..rows.len() {
                writeln!(s, "{},{},{:?}", rows[k], cols[k], mass[k])?;
            }
            out.commit_bytes(s.as_bytes())
        }
        Format::Npy => {
            let arr = Array2::from_shape_fn((rows.len(), 3), |(k, c)| match c {
                0 => rows[k] as f64,
                1 => cols[k] as f64,
                _ => mass[k],
            });
            out.commit_points(&arr)
        }
    }
}
