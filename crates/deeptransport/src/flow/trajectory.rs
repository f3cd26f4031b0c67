//! Trajectories: the same points at a sequence of times or layers (ARCHITECTURE "Seams worth
//! having"; METHODS §4 and §7).

use crate::error::{Error, Result, check_finite};
use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, Axis, s};

/// The positions `x_k^{(i)} ∈ ℝᵈ` of the same `n` points at `T` times `t_0 ≤ t_1 ≤ … ≤ t_{T−1}`
/// (layers of a deep DAE, sample times of a flow), stored as a `T × n × d` array.
///
/// Every analysis of motion (entropy along the flow, W₂ to a reference flow, line shapes) takes
/// one. Layers of different widths are embedded in the common space `ℝ^{max d}` by zero padding
/// (METHODS §7, [`Trajectory::from_layers`]). Invariants, checked by [`Trajectory::new`]:
/// `T ≥ 1`, `times.len() == T`, times finite and non-decreasing, positions finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    positions: Array3<f64>,
    times: Vec<f64>,
}

impl Trajectory {
    /// A trajectory from a `T × n × d` position array and its `T` times.
    ///
    /// Errors: [`Error::Empty`] when `T = 0`; [`Error::DimensionMismatch`] when
    /// `times.len() ≠ T`; [`Error::InvalidParameter`] for a non-finite or decreasing time;
    /// [`Error::NonFinite`] for a NaN/±∞ position (the array name gives the time index, row and
    /// column the point and coordinate). Cost `O(T·n·d)`.
    pub fn new(positions: Array3<f64>, times: Vec<f64>) -> Result<Self> {
        let t_len = positions.len_of(Axis(0));
        if t_len == 0 {
            return Err(Error::Empty {
                what: "trajectory (no times)".into(),
            });
        }
        if times.len() != t_len {
            return Err(Error::DimensionMismatch {
                what: "trajectory times".into(),
                expected: t_len,
                got: times.len(),
            });
        }
        for (k, &t) in times.iter().enumerate() {
            if !t.is_finite() {
                return Err(Error::InvalidParameter {
                    name: format!("time {k}"),
                    value: crate::error::fmt_num(t),
                    reason: "trajectory times must be finite".into(),
                });
            }
            if k > 0 && t < times[k - 1] {
                return Err(Error::InvalidParameter {
                    name: format!("time {k}"),
                    value: crate::error::fmt_num(t),
                    reason: format!(
                        "trajectory times must be non-decreasing (previous time {})",
                        times[k - 1]
                    ),
                });
            }
        }
        for (k, slab) in positions.outer_iter().enumerate() {
            check_finite(&format!("trajectory positions at time index {k}"), slab)?;
        }
        Ok(Trajectory { positions, times })
    }

    /// Layer outputs `g_ℓ(…)` of possibly different widths `d_ℓ`, one `n × d_ℓ` array per time,
    /// embedded in `ℝ^D`, `D = max_ℓ d_ℓ`, by zero padding `x ↦ (x, 0, …, 0)` (METHODS §7: a layer
    /// `ℝᵐ → ℝⁿ` is a transport map once both sides live in `ℝ^max(m,n)`).
    ///
    /// Errors: as [`Trajectory::new`], plus [`Error::DimensionMismatch`] when the layers do not
    /// all have the same number of points `n`. Cost `O(T·n·D)`.
    pub fn from_layers(layers: Vec<Array2<f64>>, times: Vec<f64>) -> Result<Self> {
        let Some(first) = layers.first() else {
            return Err(Error::Empty {
                what: "trajectory (no layers)".into(),
            });
        };
        let n = first.nrows();
        let d = layers.iter().map(|l| l.ncols()).max().unwrap_or(0);
        for l in &layers {
            if l.nrows() != n {
                return Err(Error::DimensionMismatch {
                    what: "points per layer".into(),
                    expected: n,
                    got: l.nrows(),
                });
            }
        }
        let mut positions = Array3::zeros((layers.len(), n, d));
        for (k, l) in layers.iter().enumerate() {
            positions.slice_mut(s![k, .., ..l.ncols()]).assign(l);
        }
        Trajectory::new(positions, times)
    }

    /// The number of times `T`.
    pub fn len_times(&self) -> usize {
        self.times.len()
    }

    /// The number of points `n`.
    pub fn n_points(&self) -> usize {
        self.positions.len_of(Axis(1))
    }

    /// The (common, padded) dimension `d`.
    pub fn dim(&self) -> usize {
        self.positions.len_of(Axis(2))
    }

    /// The times `t_0 ≤ … ≤ t_{T−1}`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// All positions, `T × n × d`.
    pub fn positions(&self) -> ArrayView3<'_, f64> {
        self.positions.view()
    }

    /// The `n × d` positions at time index `k` (panics if `k ≥ T`).
    pub fn at(&self, k: usize) -> ArrayView2<'_, f64> {
        self.positions.index_axis(Axis(0), k)
    }

    /// The positions at the first time `t_0`.
    pub fn first(&self) -> ArrayView2<'_, f64> {
        self.at(0)
    }

    /// The positions at the last time `t_{T−1}`.
    pub fn last(&self) -> ArrayView2<'_, f64> {
        self.at(self.len_times() - 1)
    }

    /// The length of each point's broken-line path, `ℓ^{(i)} = Σ_{k=0}^{T−2} |x_{k+1}^{(i)} −
    /// x_k^{(i)}|` (Euclidean norm; zero when `T = 1`). Cost `O(T·n·d)`.
    pub fn displacement_lengths(&self) -> Array1<f64> {
        let mut len = Array1::zeros(self.n_points());
        for k in 1..self.len_times() {
            let step: Array2<f64> = &self.at(k) - &self.at(k - 1);
            for (l, row) in len.iter_mut().zip(step.outer_iter()) {
                *l += row.dot(&row).sqrt();
            }
        }
        len
    }
}
