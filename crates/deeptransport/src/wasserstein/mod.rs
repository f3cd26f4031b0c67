//! Wasserstein-2 distances (Section 4, METHODS §5–6) with the cost `c(x, y) = |x − y|²`:
//! Bures–Wasserstein between Gaussians, and optimal transport between weighted point clouds
//! (exact network simplex, 1-D by sorting, entropic Sinkhorn). Every point-cloud solver returns
//! one [`OtResult`], so later analyses can call them on arrays without files.

pub mod assignment;
pub mod bures;
pub mod exact;
pub mod one_d;
pub mod sinkhorn;

use crate::error::{Error, Result};
use crate::flow::Trajectory;
use ndarray::{Array1, Array2, ArrayView2};

/// A transport plan `P` between `a = Σ_i a_i δ_{x_i}` (`n` points) and `b = Σ_j b_j δ_{y_j}`
/// (`m` points): `P_ij ≥ 0`, `Σ_j P_ij = a_i`, `Σ_i P_ij = b_j`.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Only the non-zero entries `P[rows[k], cols[k]] = mass[k]` (an exact solver's basic
    /// solution has at most `n + m − 1` of them).
    Sparse {
        /// Row (a-point) index of each entry, 0-based.
        rows: Vec<usize>,
        /// Column (b-point) index of each entry, 0-based.
        cols: Vec<usize>,
        /// The mass moved, `P_ij`.
        mass: Vec<f64>,
    },
    /// The full `n × m` matrix (an entropic plan has no zero entry).
    Dense(Array2<f64>),
}

/// How a solver ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtStatus {
    /// Optimal (exact solvers) or within the requested marginal tolerance (Sinkhorn).
    Converged,
    /// Stopped at the iteration limit; the result is the last iterate.
    IterationLimit,
}

/// The result of an optimal-transport solver on two weighted point clouds.
#[derive(Debug, Clone)]
pub struct OtResult {
    /// The transport cost `⟨P, C⟩ = Σ_ij P_ij |x_i − y_j|²` of the returned plan (for the exact
    /// solver, `W₂²`).
    pub cost: f64,
    /// Dual potentials `(f, g)`, `f_i + g_j ≤ C_ij` at optimality for the exact problem, the
    /// entropic potentials for Sinkhorn; `n` and `m` values.
    pub potentials: (Array1<f64>, Array1<f64>),
    /// The transport plan; `None` when it was not formed (Sinkhorn without
    /// `SinkhornOptions::plan`: the dense `n × m` matrix is only built on request).
    pub plan: Option<Plan>,
    /// How the solver ended.
    pub status: OtStatus,
    /// Iterations (simplex pivots, Sinkhorn sweeps) performed.
    pub iterations: usize,
}

/// The exact optimal transport between two clouds with uniform weights (same dimension): by
/// sorting in `d = 1` ([`one_d::w2_1d`]); for two clouds of `n` points each — where an optimal
/// plan is a permutation (Birkhoff) — by the certified assignment solver
/// ([`assignment::assignment`], plan `P_iσ(i) = 1/n`, `iterations` = augmenting paths); otherwise
/// by the network simplex ([`exact::exact`]). Errors: those of the solvers; a solve that stopped
/// short of optimality is [`Error::NotConverged`] (`what` names the pair in the message).
pub fn uniform_ot(x: ArrayView2<f64>, y: ArrayView2<f64>, what: &str) -> Result<OtResult> {
    if x.ncols() == 1 {
        return one_d::w2_1d(x, y, None, None);
    }
    if x.nrows() == y.nrows() && x.nrows() > 0 {
        let a = assignment::assignment(x, y).map_err(|e| match e {
            Error::NotConverged(m) => Error::NotConverged(format!("{m} at {what}")),
            e => e,
        })?;
        let n = a.sigma.len();
        return Ok(OtResult {
            cost: a.cost,
            potentials: (Array1::from(a.u), Array1::from(a.v)),
            plan: Some(Plan::Sparse {
                rows: (0..n).collect(),
                cols: a.sigma,
                mass: vec![1.0 / n as f64; n],
            }),
            status: OtStatus::Converged,
            iterations: a.augmentations,
        });
    }
    let r = exact::exact(x, y, None, None, &exact::ExactOptions::default())?.ot;
    if r.status != OtStatus::Converged {
        return Err(Error::NotConverged(format!(
            "the network simplex stopped at its pivot limit ({} pivots) at {what}",
            r.iterations
        )));
    }
    Ok(r)
}

/// `W₂(μ_0, μ_k)` from the first slice of a trajectory to every slice `k` (uniform weights on the
/// `n` points): how far a map or flow has moved the cloud, as a distance between measures (METHODS
/// §6). Exact ([`uniform_ot`]); `0` at `k = 0`. Cost: `T` exact solves of size `n × n`.
/// Errors: those of the solvers; a solve stopped at its pivot limit is [`Error::NotConverged`].
pub fn w2_from_start(traj: &Trajectory) -> Result<Vec<f64>> {
    let start = traj.first();
    (0..traj.len_times())
        .map(|k| {
            if k == 0 {
                return Ok(0.0);
            }
            let r = uniform_ot(start, traj.at(k), &format!("slice {}", k + 1))?;
            Ok(r.cost.max(0.0).sqrt())
        })
        .collect()
}
