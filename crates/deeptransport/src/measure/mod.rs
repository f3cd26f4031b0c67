//! Data measures `μ₀` on ℝᵈ (METHODS §1): Gaussian, Gaussian mixture and weighted point cloud.
//!
//! Each can be sampled with an explicit RNG and reports its mean and covariance; the two with a
//! density also give `log μ₀(x)` and the score `∇log μ₀(x)`.

pub(crate) mod empirical;
mod gaussian;
mod mixture;

pub use empirical::Empirical;
pub use gaussian::Gaussian;
pub use mixture::Mixture;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// A measure with a smooth, everywhere-positive density: what quadrature and score-based
/// formulas need.
pub trait Density: Sync {
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// `log μ(x)` (normalised), for `x ∈ ℝᵈ`.
    fn log_density(&self, x: ArrayView1<f64>) -> f64;
    /// The score `∇log μ(x)`.
    fn score(&self, x: ArrayView1<f64>) -> Array1<f64>;
}

/// A user-supplied log-density (for quadrature in d ≤ 2); the score is taken by central
/// differences, so prefer the closed-form measures where they apply.
pub struct LogDensityFn<F> {
    dim: usize,
    f: F,
}

impl<F: Fn(ArrayView1<f64>) -> f64 + Sync> LogDensityFn<F> {
    /// Wraps `f(x) = log μ(x)` on ℝ^`dim` (it need not be normalised for Φ_t).
    pub fn new(dim: usize, f: F) -> Self {
        LogDensityFn { dim, f }
    }
}

impl<F: Fn(ArrayView1<f64>) -> f64 + Sync> Density for LogDensityFn<F> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn log_density(&self, x: ArrayView1<f64>) -> f64 {
        (self.f)(x)
    }
    fn score(&self, x: ArrayView1<f64>) -> Array1<f64> {
        // Central differences with h ∝ ε^{1/3} balance truncation O(h²) and rounding O(ε/h).
        let mut g = Array1::zeros(self.dim);
        let mut xp = x.to_owned();
        for k in 0..self.dim {
            let h = 6e-6 * (1.0 + x[k].abs());
            xp[k] = x[k] + h;
            let fp = (self.f)(xp.view());
            xp[k] = x[k] - h;
            let fm = (self.f)(xp.view());
            xp[k] = x[k];
            g[k] = (fp - fm) / (2.0 * h);
        }
        g
    }
}

/// Any data measure the library handles.
#[derive(Debug, Clone)]
pub enum Measure {
    /// `N(m, Σ)`.
    Gaussian(Gaussian),
    /// `Σ_k π_k N(m_k, Σ_k)`.
    Mixture(Mixture),
    /// `Σ_i w_i δ_{x_i}`.
    Empirical(Empirical),
}

impl Measure {
    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        match self {
            Measure::Gaussian(g) => g.dim(),
            Measure::Mixture(m) => m.dim(),
            Measure::Empirical(e) => e.dim(),
        }
    }

    /// The mean `E[x]`.
    pub fn mean(&self) -> Array1<f64> {
        match self {
            Measure::Gaussian(g) => g.mean().to_owned(),
            Measure::Mixture(m) => m.mean(),
            Measure::Empirical(e) => e.mean(),
        }
    }

    /// The covariance `E[(x − m)(x − m)ᵀ]`.
    pub fn covariance(&self) -> Array2<f64> {
        match self {
            Measure::Gaussian(g) => g.cov().to_owned(),
            Measure::Mixture(m) => m.covariance(),
            Measure::Empirical(e) => e.covariance(),
        }
    }

    /// `n` independent draws, one per row.
    pub fn sample<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Array2<f64> {
        match self {
            Measure::Gaussian(g) => g.sample(n, rng),
            Measure::Mixture(m) => m.sample(n, rng),
            Measure::Empirical(e) => e.sample(n, rng),
        }
    }

    /// The density, for the measures that have one.
    pub fn density(&self) -> Option<&dyn Density> {
        match self {
            Measure::Gaussian(g) => Some(g),
            Measure::Mixture(m) => Some(m),
            Measure::Empirical(_) => None,
        }
    }
}

/// Applies `f` to every row, giving an `n × d'` array.
pub(crate) fn map_rows(
    x: ArrayView2<f64>,
    out_dim: usize,
    f: impl Fn(ArrayView1<f64>) -> Array1<f64>,
) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), out_dim));
    for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
        o.assign(&f(row));
    }
    out
}
