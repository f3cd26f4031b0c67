use super::Density;
use crate::error::{Error, Result};
use crate::linalg::Spd;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// The Gaussian measure `N(m, Σ)` with a full SPD covariance.
#[derive(Debug, Clone)]
pub struct Gaussian {
    mean: Array1<f64>,
    cov: Spd,
}

impl Gaussian {
    /// `N(mean, cov)`; `cov` must be symmetric positive definite and match `mean` in dimension.
    pub fn new(mean: Array1<f64>, cov: Array2<f64>) -> Result<Self> {
        if mean.is_empty() {
            return Err(Error::Empty {
                what: "Gaussian mean".into(),
            });
        }
        if let Some((k, &v)) = mean.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "Gaussian mean".into(),
                row: 1,
                col: k + 1,
                value: v,
            });
        }
        if cov.nrows() != mean.len() || cov.ncols() != mean.len() {
            return Err(Error::DimensionMismatch {
                what: format!("covariance of shape {}×{}", cov.nrows(), cov.ncols()),
                expected: mean.len(),
                got: cov.nrows().max(cov.ncols()),
            });
        }
        Ok(Gaussian {
            mean,
            cov: Spd::new("covariance", cov)?,
        })
    }

    /// The standard Gaussian `N(0, I_d)`.
    pub fn standard(d: usize) -> Self {
        Self::new(Array1::zeros(d), Array2::eye(d)).expect("I is SPD")
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean `m`.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The covariance `Σ`.
    pub fn cov(&self) -> ArrayView2<'_, f64> {
        self.cov.matrix()
    }

    /// The covariance with its Cholesky factor.
    pub fn spd(&self) -> &Spd {
        &self.cov
    }

    /// `n` draws `m + L z`, `z ~ N(0, I)`, `Σ = L Lᵀ`.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Array2<f64> {
        let d = self.dim();
        let z = Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal));
        z.dot(&self.cov.lower().t()) + &self.mean
    }

    /// `N(m, Σ + c I)`: the Gaussian convolved with `N(0, cI)` (`c > 0`), or deconvolved
    /// (`c < 0`) while `Σ + cI` stays positive definite.
    pub fn add_isotropic(&self, c: f64) -> Result<Self> {
        Self::new(
            self.mean.clone(),
            crate::linalg::add_diag(self.cov.matrix(), c),
        )
    }
}

impl Density for Gaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `log N(x; m, Σ) = −½ (d log 2π + log det Σ + (x − m)ᵀ Σ⁻¹ (x − m))`.
    fn log_density(&self, x: ArrayView1<f64>) -> f64 {
        let d = self.dim() as f64;
        let r = &x - &self.mean;
        -0.5 * (d * (2.0 * PI).ln() + self.cov.log_det() + self.cov.mahalanobis_sq(r.view()))
    }

    /// `∇log N(x; m, Σ) = −Σ⁻¹ (x − m)`.
    fn score(&self, x: ArrayView1<f64>) -> Array1<f64> {
        -self.cov.solve((&x - &self.mean).view())
    }
}
