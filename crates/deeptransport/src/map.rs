//! Transport maps: anything that moves a batch of points `ℝᵐ → ℝⁿ`.

use crate::dae;
use crate::error::Result;
use crate::measure::Measure;
use crate::noise::Noise;
use ndarray::{Array2, ArrayView2};

/// A map applied to a batch of points, one per row. The optimal DAE, a layer of a deep DAE, a
/// closed-form flow at time `t` and a trained network layer all move points this way.
pub trait TransportMap: Sync {
    /// Input dimension `m`.
    fn dim_in(&self) -> usize;
    /// Output dimension `n`.
    fn dim_out(&self) -> usize;
    /// The images of the rows of `x` (`k × m` in, `k × n` out).
    fn apply(&self, x: ArrayView2<f64>) -> Result<Array2<f64>>;
}

/// The optimal DAE `Φ_t` of a measure under a noise family (Theorem 2.1), as a map.
#[derive(Debug, Clone)]
pub struct OptimalDae {
    /// The data measure μ₀.
    pub measure: Measure,
    /// The noise family ν.
    pub noise: Noise,
    /// The noise variance `t > 0`.
    pub t: f64,
}

impl TransportMap for OptimalDae {
    fn dim_in(&self) -> usize {
        self.measure.dim()
    }
    fn dim_out(&self) -> usize {
        self.measure.dim()
    }
    fn apply(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        dae::optimal(&self.measure, self.noise, self.t, x, &|_| {})
    }
}
