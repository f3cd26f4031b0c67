use super::{Density, Gaussian};
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1};
use rand::Rng;

/// The Gaussian mixture `Σ_k π_k N(m_k, Σ_k)`.
#[derive(Debug, Clone)]
pub struct Mixture {
    weights: Array1<f64>,
    components: Vec<Gaussian>,
}

impl Mixture {
    /// A mixture; `weights` are non-negative with a positive sum (normalised here), one per
    /// component, and every component has the same dimension.
    pub fn new(weights: Array1<f64>, components: Vec<Gaussian>) -> Result<Self> {
        if components.is_empty() {
            return Err(Error::Empty {
                what: "mixture components".into(),
            });
        }
        let weights =
            crate::measure::empirical::normalise_weights(weights.view(), components.len())?;
        let d = components[0].dim();
        for (k, c) in components.iter().enumerate() {
            if c.dim() != d {
                return Err(Error::DimensionMismatch {
                    what: format!("mixture component {}", k + 1),
                    expected: d,
                    got: c.dim(),
                });
            }
        }
        Ok(Mixture {
            weights,
            components,
        })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.components[0].dim()
    }

    /// The normalised weights `π_k`.
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    /// The components `N(m_k, Σ_k)`.
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// `Σ_k π_k N(m_k, Σ_k + cI)`: convolution with `N(0, cI)` for `c > 0` (this is `W_t * μ₀`
    /// with `c = t`), deconvolution for `c < 0` while every `Σ_k + cI` stays positive definite.
    pub fn add_isotropic(&self, c: f64) -> Result<Self> {
        let components = self
            .components
            .iter()
            .map(|g| g.add_isotropic(c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Mixture {
            weights: self.weights.clone(),
            components,
        })
    }

    /// The mean `Σ_k π_k m_k`.
    pub fn mean(&self) -> Array1<f64> {
        let mut m = Array1::zeros(self.dim());
        for (w, g) in self.weights.iter().zip(&self.components) {
            m.scaled_add(*w, &g.mean());
        }
        m
    }

    /// The covariance `Σ_k π_k (Σ_k + m_k m_kᵀ) − m mᵀ`.
    pub fn covariance(&self) -> Array2<f64> {
        let d = self.dim();
        let m = self.mean();
        let mut c = Array2::zeros((d, d));
        for (w, g) in self.weights.iter().zip(&self.components) {
            let dm = &g.mean() - &m;
            c.scaled_add(*w, &g.cov());
            for i in 0..d {
                for j in 0..d {
                    c[[i, j]] += w * dm[i] * dm[j];
                }
            }
        }
        c
    }

    /// `n` draws: a component by its weight, then a draw from it.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Array2<f64> {
        let mut out = Array2::zeros((n, self.dim()));
        let cdf = cumulative(&self.weights);
        for mut row in out.rows_mut() {
            let k = pick(&cdf, rng.random::<f64>());
            row.assign(&self.components[k].sample(1, rng).row(0));
        }
        out
    }

    /// Posterior responsibilities `r_k(x) = π_k N_k(x) / Σ_j π_j N_j(x)`, in log-space.
    pub fn responsibilities(&self, x: ArrayView1<f64>) -> Array1<f64> {
        let logs = self.log_terms(x);
        let lse = log_sum_exp(logs.view());
        logs.mapv(|l| (l - lse).exp())
    }

    /// `log π_k + log N(x; m_k, Σ_k)` for every component.
    fn log_terms(&self, x: ArrayView1<f64>) -> Array1<f64> {
        self.weights
            .iter()
            .zip(&self.components)
            .map(|(w, g)| w.ln() + g.log_density(x))
            .collect()
    }
}

impl Density for Mixture {
    fn dim(&self) -> usize {
        self.components[0].dim()
    }

    /// `log Σ_k π_k N(x; m_k, Σ_k)`, by a log-sum-exp so that far tails do not underflow.
    fn log_density(&self, x: ArrayView1<f64>) -> f64 {
        log_sum_exp(self.log_terms(x).view())
    }

    /// `∇log μ(x) = Σ_k r_k(x) (−Σ_k⁻¹ (x − m_k))`.
    fn score(&self, x: ArrayView1<f64>) -> Array1<f64> {
        let r = self.responsibilities(x);
        let mut s = Array1::zeros(self.dim());
        for (rk, g) in r.iter().zip(&self.components) {
            if *rk > 0.0 {
                s.scaled_add(*rk, &g.score(x));
            }
        }
        s
    }
}

/// `log Σ exp(a_i)`, exact for `−∞` entries and stable for large ones.
pub(crate) fn log_sum_exp(a: ArrayView1<f64>) -> f64 {
    let m = a.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + a.fold(0.0, |s, &v| s + (v - m).exp()).ln()
}

pub(crate) fn cumulative(w: &Array1<f64>) -> Vec<f64> {
    let mut acc = 0.0;
    w.iter()
        .map(|v| {
            acc += v;
            acc
        })
        .collect()
}

/// Index `k` with `cdf[k−1] ≤ u < cdf[k]` (the last index absorbs rounding at the top).
pub(crate) fn pick(cdf: &[f64], u: f64) -> usize {
    let u = u * cdf[cdf.len() - 1];
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}
