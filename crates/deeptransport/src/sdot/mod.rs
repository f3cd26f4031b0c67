//! Semi-discrete optimal transport (METHODS §8, seed 003): from a source measure `μ` with a
//! density to a discrete target `ν = Σ_i ν_i δ_{y_i}`.
//!
//! The Brenier potential is `u_h(x) = max_i (⟨x, y_i⟩ + h_i)`, the map `T_h(x) = y_{argmax_i}`,
//! and the power cells `W_i(h) = {x : ⟨x, y_i⟩ + h_i ≥ ⟨x, y_j⟩ + h_j ∀j}`. The potential `h` solves
//! `μ(W_i(h)) = ν_i` for every `i`: the minimiser of the convex energy
//! `E(h) = ∫ u_h dμ − Σ_i ν_i h_i`, whose gradient is `∂E/∂h_i = μ(W_i(h)) − ν_i`. `h` is unique up
//! to a constant and is reported with mean zero.
//!
//! Solvers: exact in `d = 1` ([`one_d`], closed form), exact cells and damped Newton in `d = 2`
//! for the cube ([`newton2d`]), quasi-Monte-Carlo cell masses with Adam in any dimension
//! ([`qmc`]). [`solve`] validates the problem, merges duplicate targets and picks the solver;
//! [`extended`] generates from the solved map, optionally interpolating across the regular part
//! of the cell boundaries (AE-OT).

pub mod extended;
pub mod newton2d;
pub mod one_d;
pub mod qmc;

use crate::error::{Error, Result, fmt_num};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// The source measure `μ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Uniform on the cube `[−½, ½]ᵈ` (volume 1).
    Cube,
    /// The standard normal `N(0, I_d)`.
    Normal,
}

impl Source {
    /// The name used by the CLI and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Source::Cube => "cube",
            Source::Normal => "normal",
        }
    }
}

/// Which solver [`solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Exact where the source allows it (`d = 1`; `d = 2` with the cube), else QMC and Adam.
    Auto,
    /// Exact cells: the closed form in `d = 1`, damped Newton on polygons in `d = 2` (cube).
    Newton,
    /// Quasi-Monte-Carlo cell masses and Adam, any dimension.
    Adam,
}

/// Options of [`solve`].
#[derive(Debug, Clone)]
pub struct SdotOptions {
    /// Solver choice.
    pub method: Method,
    /// Target accuracy `max_i |μ(W_i) − ν_i| / ν_i`, in `(0, 1)`.
    pub tol: f64,
    /// Iteration limit (Newton steps or Adam steps).
    pub max_iter: usize,
    /// Seed of the QMC sequence's random shift.
    pub seed: u64,
}

impl Default for SdotOptions {
    fn default() -> Self {
        SdotOptions {
            method: Method::Auto,
            tol: 1e-3,
            max_iter: 20_000,
            seed: 0,
        }
    }
}

/// A solved semi-discrete problem: the potential, the cells' masses and diagnostics.
#[derive(Debug, Clone)]
pub struct Sdot {
    /// Targets after merging duplicates (`n × d`).
    pub targets: Array2<f64>,
    /// Their masses `ν_i` (summing to 1).
    pub nu: Array1<f64>,
    /// For each input row, its row in `targets` (the identity without duplicates).
    pub merged_index: Vec<usize>,
    /// The source.
    pub source: Source,
    /// The solver that ran ([`Method::Newton`] or [`Method::Adam`]).
    pub method: Method,
    /// The potential `h` (mean zero).
    pub h: Array1<f64>,
    /// The cell masses `μ(W_i(h))` as the solver measured them (exact, or QMC estimates).
    pub masses: Array1<f64>,
    /// Iterations made.
    pub iterations: usize,
    /// Whether `max_mass_error ≤ tol` was reached.
    pub converged: bool,
    /// `max_i |μ(W_i) − ν_i| / ν_i`.
    pub max_mass_error: f64,
    /// Cells of zero measured mass.
    pub empty_cells: usize,
    /// `∫ |x − T(x)|² dμ(x)` (exact, or the QMC estimate).
    pub transport_cost: f64,
    /// QMC samples of the last iteration (0 for exact solvers).
    pub samples: usize,
}

/// Validated targets: finite, one dimension, positive weights normalised, exact duplicates
/// merged (their weights summed), with the map from input rows to merged rows.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Distinct target points.
    pub points: Array2<f64>,
    /// Their normalised weights.
    pub nu: Array1<f64>,
    /// Input row → merged row.
    pub index: Vec<usize>,
}

impl Targets {
    /// Validates and merges. Errors: no row or no column ([`Error::Empty`]), a non-finite
    /// coordinate ([`Error::NonFinite`], 1-based row and column), weights of the wrong length,
    /// not finite or not positive ([`Error::InvalidWeights`], naming the row).
    pub fn new(y: ArrayView2<f64>, weights: Option<ArrayView1<f64>>) -> Result<Targets> {
        let (n, d) = y.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty {
                what: "target points".into(),
            });
        }
        crate::error::check_finite("target points", y)?;
        let w: Array1<f64> = match weights {
            None => Array1::from_elem(n, 1.0),
            Some(w) => {
                if w.len() != n {
                    return Err(Error::InvalidWeights(format!(
                        "{} target weights for {n} target points",
                        w.len()
                    )));
                }
                if let Some((i, v)) = w
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(v.is_finite() && **v > 0.0))
                {
                    return Err(Error::InvalidWeights(format!(
                        "target weight {} at row {} is not a positive finite number",
                        fmt_num(*v),
                        i + 1
                    )));
                }
                w.to_owned()
            }
        };
        // Merge exact duplicates: sort the rows lexicographically (total order on the bits'
        // values), equal neighbours share a merged row, numbered by first appearance.
        let mut order: Vec<usize> = (0..n).collect();
        let row_cmp = |a: &usize, b: &usize| {
            y.row(*a)
                .iter()
                .zip(y.row(*b).iter())
                .map(|(p, q)| p.total_cmp(q))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        order.sort_by(|a, b| row_cmp(a, b).then(a.cmp(b)));
        let mut first_of = vec![0usize; n];
        for k in 0..n {
            first_of[order[k]] = if k > 0 && row_cmp(&order[k - 1], &order[k]).is_eq() {
                first_of[order[k - 1]]
            } else {
                order[k]
            };
        }
        let mut index = vec![usize::MAX; n];
        let mut rows = Vec::new();
        for i in 0..n {
            let f = first_of[i];
            if index[f] == usize::MAX {
                index[f] = rows.len();
                rows.push(f);
            }
            index[i] = index[f];
        }
        let mut nu = Array1::<f64>::zeros(rows.len());
        for i in 0..n {
            nu[index[i]] += w[i];
        }
        let total = nu.sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(Error::InvalidWeights(format!(
                "the target weights sum to {}",
                fmt_num(total)
            )));
        }
        nu /= total;
        Ok(Targets {
            points: y.select(ndarray::Axis(0), &rows),
            nu,
            index,
        })
    }

    /// Rows merged away (input rows minus distinct rows).
    pub fn merged(&self) -> usize {
        self.index.len() - self.points.nrows()
    }
}

/// `max_i |m_i − ν_i| / ν_i`.
pub fn max_relative_error(masses: ArrayView1<f64>, nu: ArrayView1<f64>) -> f64 {
    masses
        .iter()
        .zip(nu)
        .map(|(m, v)| (m - v).abs() / v)
        .fold(0.0, f64::max)
}

/// Solves `μ(W_i(h)) = ν_i` (module docs) for targets `y` (`n × d`) with optional positive
/// weights (normalised here; default uniform). Exact duplicate rows are merged with summed
/// weights ([`Sdot::merged_index`]). `Method::Newton` needs `d = 1`, or `d = 2` with the cube.
/// Errors: invalid targets ([`Targets::new`]), `tol` outside `(0, 1)`, `Newton` where it does not
/// apply ([`Error::InvalidParameter`]); solver failures.
pub fn solve(
    y: ArrayView2<f64>,
    weights: Option<ArrayView1<f64>>,
    source: Source,
    opts: &SdotOptions,
) -> Result<Sdot> {
    if !(opts.tol > 0.0 && opts.tol < 1.0) {
        return Err(Error::InvalidParameter {
            name: "tol".into(),
            value: format!("{:e}", opts.tol),
            reason: "the relative mass tolerance must lie in (0, 1)".into(),
        });
    }
    let t = Targets::new(y, weights)?;
    let d = t.points.ncols();
    let exact_possible = d == 1 || (d == 2 && source == Source::Cube);
    let method = match opts.method {
        Method::Auto if exact_possible => Method::Newton,
        Method::Auto => Method::Adam,
        Method::Newton if !exact_possible => {
            return Err(Error::InvalidParameter {
                name: "method".into(),
                value: "newton".into(),
                reason: format!(
                    "exact cells need d = 1, or d = 2 with the cube source (here d = {d}, \
                     source {}); use adam",
                    source.name()
                ),
            });
        }
        m => m,
    };
    let (h, masses, iterations, transport_cost, samples) = match (method, d) {
        (Method::Newton, 1) => {
            let r = one_d::solve_1d(t.points.column(0), t.nu.view(), source);
            (r.h, r.masses, 0, r.transport_cost, 0)
        }
        (Method::Newton, _) => {
            // Newton converges quadratically: solving to rounding level costs a step or two
            // more than the requested tolerance and makes the cells exact.
            let o = newton2d::Newton2dOptions {
                tol: opts.tol.min(1e-10),
                max_iter: opts.max_iter.min(1000),
            };
            let r = newton2d::newton_2d(t.points.view(), t.nu.view(), None, &o)?;
            (r.h, r.masses, r.iterations, r.transport_cost, 0)
        }
        _ => {
            let r = qmc::solve_qmc(t.points.view(), t.nu.view(), source, opts)?;
            (r.h, r.masses, r.iterations, r.transport_cost, r.samples)
        }
    };
    let max_mass_error = max_relative_error(masses.view(), t.nu.view());
    Ok(Sdot {
        empty_cells: masses.iter().filter(|&&m| m <= 0.0).count(),
        converged: max_mass_error <= opts.tol,
        max_mass_error,
        targets: t.points,
        nu: t.nu,
        merged_index: t.index,
        source,
        method,
        h,
        masses,
        iterations,
        transport_cost,
        samples,
    })
}
