//! Exact power cells in the square `Q = [−½, ½]²` and the damped Newton method of Kitagawa,
//! Mérigot & Thibert (2019) for semi-discrete optimal transport from the uniform density on `Q`
//! (METHODS §8).
//!
//! ```text
//! cells     W_i(h) = {x ∈ Q : ⟨x, y_i⟩ + h_i ≥ ⟨x, y_j⟩ + h_j ∀ j}
//!                  = Q ∩ ⋂_{j≠i} {x : ⟨x, y_j − y_i⟩ ≤ h_i − h_j}
//! energy    E(h)   = ∫_Q max_i (⟨x, y_i⟩ + h_i) dx − Σ_i ν_i h_i
//! gradient  ∂E/∂h_i       = |W_i(h)| − ν_i
//! Hessian   ∂²E/∂h_i∂h_j  = −|W_i ∩ W_j| / |y_i − y_j|   (i ≠ j, |W_i ∩ W_j| the common edge's length)
//!           ∂²E/∂h_i²     = Σ_{j≠i} |W_i ∩ W_j| / |y_i − y_j|   (rows sum to zero)
//! ```
//!
//! **Cells.** Each cell is `Q` clipped (Sutherland–Hodgman on a convex polygon) by the half-planes
//! of its candidate neighbours; every edge remembers the `j` whose half-plane made it (or the
//! boundary of `Q`), which gives the Hessian's edge lengths. The half-planes are evaluated as
//! `⟨x − (y_i + y_j)/2, y_j − y_i⟩ ≤ ψ_i − ψ_j` with `ψ_i = h_i + |y_i|²/2` (the same set), which
//! avoids the cancellation in `h_i − h_j` (`h ≈ −|y|²/2` is large, `ψ` small), and the function of
//! `(j, i)` is exactly the negation of that of `(i, j)` in floating point.
//!
//! Candidates come from the lifting trick: with `w_i = |y_i|² + 2h_i = 2ψ_i`, `W = max_i w_i` and
//! `p_i = (y_i, √(W − w_i)) ∈ ℝ³`, the power distance is `|x − y_i|² − w_i = |(x, 0) − p_i|² − W`,
//! so `W_i(h)` is the Voronoi cell of `p_i` restricted to the plane `z = 0`. If `j` cuts the
//! current (convex) polygon `P`, some vertex `v` of `P` is strictly closer to `p_j` than to `p_i`
//! (a linear function exceeds its bound on a convex polygon only if it does at a vertex), hence
//! `|p_j − p_i| < 2|(v, 0) − p_i| ≤ 2R`, `R = max_v |(v, 0) − p_i|` (security radius). A k-d tree
//! (`kiddo`) on the `p_i` gives each cell its 16 nearest lifted neighbours in order of increasing
//! `|p_j − p_i|`, which clip `Q`; if the 16th lies beyond `2R` (plus a rounding slack, see `lift`),
//! no other target can cut and the cell is final. Otherwise the same argument is applied vertex by
//! vertex: every target within `|(v, 0) − p_i|` of `(v, 0)` (a small ball inside the `2R` ball)
//! clips the polygon, until every vertex of the polygon has been checked. The per-vertex balls
//! matter when the weights vary over much more than the cell sizes (non-uniform `ν`, targets far
//! from `Q`): then `z_i` and `R` are large and the `2R` ball holds a good fraction of all targets
//! (measured, n = 10⁴ targets from `N(0, 0.3²I)`, random `ν`, whole Newton solve on 2 cores: 68 s
//! with the `2R` test alone, 5 s with the per-vertex balls). Cost: `O(n log n)` per diagram for
//! targets spread over `Q`.
//!
//! **Integrals.** Areas by the shoelace formula and `∫_{W_i} |x − y_i|² dx` by the exact polygon
//! formula (a triangle fan from the first vertex); exact up to rounding.
//!
//! **Determinism.** Cells are computed in parallel with rayon, each independently and in a fixed
//! order of candidates, and every sum over cells runs sequentially in index order, so results are
//! bit-identical for any thread count. The Newton system is solved by faer's sparse Cholesky
//! factorisation, which runs sequentially here (faer is built without its `rayon` feature).

use crate::error::{Error, Result, check_points, fmt_num};
use faer::Side;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, Triplet};
use kiddo::SquaredEuclidean;
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;
use std::num::NonZero;

/// Label of an edge on the boundary of `Q` (no neighbouring cell).
const BOUNDARY: usize = usize::MAX;
/// Below this many targets every cell is clipped by all others (no tree): cheaper, and exact.
const BRUTE_FORCE_MAX: usize = 32;
/// Candidates fetched by the first nearest-neighbour query of a cell: a cell of a well-spread
/// diagram has about 6 neighbours, so 16 usually settle it by the security radius alone, without
/// the per-vertex queries.
const FIRST_BATCH: usize = 16;
/// Points per k-d tree leaf (kiddo's recommended range is 32–64).
const TREE_BUCKET: usize = 32;
/// Halvings of the Newton step before the line search gives up (step `2⁻⁵⁰`).
const MAX_HALVINGS: usize = 50;

/// Options of [`newton_2d`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Newton2dOptions {
    /// Target of `max_i |μ(W_i) − ν_i| / ν_i` (finite, `> 0`). Default `1e-10`.
    pub tol: f64,
    /// Largest number of Newton steps. Default `100`.
    pub max_iter: usize,
}

impl Default for Newton2dOptions {
    fn default() -> Self {
        Self {
            tol: 1e-10,
            max_iter: 100,
        }
    }
}

/// Result of [`newton_2d`].
#[derive(Debug, Clone, PartialEq)]
pub struct Newton2dResult {
    /// The potential `h` (mean zero): `T(x) = y_{argmax_i ⟨x, y_i⟩ + h_i}` pushes the uniform
    /// measure on `Q` to `Σ_i ν_i δ_{y_i}` (to `max_mass_error`).
    pub h: Array1<f64>,
    /// `|W_i(h)|`, exact polygon areas at the returned `h`.
    pub masses: Array1<f64>,
    /// Newton steps taken.
    pub iterations: usize,
    /// Whether `max_mass_error ≤ tol` was reached.
    pub converged: bool,
    /// `max_i |masses_i − ν_i| / ν_i` at the returned `h`.
    pub max_mass_error: f64,
    /// `∫_Q |x − T(x)|² dx = Σ_i ∫_{W_i} |x − y_i|² dx` (exact polygon integrals) at the returned
    /// `h`: the squared Wasserstein-2 distance when `h` is converged.
    pub transport_cost: f64,
}

/// The clipped power cells of [`power_cells`].
#[derive(Debug, Clone, PartialEq)]
pub struct PowerCells {
    /// Cell `i` as a counter-clockwise convex polygon (no repeated vertex), empty when `W_i` has
    /// fewer than three distinct vertices.
    pub polygons: Vec<Vec<[f64; 2]>>,
    /// For each `i`, the pairs `(j, |W_i ∩ W_j|)`: the neighbouring cells and the lengths of the
    /// common edges as measured on polygon `i`, sorted by `j`.
    pub neighbours: Vec<Vec<(usize, f64)>>,
}

/// One computed cell: the polygon, the neighbour that made each edge, and its integrals.
struct Cell {
    /// Counter-clockwise vertices.
    poly: Vec<[f64; 2]>,
    /// `labels[k]`: the `j` whose half-plane contains the edge `poly[k] → poly[k+1]`, or
    /// [`BOUNDARY`].
    labels: Vec<usize>,
    /// `|W_i|`.
    area: f64,
    /// `∫_{W_i} |x − y_i|² dx`.
    second_moment: f64,
}

/// Computes the power cells `W_i(h)`, `i = 1..n`, clipped to `Q = [−½, ½]²`: the polygons and, for
/// each cell, its neighbours with the common edge lengths.
///
/// `y` is `n × 2` (finite, distinct rows, anywhere in `ℝ²`), `h` has length `n` (finite). Exact up
/// to rounding for any configuration (empty cells, targets outside `Q`, collinear targets, cells
/// through corners). Cost `O(n log n)` for targets spread over `Q` (see the module docs).
///
/// Errors: [`Error::Empty`] / [`Error::DimensionMismatch`] / [`Error::NonFinite`] for a bad `y`
/// or `h`, [`Error::InvalidParameter`] for repeated targets.
pub fn power_cells(y: ArrayView2<f64>, h: &[f64]) -> Result<PowerCells> {
    let y = check_targets(y)?;
    check_vector("h", h, y.len())?;
    let cells = compute_cells(&y, &psi_from_h(&y, h));
    let neighbours = cells
        .iter()
        .map(|c| {
            let mut nb: Vec<(usize, f64)> = c
                .labels
                .iter()
                .enumerate()
                .filter(|&(_, &j)| j != BOUNDARY)
                .map(|(k, &j)| (j, edge_length(&c.poly, k)))
                .collect();
            nb.sort_by_key(|&(j, _)| j);
            nb.dedup_by(|b, a| {
                if a.0 == b.0 {
                    a.1 += b.1;
                    true
                } else {
                    false
                }
            });
            nb
        })
        .collect();
    Ok(PowerCells {
        polygons: cells.into_iter().map(|c| c.poly).collect(),
        neighbours,
    })
}

/// Solves semi-discrete optimal transport from the uniform density on `Q = [−½, ½]²` to
/// `Σ_i ν_i δ_{y_i}`: finds `h` with `|W_i(h)| = ν_i` for all `i` by the damped Newton method of
/// Kitagawa, Mérigot & Thibert (2019, Algorithm 1).
///
/// Step `k`: solve `H d = r`, `r = P(ν − |W(h)|)` (`P` removes the mean: the sums of `ν` and of the
/// areas are 1 only to rounding), with the Hessian `H` of the module docs (a weighted graph
/// Laplacian, positive definite on mean-zero vectors once every cell is non-empty), by faer's
/// sparse Cholesky factorisation of `H` with the last row and column removed (`d_n = 0`; the
/// dropped equation is implied since the rows of `H` and `r` sum to zero). Then
/// `τ = 1, ½, ¼, …` until `min_i |W_i(h + τd)| ≥ ε₀` and `‖r(h + τd)‖₂ ≤ (1 − τ/2) ‖r(h)‖₂`
/// with KMT's `ε₀ = ½ min(min_i ν_i, min_i |W_i(h₀)|)` (fixed at the start, as in KMT); KMT prove
/// global convergence, locally quadratic. Internally the iterate is `ψ = h + |y|²/2` (see the
/// module docs), re-centred to mean zero after every step; `h = ψ − |y|²/2` is returned with mean
/// zero.
///
/// Start: `h0` if given (every cell `W_i(h0)` must have positive area, else
/// [`Error::InvalidParameter`]); otherwise `h_i = −t|y_i|²/2` with `t = min(1, ½ / max_i |y_i|_∞)`.
/// Then `⟨x, y_i⟩ + h_i = (⟨x, t y_i⟩ − |t y_i|²/2)/t`, so `W_i` is the Voronoi cell of `z_i = t y_i`,
/// and every cell has positive area: the `z_i` are distinct and lie in `Q`, the Voronoi cell of
/// `z_i` contains the ball `B(z_i, ½ min_{j≠i} |z_j − z_i|)`, and a ball centred in the convex
/// square `Q` meets it in positive area. (`t = 1` when all targets lie in `Q`: plain Voronoi.)
///
/// Stops when `max_i ||W_i| − ν_i| / ν_i ≤ tol` (`converged = true`), after `max_iter` steps, or
/// when the line search fails after 50 halvings (the rounding floor); the last two return `Ok`
/// with `converged = false`. Cost per step: one cell computation and one sparse factorisation,
/// about `O(n log n)` for targets spread over `Q`; accuracy: machine precision in the masses.
///
/// Errors: bad `y` or `h0` as in [`power_cells`]; `ν` of the wrong length
/// ([`Error::DimensionMismatch`]), non-finite ([`Error::NonFinite`]), not positive or not summing to
/// 1 within `1e-12` ([`Error::InvalidWeights`]); `tol` not finite and `> 0`
/// ([`Error::InvalidParameter`]); a Hessian that is not positive definite on the mean-zero
/// subspace, which exact arithmetic excludes ([`Error::NotConverged`]).
pub fn newton_2d(
    y: ArrayView2<f64>,
    nu: ArrayView1<f64>,
    h0: Option<&[f64]>,
    opts: &Newton2dOptions,
) -> Result<Newton2dResult> {
    let y = check_targets(y)?;
    let n = y.len();
    let nu = check_masses(nu, n)?;
    if !(opts.tol.is_finite() && opts.tol > 0.0) {
        return Err(Error::InvalidParameter {
            name: "tol".into(),
            value: fmt_num(opts.tol),
            reason: "must be a finite number > 0 (a relative mass error)".into(),
        });
    }
    // The iteration runs on ψ = h + |y|²/2 (see `psi_from_h`); h = ψ − |y|²/2 at the end.
    let mut psi: Vec<f64> = match h0 {
        Some(h0) => {
            check_vector("h0", h0, n)?;
            psi_from_h(&y, h0)
        }
        None => {
            let m = y
                .iter()
                .map(|p| p[0].abs().max(p[1].abs()))
                .fold(0.0, f64::max);
            let t = if m > 0.5 { 0.5 / m } else { 1.0 };
            // h = −t|y|²/2, i.e. ψ = (1 − t)|y|²/2 (exactly 0 when every target lies in Q).
            y.iter()
                .map(|p| 0.5 * (1.0 - t) * (p[0] * p[0] + p[1] * p[1]))
                .collect()
        }
    };
    center(&mut psi);
    let mut cells = compute_cells(&y, &psi);
    if let Some(i) = cells.iter().position(|c| c.area <= 0.0) {
        return Err(Error::InvalidParameter {
            name: "h0".into(),
            value: format!("a start where cell {} is empty", i + 1),
            reason: "damped Newton needs every cell W_i(h0) to have positive area; pass None \
                     for the default start (a Voronoi diagram with every cell non-empty)"
                .into(),
        });
    }
    let min_nu = nu.iter().copied().fold(f64::INFINITY, f64::min);
    let min_area = cells.iter().map(|c| c.area).fold(f64::INFINITY, f64::min);
    let eps0 = 0.5 * min_nu.min(min_area);
    let mut err2 = error_norm(&cells, &nu);
    let mut iterations = 0;
    let mut converged = false;
    loop {
        if max_relative_error(&cells, &nu) <= opts.tol {
            converged = true;
            break;
        }
        if iterations == opts.max_iter {
            break;
        }
        let rhs = projected_residual(&cells, &nu);
        let d = newton_direction(&y, &cells, &rhs)?;
        let mut tau = 1.0;
        let mut accepted = None;
        for _ in 0..=MAX_HALVINGS {
            let mut psi_new: Vec<f64> = psi.iter().zip(&d).map(|(&a, &b)| a + tau * b).collect();
            center(&mut psi_new);
            let trial = compute_cells(&y, &psi_new);
            let min_trial = trial.iter().map(|c| c.area).fold(f64::INFINITY, f64::min);
            let e = error_norm(&trial, &nu);
            if min_trial >= eps0 && e <= (1.0 - 0.5 * tau) * err2 {
                accepted = Some((psi_new, trial, e));
                break;
            }
            tau *= 0.5;
        }
        let Some((psi_new, trial, e)) = accepted else {
            break;
        };
        psi = psi_new;
        cells = trial;
        err2 = e;
        iterations += 1;
    }
    let max_mass_error = max_relative_error(&cells, &nu);
    let transport_cost = cells.iter().map(|c| c.second_moment).sum();
    let mut h: Vec<f64> = y
        .iter()
        .zip(&psi)
        .map(|(p, &v)| v - 0.5 * (p[0] * p[0] + p[1] * p[1]))
        .collect();
    center(&mut h);
    Ok(Newton2dResult {
        h: Array1::from(h),
        masses: cells.iter().map(|c| c.area).collect(),
        iterations,
        converged,
        max_mass_error,
        transport_cost,
    })
}

/// Validates `y` (`n × 2`, finite, distinct rows) and copies it into points.
fn check_targets(y: ArrayView2<f64>) -> Result<Vec<[f64; 2]>> {
    check_points("y", y, Some(2))?;
    if y.nrows() > u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "y".into(),
            value: format!("{} rows", y.nrows()),
            reason: format!("at most {} targets are supported", u32::MAX),
        });
    }
    let pts: Vec<[f64; 2]> = y.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_by(|&a, &b| pts[a].partial_cmp(&pts[b]).expect("finite"));
    for w in order.windows(2) {
        if pts[w[0]] == pts[w[1]] {
            let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
            return Err(Error::InvalidParameter {
                name: "y".into(),
                value: format!("row {} equal to row {}", b + 1, a + 1),
                reason: "targets must be distinct (merge repeated targets and add their masses)"
                    .into(),
            });
        }
    }
    Ok(pts)
}

/// Checks that a potential has length `n` and finite entries.
fn check_vector(what: &str, h: &[f64], n: usize) -> Result<()> {
    if h.len() != n {
        return Err(Error::DimensionMismatch {
            what: what.to_string(),
            expected: n,
            got: h.len(),
        });
    }
    if let Some(i) = h.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: what.to_string(),
            row: i + 1,
            col: 1,
            value: h[i],
        });
    }
    Ok(())
}

/// Checks that `ν` has length `n`, finite positive entries and sum 1 within `1e-12`.
fn check_masses(nu: ArrayView1<f64>, n: usize) -> Result<Vec<f64>> {
    let nu = nu.to_vec();
    check_vector("nu", &nu, n)?;
    if let Some(i) = nu.iter().position(|&v| v <= 0.0) {
        return Err(Error::InvalidWeights(format!(
            "nu[{}] = {} is not > 0 (every target needs positive mass)",
            i + 1,
            fmt_num(nu[i])
        )));
    }
    let s: f64 = nu.iter().sum();
    if (s - 1.0).abs() > 1e-12 {
        return Err(Error::InvalidWeights(format!(
            "nu sums to {}, not to 1 within 1e-12 (the source is a probability measure)",
            fmt_num(s)
        )));
    }
    Ok(nu)
}

/// Subtracts the mean (`h` is defined up to a constant; cells only see differences).
fn center(h: &mut [f64]) {
    let m = h.iter().sum::<f64>() / h.len() as f64;
    h.iter_mut().for_each(|v| *v -= m);
}

/// `r = ν − |W(h)|` minus its mean. `Σ_i |W_i(h)| = 1` and `Σ_i ν_i = 1` only up to rounding
/// (and `ν` is accepted within `1e-12`); the constant part of `r` is no Newton direction (`H`
/// annihilates constants) and, left in, would land entirely on the coordinate eliminated from
/// the linear system, capping that one cell's relative error near `n·10⁻¹⁶/ν_n`.
fn projected_residual(cells: &[Cell], nu: &[f64]) -> Vec<f64> {
    let mut r: Vec<f64> = cells.iter().zip(nu).map(|(c, &v)| v - c.area).collect();
    center(&mut r);
    r
}

/// `‖P(ν − |W(h)|)‖₂` with `P` the projection on mean-zero vectors (see [`projected_residual`]),
/// summed in index order.
fn error_norm(cells: &[Cell], nu: &[f64]) -> f64 {
    projected_residual(cells, nu)
        .iter()
        .map(|r| r * r)
        .sum::<f64>()
        .sqrt()
}

/// `max_i ||W_i| − ν_i| / ν_i`.
fn max_relative_error(cells: &[Cell], nu: &[f64]) -> f64 {
    cells
        .iter()
        .zip(nu)
        .map(|(c, &v)| (c.area - v).abs() / v)
        .fold(0.0, f64::max)
}

/// Length of edge `k → k+1` of a polygon.
fn edge_length(poly: &[[f64; 2]], k: usize) -> f64 {
    let a = poly[k];
    let b = poly[(k + 1) % poly.len()];
    (b[0] - a[0]).hypot(b[1] - a[1])
}

/// `ψ_i = h_i + |y_i|²/2`, half the power weight `w_i = |y_i|² + 2h_i`: the cells are
/// `{x : |x − y_i|² − 2ψ_i ≤ |x − y_j|² − 2ψ_j}`, and `ψ` (the displacement potential at the targets)
/// is small where `h ≈ −|y|²/2` is not, so half-planes built from `ψ` lose no digits to the
/// cancellation in `h_i − h_j`.
fn psi_from_h(y: &[[f64; 2]], h: &[f64]) -> Vec<f64> {
    y.iter()
        .zip(h)
        .map(|(p, &hi)| hi + 0.5 * (p[0] * p[0] + p[1] * p[1]))
        .collect()
}

/// The lifted points `p_i = (y_i, √(W − 2ψ_i))`, `W = max_i 2ψ_i`, for which
/// `|(x, 0) − p_i|² = |x − y_i|² − 2ψ_i + W` (the power distance plus a constant), and the absolute
/// rounding slack `s` of lifted squared distances.
///
/// The slack: `z_i² = W − 2ψ_i` is computed with an absolute error of a few `ε·max|2ψ|`, and a
/// squared distance `D` with a relative error of a few `ε`; a query ball of squared radius
/// `D(1 + 10⁻¹²) + s`, `s = 10⁻¹² (1 + max|2ψ|)`, therefore contains every point that beats the cell's
/// own in exact arithmetic, with a factor ~10³ to spare. Extra points in the ball only cost a
/// clipping that changes nothing (or moves an edge by rounding).
fn lift(y: &[[f64; 2]], psi: &[f64]) -> (Vec<[f64; 3]>, f64) {
    let wmax = psi
        .iter()
        .map(|&v| 2.0 * v)
        .fold(f64::NEG_INFINITY, f64::max);
    let wabs = psi.iter().map(|&v| 2.0 * v.abs()).fold(0.0, f64::max);
    let pts = y
        .iter()
        .zip(psi)
        .map(|(p, &v)| [p[0], p[1], (wmax - 2.0 * v).max(0.0).sqrt()])
        .collect();
    (pts, 1e-12 * (1.0 + wabs))
}

/// Squared radius of the ball that must contain every candidate beating the cell at a point:
/// the lifted squared distance `d2`, enlarged by the rounding slack of [`lift`].
fn ball(d2: f64, slack: f64) -> f64 {
    d2 * (1.0 + 1e-12) + slack
}

/// All cells (given `ψ`, see [`psi_from_h`]) with their integrals, computed in parallel, each cell
/// independently.
///
/// A cell is first clipped by its [`FIRST_BATCH`] nearest lifted neighbours. It is final when the
/// security radius holds for all others at once: the `FIRST_BATCH`-th lifted distance exceeds
/// `2R` (module docs). Otherwise every vertex `v` is certified separately: all targets in the ball
/// around `(v, 0)` through `p_i` (those that beat or tie `i` at `v`) clip the polygon, and the new
/// vertices are certified in turn. When every vertex is certified, no other target is closer than
/// `p_i` to any vertex, so none cuts the convex polygon: it is the cell. The per-vertex balls lie
/// inside the `2R` ball around `p_i` and stay small when the weights `2ψ_i` vary over much more
/// than the cell sizes (where the `2R` ball would hold most targets).
fn compute_cells(y: &[[f64; 2]], psi: &[f64]) -> Vec<Cell> {
    let n = y.len();
    if n <= BRUTE_FORCE_MAX {
        return (0..n)
            .into_par_iter()
            .map(|i| {
                let mut cl = Clipper::new(y, psi, i);
                for j in (0..n).filter(|&j| j != i) {
                    if !cl.clip(j) {
                        break;
                    }
                }
                cl.finish()
            })
            .collect();
    }
    let (pts, slack) = lift(y, psi);
    let tree: ImmutableKdTree<f64, u32, 3, TREE_BUCKET> = ImmutableKdTree::new_from_slice(&pts);
    let first = NonZero::new(FIRST_BATCH.min(n)).expect("n > 0");
    (0..n)
        .into_par_iter()
        .map(|i| {
            let p = pts[i];
            let mut cl = Clipper::new(y, psi, i);
            let near = tree.nearest_n::<SquaredEuclidean>(&p, first);
            let mut visited: Vec<usize> = Vec::with_capacity(2 * FIRST_BATCH);
            for nn in &near {
                let j = nn.item as usize;
                if j == i {
                    continue;
                }
                visited.push(j);
                if !cl.clip(j) {
                    return cl.finish();
                }
            }
            if near.len() == n {
                return cl.finish();
            }
            // Security radius for all remaining targets at once (each is at least as far from
            // p_i as the last one listed).
            let last = near.last().map_or(0.0, |nn| nn.distance);
            let r2 = cl.poly.iter().map(|&v| lifted_sq(v, p)).fold(0.0, f64::max);
            if last > ball(4.0 * r2, 4.0 * slack) {
                return cl.finish();
            }
            let mut certified: Vec<[f64; 2]> = Vec::with_capacity(16);
            while let Some(&v) = cl.poly.iter().find(|v| !certified.contains(v)) {
                certified.push(v);
                for nn in tree
                    .within::<SquaredEuclidean>(&[v[0], v[1], 0.0], ball(lifted_sq(v, p), slack))
                {
                    let j = nn.item as usize;
                    if j == i || visited.contains(&j) {
                        continue;
                    }
                    visited.push(j);
                    if !cl.clip(j) {
                        return cl.finish();
                    }
                }
            }
            cl.finish()
        })
        .collect()
}

/// `|(v, 0) − p|²` in the lifted space.
fn lifted_sq(v: [f64; 2], p: [f64; 3]) -> f64 {
    let (a, b) = (v[0] - p[0], v[1] - p[1]);
    a * a + b * b + p[2] * p[2]
}

/// Sutherland–Hodgman clipping of one cell, starting from `Q`, with edge labels.
struct Clipper<'a> {
    y: &'a [[f64; 2]],
    psi: &'a [f64],
    i: usize,
    poly: Vec<[f64; 2]>,
    labels: Vec<usize>,
    next_poly: Vec<[f64; 2]>,
    next_labels: Vec<usize>,
    f: Vec<f64>,
}

impl<'a> Clipper<'a> {
    fn new(y: &'a [[f64; 2]], psi: &'a [f64], i: usize) -> Self {
        Self {
            y,
            psi,
            i,
            poly: vec![[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]],
            labels: vec![BOUNDARY; 4],
            next_poly: Vec::with_capacity(8),
            next_labels: Vec::with_capacity(8),
            f: Vec::with_capacity(8),
        }
    }

    /// Clips by `{x : ⟨x, y_j − y_i⟩ ≤ h_i − h_j}`, evaluated as
    /// `⟨x − (y_i + y_j)/2, y_j − y_i⟩ ≤ ψ_i − ψ_j` (the same half-plane; the pair `(j, i)` gives
    /// exactly the negated function). Returns `false` once the cell is empty.
    fn clip(&mut self, j: usize) -> bool {
        let (yi, yj) = (self.y[self.i], self.y[j]);
        let a = [yj[0] - yi[0], yj[1] - yi[1]];
        let m = [0.5 * (yi[0] + yj[0]), 0.5 * (yi[1] + yj[1])];
        let b = self.psi[self.i] - self.psi[j];
        self.f.clear();
        self.f.extend(
            self.poly
                .iter()
                .map(|v| (v[0] - m[0]) * a[0] + (v[1] - m[1]) * a[1] - b),
        );
        if self.f.iter().all(|&f| f <= 0.0) {
            return true;
        }
        if self.f.iter().all(|&f| f > 0.0) {
            self.poly.clear();
            self.labels.clear();
            return false;
        }
        self.next_poly.clear();
        self.next_labels.clear();
        let m = self.poly.len();
        for k in 0..m {
            let k1 = (k + 1) % m;
            let (cur, nxt) = (self.poly[k], self.poly[k1]);
            let (fc, fn_) = (self.f[k], self.f[k1]);
            let cut = |fc: f64, fn_: f64| {
                let t = fc / (fc - fn_);
                [
                    cur[0] + t * (nxt[0] - cur[0]),
                    cur[1] + t * (nxt[1] - cur[1]),
                ]
            };
            if fc <= 0.0 {
                self.push(cur, self.labels[k]);
                if fn_ > 0.0 {
                    // Leaving: the edge from here to the re-entry point lies on j's line.
                    self.push(cut(fc, fn_), j);
                }
            } else if fn_ <= 0.0 {
                self.push(cut(fc, fn_), self.labels[k]);
            }
        }
        // A last vertex equal to the first closes a zero-length edge: drop it (the edge before it
        // keeps its label and now ends at the first vertex).
        while self.next_poly.len() > 1 && self.next_poly.last() == self.next_poly.first() {
            self.next_poly.pop();
            self.next_labels.pop();
        }
        std::mem::swap(&mut self.poly, &mut self.next_poly);
        std::mem::swap(&mut self.labels, &mut self.next_labels);
        if self.poly.len() < 3 {
            self.poly.clear();
            self.labels.clear();
            return false;
        }
        true
    }

    /// Appends a vertex and the label of the edge leaving it; a vertex equal to the previous one
    /// replaces it (a zero-length edge is dropped, the new edge's label kept).
    fn push(&mut self, v: [f64; 2], label: usize) {
        if self.next_poly.last() == Some(&v) {
            *self.next_labels.last_mut().expect("same length") = label;
        } else {
            self.next_poly.push(v);
            self.next_labels.push(label);
        }
    }

    /// The finished cell with its area and second moment about `y_i`.
    fn finish(self) -> Cell {
        let (area, second_moment) = integrals(&self.poly, self.y[self.i]);
        Cell {
            poly: self.poly,
            labels: self.labels,
            area,
            second_moment,
        }
    }
}

/// Area and `∫_P |x − q|² dx` of a counter-clockwise polygon `P` (0 for an empty one).
///
/// With `u_k = v_k − v_0` (coordinates relative to the first vertex, to limit cancellation) and
/// `c_k = u_k × u_{k+1}`: `A = Σ c_k / 2`, `S = ∫ (x − v_0) = Σ c_k (u_k + u_{k+1}) / 6`,
/// `M = ∫ |x − v_0|² = Σ c_k (|u_k|² + ⟨u_k, u_{k+1}⟩ + |u_{k+1}|²) / 12` (the triangle fan from
/// `v_0`), and `∫ |x − q|² = M + 2⟨v_0 − q, S⟩ + |v_0 − q|² A`.
fn integrals(poly: &[[f64; 2]], q: [f64; 2]) -> (f64, f64) {
    if poly.len() < 3 {
        return (0.0, 0.0);
    }
    let v0 = poly[0];
    let (mut a2, mut s6, mut m12) = (0.0, [0.0, 0.0], 0.0);
    for k in 1..poly.len() - 1 {
        let u = [poly[k][0] - v0[0], poly[k][1] - v0[1]];
        let w = [poly[k + 1][0] - v0[0], poly[k + 1][1] - v0[1]];
        let c = u[0] * w[1] - u[1] * w[0];
        a2 += c;
        s6[0] += c * (u[0] + w[0]);
        s6[1] += c * (u[1] + w[1]);
        m12 +=
            c * (u[0] * u[0] + u[1] * u[1] + u[0] * w[0] + u[1] * w[1] + w[0] * w[0] + w[1] * w[1]);
    }
    let area = 0.5 * a2;
    let d = [v0[0] - q[0], v0[1] - q[1]];
    let second =
        m12 / 12.0 + (d[0] * s6[0] + d[1] * s6[1]) / 3.0 + (d[0] * d[0] + d[1] * d[1]) * area;
    (area, second)
}

/// Newton direction: `H d = rhs` on the mean-zero subspace, by sparse Cholesky of `H` without its
/// last row and column (`d_n = 0`), then shifted to mean zero.
///
/// The off-diagonal weight of `(i, j)` is `ℓ_ij / |y_i − y_j|` with `ℓ_ij` the mean of the common
/// edge's lengths as measured on polygons `i` and `j` (equal up to rounding), so `H` is exactly
/// symmetric.
fn newton_direction(y: &[[f64; 2]], cells: &[Cell], rhs: &[f64]) -> Result<Vec<f64>> {
    let n = cells.len();
    let mut d = vec![0.0; n];
    if n == 1 {
        return Ok(d);
    }
    // (min, max, weight) from both sides of every edge, merged per pair.
    let mut pairs: Vec<(usize, usize, f64)> = Vec::with_capacity(8 * n);
    for (i, c) in cells.iter().enumerate() {
        for (k, &j) in c.labels.iter().enumerate() {
            if j == BOUNDARY {
                continue;
            }
            let dist = (y[i][0] - y[j][0]).hypot(y[i][1] - y[j][1]);
            pairs.push((i.min(j), i.max(j), 0.5 * edge_length(&c.poly, k) / dist));
        }
    }
    pairs.sort_by_key(|a| (a.0, a.1));
    pairs.dedup_by(|b, a| {
        if (a.0, a.1) == (b.0, b.1) {
            a.2 += b.2;
            true
        } else {
            false
        }
    });
    let m = n - 1;
    let mut diag = vec![0.0; m];
    let mut trip: Vec<Triplet<usize, usize, f64>> = Vec::with_capacity(pairs.len() + m);
    for &(a, b, w) in &pairs {
        if a < m {
            diag[a] += w;
        }
        if b < m {
            diag[b] += w;
            // Lower triangle only: row b > column a.
            trip.push(Triplet::new(b, a, -w));
        }
    }
    trip.extend(diag.iter().enumerate().map(|(i, &v)| Triplet::new(i, i, v)));
    let not_pd = |what: String| {
        Error::NotConverged(format!(
            "the Newton system (the cells' adjacency Laplacian) is not positive definite on \
             mean-zero vectors ({what}); the diagram is degenerate to rounding"
        ))
    };
    let mat = SparseColMat::<usize, f64>::try_new_from_triplets(m, m, &trip)
        .map_err(|e| not_pd(format!("{e:?}")))?;
    let llt = mat
        .sp_cholesky(Side::Lower)
        .map_err(|e| not_pd(format!("{e:?}")))?;
    let mut b = faer::Mat::<f64>::from_fn(m, 1, |i, _| rhs[i]);
    llt.solve_in_place(b.as_mut());
    for i in 0..m {
        d[i] = b[(i, 0)];
    }
    if d.iter().any(|v| !v.is_finite()) {
        return Err(not_pd("a non-finite direction".into()));
    }
    center(&mut d);
    Ok(d)
}
