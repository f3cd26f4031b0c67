//! `deeptransport entropy`: k-nearest-neighbour estimates of the differential entropy of a point
//! cloud, or of every slice of a trajectory (METHODS §6).

use crate::io;
use crate::{BadInput, Common, limits};
use anyhow::Result;
use deeptransport::functional::knn::{self, Estimator};
use std::path::PathBuf;

/// Default neighbour rank. k = 1 is the classic Kozachenko–Leonenko estimator; k = 3 (also the
/// default of scikit-learn's k-NN mutual information and NPEET) has a lower variance at a small
/// extra bias, tolerates pairs of duplicated points, and admits Rényi/Tsallis orders α < 4.
pub const DEFAULT_K: usize = 3;

/// Differential entropy (in nats) of the distribution a point cloud was sampled from, by k-nearest-
/// neighbour estimators: Kozachenko–Leonenko (kl, Shannon) or Leonenko–Pronzato–Savani (2008)
/// Rényi / Tsallis of order α (renyi:ALPHA, tsallis:ALPHA; 0 < α < k + 1, α ≠ 1).
///
/// With --trajectory, one entropy per slice of a (T, n, d) trajectory file (as written by
/// `deeptransport deep` or `flow`), with the times of its sidecar NAME.times.csv, or the slice
/// indices 0, 1, … when there is none.
///
/// Exact neighbour search (k-d tree up to d = 10, parallel brute force above); deterministic.
/// Repeated points (a k-th-neighbour distance of 0) are refused with the rows named.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true)))]
#[command(after_help = "Examples:\n  \
    deeptransport entropy --data points.csv\n  \
    deeptransport entropy --data points.npy --estimator renyi:2 --k 5 --json\n  \
    deeptransport entropy --trajectory traj.npy --estimator kl --k 1 --json")]
pub struct Args {
    /// Points (CSV or NPY), one per row.
    #[arg(long, value_name = "FILE", group = "input")]
    data: Option<PathBuf>,
    /// A trajectory (.npy, shape (T, n, d)): one entropy per slice.
    #[arg(long, value_name = "TRAJ.npy", group = "input")]
    trajectory: Option<PathBuf>,
    /// kl (Kozachenko–Leonenko, Shannon), renyi:ALPHA or tsallis:ALPHA (0 < ALPHA < k + 1,
    /// ALPHA ≠ 1).
    #[arg(long, default_value = "kl", value_name = "EST")]
    estimator: String,
    /// Neighbour rank k, 1 ≤ k < number of points (k = 1: the classic KL estimator; larger k:
    /// lower variance, more bias).
    #[arg(long, default_value_t = DEFAULT_K, value_name = "K", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    k: usize,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let estimator: Estimator = a
        .estimator
        .parse()
        .map_err(|e| BadInput::new(format!("--estimator {}: {e}", a.estimator)))?;
    // α < k + 1 is known before reading any file.
    if let Estimator::Renyi(alpha) | Estimator::Tsallis(alpha) = estimator
        && alpha >= a.k as f64 + 1.0
    {
        return Err(BadInput::new(format!(
            "--estimator {estimator} with --k {}: the order must satisfy α < k + 1 = {}; \
                 raise --k or lower α",
            a.k,
            a.k + 1
        )));
    }
    match (&a.data, &a.trajectory) {
        (Some(path), _) => {
            let x = io::read_points(path)?;
            let (n, d) = x.dim();
            check_k(a.k, n, d, path)?;
            let h = knn::entropy(x.view(), estimator, a.k)
                .map_err(|e| BadInput::new(format!("{}: {e}", path.display())))?;
            if a.json {
                let summary = serde_json::json!({
                    "estimator": estimator.to_string(),
                    "k": a.k,
                    "n": n,
                    "dim": d,
                    "entropy": h,
                });
                outln!("{summary}");
            } else {
                outln!(
                    "{} entropy (k = {}) of {n} points in ℝ^{d}: {h} nats",
                    describe(estimator),
                    a.k
                );
            }
        }
        (None, Some(path)) => {
            let (traj, from_sidecar) = io::read_trajectory(path)?;
            let (n, d) = (traj.n_points(), traj.dim());
            check_k(a.k, n, d, path)?;
            let h = knn::entropy_along(&traj, estimator, a.k)
                .map_err(|e| BadInput::new(format!("{}: {e}", path.display())))?;
            if a.json {
                let summary = serde_json::json!({
                    "estimator": estimator.to_string(),
                    "k": a.k,
                    "n": n,
                    "dim": d,
                    "times": traj.times(),
                    "entropy": h,
                });
                outln!("{summary}");
            } else {
                let what = if from_sidecar { "t" } else { "slice" };
                outln!(
                    "{} entropy (k = {}) of {n} points in ℝ^{d}, {} slices (nats):",
                    describe(estimator),
                    a.k,
                    h.len()
                );
                for (t, v) in traj.times().iter().zip(&h) {
                    outln!("  {what} = {t}: {v}");
                }
            }
        }
        (None, None) => return Err(BadInput::new("give --data FILE or --trajectory TRAJ.npy")),
    }
    Ok(())
}

/// Refuses `k ≥ n` naming the file (the library would too, without the file name), and a search
/// whose memory the machine cannot give: besides a copy of the points (coordinate-major or the k-d
/// tree's, `n·d` values), every worker thread holds the `k + 1` best distances of a block of
/// queries (`knn::QUERY_BLOCK` of them on the brute-force path, one on the tree's).
fn check_k(k: usize, n: usize, d: usize, path: &std::path::Path) -> Result<()> {
    if k >= n {
        return Err(BadInput::new(format!(
            "{}: --k {k} needs at least k + 1 = {} points (each point's k-th neighbour is searched \
             among the others), the file has {n}",
            path.display(),
            k + 1
        )));
    }
    let threads = rayon::current_num_threads() as f64;
    let per_thread = (deeptransport::kernel::knn::QUERY_BLOCK as f64) * (k as f64 + 1.0);
    limits::check_memory(
        8.0 * (2.0 * (n as f64) * (d as f64) + (n as f64) + threads * per_thread),
        &format!("--k {k}: the {k} nearest neighbours of {n} points in ℝ^{d}"),
        "lower --k",
    )
}

fn describe(e: Estimator) -> String {
    match e {
        Estimator::KozachenkoLeonenko => "Kozachenko–Leonenko (Shannon)".into(),
        Estimator::Renyi(a) => format!("Rényi (α = {a})"),
        Estimator::Tsallis(a) => format!("Tsallis (α = {a})"),
    }
}
