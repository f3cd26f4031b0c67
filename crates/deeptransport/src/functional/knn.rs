//! k-nearest-neighbour entropy estimators of a point cloud (METHODS §6): Kozachenko–Leonenko
//! (Shannon) and the Rényi / Tsallis estimators of Leonenko, Pronzato & Savani (2008).
//!
//! All three read one number per point, the distance `ε_i` from `x_i` to its k-th nearest
//! neighbour among the other `N − 1` points ([`knn_distances`]), and are in **nats**. With
//! `V_d = π^{d/2}/Γ(d/2 + 1)` the volume of the unit ball of `ℝ^d`:
//!
//! ```text
//! Kozachenko–Leonenko  Ĥ   = ψ(N) − ψ(k) + log V_d + (d/N) Σ_i log ε_i
//! LPS (α ≠ 1, α < k+1) ζ_i = (N − 1) C_k V_d ε_i^d,   C_k = [Γ(k)/Γ(k + 1 − α)]^{1/(1−α)}
//!                      Î_α = (1/N) Σ_i ζ_i^{1−α}        (estimates ∫ f^α)
//!   Rényi              Ĥ_α = log(Î_α)/(1 − α)
//!   Tsallis            Ŝ_α = (1 − Î_α)/(α − 1)
//! ```
//!
//! **Limits.** As `α → 1` both LPS estimators tend to `log(N − 1) − ψ(k) + log V_d + (d/N) Σ log ε_i`,
//! which is the Kozachenko–Leonenko value with `ψ(N)` replaced by `log(N − 1)`: they differ by
//! `ψ(N) − log(N − 1) = 1/(2N) + O(N⁻²)`, the two papers' different finite-N normalisations.
//!
//! **Search.** A `kiddo` k-d tree for `d ≤` [`KD_TREE_MAX_DIM`] (chosen by measurement, see the
//! constant) and the exact blocked brute force of [`crate::kernel::knn`] above; both are exact and
//! return the same squared distances (same arithmetic, see the kernel docs). Both are deterministic
//! for any thread count.
//!
//! **Duplicates.** A point with `k` or more exact copies has `ε_i = 0` and `log ε_i = −∞`; every
//! estimator refuses such data with [`Error::InvalidParameter`] naming the first such row, a row
//! equal to it, and how many points have a zero k-th-neighbour distance (raise `k` above the
//! largest multiplicity, remove the copies, or jitter the data below its resolution).

use crate::error::{Error, Result, check_points};
use crate::flow::Trajectory;
use crate::kernel::knn::kth_neighbour_sq_distances;
use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use ndarray::{Array1, ArrayView2};
use rayon::prelude::*;
use std::fmt;
use std::num::NonZero;
use std::str::FromStr;

/// Largest dimension searched with the k-d tree by [`Search::Auto`]; above it the brute force of
/// [`crate::kernel::knn`] is used.
///
/// Chosen by measurement (`examples/bench_entropy.rs` with `CROSSOVER=1`; 2-core x86-64, N(0, I_d)
/// points, k = 5): at N = 5·10⁴ the tree takes 4.4 s at d = 10 against 8.2 s for the brute force,
/// but 11.4 s at d = 12 against 8.4 s; at N = 2·10⁴ the brute force already wins at d = 12
/// (2.0 s vs 3.4 s) and the tree at d = 8 (0.54 s vs 1.5 s). In high dimension every query visits
/// most leaves and the brute force's streaming loop is faster. Each dimension up to this bound is
/// a separate monomorphisation of the tree (compile time).
pub const KD_TREE_MAX_DIM: usize = 10;

/// Points per parallel task in the tree search: fixed, so the work split (and hence any result)
/// does not depend on the thread count.
const TREE_QUERY_BLOCK: usize = 256;
/// Points per k-d tree leaf: kiddo's recommended range is 32–64; 32 measured marginally faster.
const TREE_BUCKET: usize = 32;

/// How [`knn_distances_with`] searches for neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Search {
    /// k-d tree for `d ≤` [`KD_TREE_MAX_DIM`], brute force above.
    #[default]
    Auto,
    /// Always the k-d tree (`d ≤` [`KD_TREE_MAX_DIM`]; larger `d` is [`Error::Unsupported`]).
    KdTree,
    /// Always the exhaustive `O(N²·d)` search of [`crate::kernel::knn`].
    BruteForce,
}

/// A k-NN entropy estimator; parses from and prints as the CLI strings `kl`, `renyi:ALPHA`,
/// `tsallis:ALPHA`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimator {
    /// Kozachenko–Leonenko estimate of the Shannon entropy `H = −∫ f log f`.
    KozachenkoLeonenko,
    /// LPS (2008) estimate of the Rényi entropy `H_α = log(∫ f^α)/(1 − α)` of the given order.
    Renyi(f64),
    /// LPS (2008) estimate of the Tsallis entropy `S_α = (1 − ∫ f^α)/(α − 1)` of the given order.
    Tsallis(f64),
}

impl fmt::Display for Estimator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Estimator::KozachenkoLeonenko => write!(f, "kl"),
            Estimator::Renyi(a) => write!(f, "renyi:{a}"),
            Estimator::Tsallis(a) => write!(f, "tsallis:{a}"),
        }
    }
}

impl FromStr for Estimator {
    type Err = Error;

    /// Parses `kl`, `renyi:ALPHA` or `tsallis:ALPHA` (case-insensitive names). The order `α` is
    /// checked here for being a finite number `> 0` and `≠ 1`; `α < k + 1` is checked when `k` is
    /// known.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidParameter {
            name: "estimator".into(),
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        let (name, arg) = match t.split_once(':') {
            Some((n, a)) => (n.trim().to_ascii_lowercase(), Some(a.trim())),
            None => (t.to_ascii_lowercase(), None),
        };
        let alpha = |arg: Option<&str>| -> Result<f64> {
            let a = arg.ok_or_else(|| bad("give the order as renyi:ALPHA or tsallis:ALPHA"))?;
            let alpha: f64 = a
                .parse()
                .map_err(|_| bad(&format!("the order {a:?} is not a number")))?;
            check_alpha_value(alpha)?;
            Ok(alpha)
        };
        match name.as_str() {
            "kl" if arg.is_none() => Ok(Estimator::KozachenkoLeonenko),
            "kl" => Err(bad(
                "kl takes no order; use kl, renyi:ALPHA or tsallis:ALPHA",
            )),
            "renyi" => Ok(Estimator::Renyi(alpha(arg)?)),
            "tsallis" => Ok(Estimator::Tsallis(alpha(arg)?)),
            _ => Err(bad("expected kl, renyi:ALPHA or tsallis:ALPHA")),
        }
    }
}

/// `α` finite, `> 0` and `≠ 1` (the part of the LPS domain that does not depend on `k`).
fn check_alpha_value(alpha: f64) -> Result<()> {
    if !(alpha.is_finite() && alpha > 0.0) || alpha == 1.0 {
        return Err(Error::InvalidParameter {
            name: "α".into(),
            value: crate::error::fmt_num(alpha),
            reason: "the Rényi/Tsallis order must be finite, > 0 and ≠ 1 (α = 1 is the Shannon \
                     entropy: use the kl estimator)"
                .into(),
        });
    }
    Ok(())
}

/// The full LPS domain: `0 < α < k + 1`, `α ≠ 1` (`Γ(k + 1 − α)` needs a positive argument).
fn check_alpha(alpha: f64, k: usize) -> Result<()> {
    check_alpha_value(alpha)?;
    if alpha >= k as f64 + 1.0 {
        return Err(Error::InvalidParameter {
            name: "α".into(),
            value: crate::error::fmt_num(alpha),
            reason: format!(
                "the k-NN Rényi/Tsallis estimator of order α needs α < k + 1 = {} (Γ(k + 1 − α) \
                 must be finite and positive); raise k or lower α",
                k + 1
            ),
        });
    }
    Ok(())
}

/// The digamma function `ψ(x) = Γ'(x)/Γ(x)` for `x > 0`.
///
/// Recurrence `ψ(x) = ψ(x + 1) − 1/x` up to `x ≥ 10`, then the asymptotic series
/// `ψ(x) = log x − 1/(2x) − Σ_{j=1}^{6} B_{2j}/(2j x^{2j})`, whose truncation error at `x ≥ 10` is
/// below `B₁₄/(14·10¹⁴) ≈ 8·10⁻¹⁶`. Absolute error `≲ 3·10⁻¹⁵·max(1, |ψ(x)|)` (the recurrence
/// adds up to ten terms of size ≲ 3 before cancelling; measured 1.3·10⁻¹⁵ at `x = 1`). Returns NaN
/// for `x ≤ 0` or NaN (not needed here: the estimators only call it at integers ≥ 1).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut x = x;
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = f
        * (1.0 / 12.0
            - f * (1.0 / 120.0
                - f * (1.0 / 252.0
                    - f * (1.0 / 240.0 - f * (1.0 / 132.0 - f * (691.0 / 32760.0))))));
    shift + x.ln() - 0.5 / x - series
}

/// `log V_d = (d/2) log π − log Γ(d/2 + 1)`, the log-volume of the unit ball of `ℝ^d` (exact to a
/// few ulps for any `d ≥ 1`; computed in log space so that it neither overflows nor underflows).
pub fn log_unit_ball_volume(d: usize) -> f64 {
    let h = 0.5 * d as f64;
    h * std::f64::consts::PI.ln() - libm::lgamma(h + 1.0)
}

/// Distance `ε_i` from every point to its k-th nearest neighbour other than itself, with the
/// default search ([`Search::Auto`]). See [`knn_distances_with`].
pub fn knn_distances(points: ArrayView2<f64>, k: usize) -> Result<Array1<f64>> {
    knn_distances_with(points, k, Search::Auto)
}

/// Distance `ε_i = |x_i − x_{i,(k)}|` from every point to its k-th nearest neighbour among the
/// other `N − 1` points (Euclidean), counting coincident points with multiplicity (so `ε_i = 0`
/// when `x_i` has `k` exact copies; this function returns such zeros, the estimators refuse them).
///
/// Domain: `points` `N × d` with `N ≥ 2`, `d ≥ 1`, finite (else [`Error::Empty`] /
/// [`Error::NonFinite`] naming row and column); `1 ≤ k < N` (else [`Error::InvalidParameter`]).
/// Exact search; each `ε_i` is `sqrt` of a sum of `d` squares (relative error `≤ (d + 1)·ε`).
/// Cost: k-d tree `O(N log N)` to build plus roughly `O(N·(k + 2^d) log N)` to query in low `d`;
/// brute force `O(N²·d)`. Parallel over fixed blocks of points; deterministic.
pub fn knn_distances_with(
    points: ArrayView2<f64>,
    k: usize,
    search: Search,
) -> Result<Array1<f64>> {
    let sq = knn_sq_distances(points, k, search)?;
    Ok(Array1::from_iter(sq.into_iter().map(f64::sqrt)))
}

/// Validates the cloud and `k`, then returns the squared k-th-neighbour distances.
fn knn_sq_distances(points: ArrayView2<f64>, k: usize, search: Search) -> Result<Vec<f64>> {
    check_points("points", points, None)?;
    let (n, d) = points.dim();
    if k == 0 || k >= n {
        return Err(Error::InvalidParameter {
            name: "k".into(),
            value: k.to_string(),
            reason: format!(
                "the neighbour rank must satisfy 1 ≤ k < N = {n} (the number of points; each \
                 point's k-th neighbour is searched among the N − 1 others)"
            ),
        });
    }
    // Item indices of the tree are u32; larger clouds (never seen in practice) go brute force.
    let tree_ok = n <= u32::MAX as usize;
    match search {
        Search::BruteForce => kth_neighbour_sq_distances(points, k),
        Search::Auto if d > KD_TREE_MAX_DIM || !tree_ok => kth_neighbour_sq_distances(points, k),
        Search::Auto | Search::KdTree => {
            if !tree_ok {
                return Err(Error::Unsupported(format!(
                    "the k-d tree search indexes at most {} points (got {n}); use the brute force",
                    u32::MAX
                )));
            }
            kd_dispatch(points, k).ok_or_else(|| {
                Error::Unsupported(format!(
                    "the k-d tree search is compiled for dimensions 1..={KD_TREE_MAX_DIM}, got \
                     d = {d}; use the automatic or brute-force search"
                ))
            })
        }
    }
}

/// Calls [`kd_sq_distances::<K>`] for the runtime dimension (kiddo takes it as a const generic).
macro_rules! dispatch_dims {
    ($points:expr, $k:expr; $($dim:literal)*) => {
        match $points.ncols() {
            $( $dim => Some(kd_sq_distances::<$dim>($points, $k)), )*
            _ => None,
        }
    };
}

fn kd_dispatch(points: ArrayView2<f64>, k: usize) -> Option<Vec<f64>> {
    dispatch_dims!(points, k; 1 2 3 4 5 6 7 8 9 10)
}

/// k-d tree search in dimension `K` (validated input, `1 ≤ k < N ≤ u32::MAX`).
fn kd_sq_distances<const K: usize>(points: ArrayView2<f64>, k: usize) -> Vec<f64> {
    let pts: Vec<[f64; K]> = points
        .rows()
        .into_iter()
        .map(|r| std::array::from_fn(|c| r[c]))
        .collect();
    let tree: ImmutableKdTree<f64, u32, K, TREE_BUCKET> = ImmutableKdTree::new_from_slice(&pts);
    // The query point itself is among its k+1 nearest (at distance 0), so the k-th neighbour
    // other than itself is the largest of the k+1 (ties and duplicates included).
    let want = NonZero::<usize>::MIN.saturating_add(k);
    let mut out = vec![0.0; pts.len()];
    out.par_chunks_mut(TREE_QUERY_BLOCK)
        .enumerate()
        .for_each(|(b, block)| {
            for (j, o) in block.iter_mut().enumerate() {
                let q = &pts[b * TREE_QUERY_BLOCK + j];
                *o = tree
                    .nearest_n::<SquaredEuclidean>(q, want)
                    .iter()
                    .map(|nn| nn.distance)
                    .fold(0.0, f64::max);
            }
        });
    out
}

/// Refuses zero k-th-neighbour distances, naming the first such row and a row equal to it.
fn check_no_zero_distance(points: ArrayView2<f64>, sq: &[f64], k: usize) -> Result<()> {
    let zeros = sq.iter().filter(|&&s| s == 0.0).count();
    let Some(i) = sq.iter().position(|&s| s == 0.0) else {
        return Ok(());
    };
    let n = sq.len();
    let row = points.row(i);
    let twin = (0..n).find(|&j| j != i && points.row(j) == row);
    let value = match twin {
        Some(j) => format!("row {} (identical to row {})", i + 1, j + 1),
        None => format!("row {} (neighbour distances underflow to 0)", i + 1),
    };
    Err(Error::InvalidParameter {
        name: "points".into(),
        value,
        reason: format!(
            "{zeros} of {n} points have distance 0 to their k-th nearest neighbour (k = {k}): \
             repeated points make the k-NN entropy −∞. Remove the duplicated rows, add noise \
             below the data's resolution, or use k larger than the largest number of copies"
        ),
    })
}

/// Kozachenko–Leonenko estimate from squared distances (validated, no zeros):
/// `ψ(N) − ψ(k) + log V_d + (d/N) Σ log ε_i`, with `log ε_i = ½ log ε_i²`, summed in row order.
fn kl_from_sq(sq: &[f64], d: usize, k: usize) -> f64 {
    let n = sq.len();
    let sum_log: f64 = sq.iter().map(|&s| 0.5 * s.ln()).sum();
    digamma(n as f64) - digamma(k as f64) + log_unit_ball_volume(d) + d as f64 * sum_log / n as f64
}

/// `log Î_α` of LPS (2008) from squared distances (validated, no zeros, α checked):
/// `log Î = logsumexp_i((1 − α) log ζ_i) − log N`, `log ζ_i = log(N−1) + log C_k + log V_d +
/// (d/2) log ε_i²`, `log C_k = (lgamma(k) − lgamma(k+1−α))/(1−α)`. Log space throughout, so
/// `ε_i^d` can neither overflow nor underflow for any `d`.
fn log_lps_integral(sq: &[f64], d: usize, k: usize, alpha: f64) -> f64 {
    let n = sq.len() as f64;
    let one_minus = 1.0 - alpha;
    let log_ck = (libm::lgamma(k as f64) - libm::lgamma(k as f64 + 1.0 - alpha)) / one_minus;
    let base = (n - 1.0).ln() + log_ck + log_unit_ball_volume(d);
    let half_d = 0.5 * d as f64;
    let t = |s: f64| one_minus * (base + half_d * s.ln());
    let max = sq.iter().map(|&s| t(s)).fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = sq.iter().map(|&s| (t(s) - max).exp()).sum();
    max + sum.ln() - n.ln()
}

/// Entropy of the cloud from squared k-th-neighbour distances (validated, no zeros).
fn entropy_from_sq(sq: &[f64], d: usize, estimator: Estimator, k: usize) -> Result<f64> {
    Ok(match estimator {
        Estimator::KozachenkoLeonenko => kl_from_sq(sq, d, k),
        Estimator::Renyi(alpha) => {
            check_alpha(alpha, k)?;
            log_lps_integral(sq, d, k, alpha) / (1.0 - alpha)
        }
        Estimator::Tsallis(alpha) => {
            check_alpha(alpha, k)?;
            // (1 − Î)/(α − 1) = −expm1(log Î)/(α − 1): no cancellation when Î ≈ 1 (α ≈ 1).
            -log_lps_integral(sq, d, k, alpha).exp_m1() / (alpha - 1.0)
        }
    })
}

/// k-NN estimate of the differential entropy of the distribution the rows of `points` were
/// sampled from, in nats, by `estimator` (module docs for the formulas) with neighbour rank `k`.
///
/// Domain: `points` `N × d`, `N ≥ 2`, `d ≥ 1`, finite; `1 ≤ k < N`; for Rényi/Tsallis
/// `0 < α < k + 1`, `α ≠ 1`; no point with `k` exact copies (else [`Error::InvalidParameter`]
/// naming the rows). Accuracy: consistent as `N → ∞` for fixed `k` (KL: Kozachenko & Leonenko
/// 1987; Rényi/Tsallis: LPS 2008, Thm 3.1–3.2 under their moment conditions); the statistical
/// error `O(N^{−1/2})` and a finite-`N` bias that grows with `d` dominate the floating-point
/// error (`≈ N·ε` relative). Cost: that of [`knn_distances`] plus `O(N)`.
pub fn entropy(points: ArrayView2<f64>, estimator: Estimator, k: usize) -> Result<f64> {
    entropy_with(points, estimator, k, Search::Auto)
}

/// [`entropy`] with an explicit neighbour search.
pub fn entropy_with(
    points: ArrayView2<f64>,
    estimator: Estimator,
    k: usize,
    search: Search,
) -> Result<f64> {
    // Check α before the (possibly long) search.
    match estimator {
        Estimator::Renyi(a) | Estimator::Tsallis(a) => check_alpha(a, k)?,
        Estimator::KozachenkoLeonenko => {}
    }
    let sq = knn_sq_distances(points, k, search)?;
    check_no_zero_distance(points, &sq, k)?;
    entropy_from_sq(&sq, points.ncols(), estimator, k)
}

/// Kozachenko–Leonenko Shannon entropy `Ĥ = ψ(N) − ψ(k) + log V_d + (d/N) Σ_i log ε_i` (nats).
/// Domain, accuracy and cost as [`entropy`].
pub fn kl_entropy(points: ArrayView2<f64>, k: usize) -> Result<f64> {
    entropy(points, Estimator::KozachenkoLeonenko, k)
}

/// LPS (2008) Rényi entropy of order `α`: `Ĥ_α = log(Î_α)/(1 − α)` (nats; module docs).
/// Domain `0 < α < k + 1`, `α ≠ 1`; otherwise as [`entropy`].
pub fn renyi_entropy(points: ArrayView2<f64>, k: usize, alpha: f64) -> Result<f64> {
    entropy(points, Estimator::Renyi(alpha), k)
}

/// LPS (2008) Tsallis entropy of order `α`: `Ŝ_α = (1 − Î_α)/(α − 1)` (nats; module docs).
/// Domain `0 < α < k + 1`, `α ≠ 1`; otherwise as [`entropy`].
pub fn tsallis_entropy(points: ArrayView2<f64>, k: usize, alpha: f64) -> Result<f64> {
    entropy(points, Estimator::Tsallis(alpha), k)
}

/// The entropy of every time slice of a trajectory (`T` values, one per slice `x_{t_s}`, each the
/// [`entropy`] of its `n × d` cloud), e.g. to watch a deep DAE contract its input.
///
/// Errors: as [`entropy`]; an error of slice `s` names it (`points at time index s (t = …)`).
/// Cost: `T` times that of [`entropy`].
pub fn entropy_along(traj: &Trajectory, estimator: Estimator, k: usize) -> Result<Vec<f64>> {
    (0..traj.len_times())
        .map(|s| {
            entropy(traj.at(s), estimator, k).map_err(|e| match e {
                Error::InvalidParameter {
                    name,
                    value,
                    reason,
                } if name == "points" => Error::InvalidParameter {
                    name: format!("points at time index {s} (t = {})", traj.times()[s]),
                    value,
                    reason,
                },
                other => other,
            })
        })
        .collect()
}
