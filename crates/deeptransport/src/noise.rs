//! Noise families `ν_t`: zero mean, covariance `t·I`, `t` the noise **variance** (METHODS §1).
//!
//! | family | density of one draw `ε ∈ ℝᵈ` | parameter from `t` |
//! |---|---|---|
//! | Gaussian | `(2πt)^{-d/2} exp(−|ε|²/2t)` | — |
//! | Laplace (i.i.d. coordinates) | `∏ (2b)⁻¹ exp(−|ε_k|/b)` | `b = √(t/2)` |
//! | uniform cube | `(2a)^{-d}` on `[−a, a]ᵈ` | `a = √(3t)` |
//! | Student-t, ν > 2 (multivariate, elliptical) | `∝ (1 + |ε|²/(ν s²))^{−(ν+d)/2}` | `s² = t(ν−2)/ν` |
//!
//! The Student-t family is the elliptical multivariate t (as `scipy.stats.multivariate_t` with
//! shape `s² I`), not a product of one-dimensional t's; in d = 1 the two agree.

use crate::error::{Error, Result, check_time};
use crate::kernel::PairKernel;
use ndarray::Array2;
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, Open01, StandardNormal};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// A noise family; the variance `t` is supplied at each use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// `N(0, tI)`.
    Gaussian,
    /// i.i.d. Laplace coordinates with scale `b = √(t/2)`.
    Laplace,
    /// Uniform on the cube `[−a, a]ᵈ`, `a = √(3t)`.
    Uniform,
    /// Multivariate Student-t with `nu > 2` degrees of freedom and covariance `t·I`.
    Student {
        /// Degrees of freedom ν > 2 (finite variance).
        nu: f64,
    },
}

impl Noise {
    /// Checks the family's own parameter (Student ν must be finite and > 2 for a finite variance).
    pub fn check(self) -> Result<Self> {
        if let Noise::Student { nu } = self
            && !(nu.is_finite() && nu > 2.0)
        {
            return Err(Error::InvalidParameter {
                name: "student degrees of freedom ν".into(),
                value: crate::error::fmt_num(nu),
                reason: "must be finite and > 2 so that the noise has variance t".into(),
            });
        }
        Ok(self)
    }

    /// Laplace scale `b = √(t/2)`.
    pub fn laplace_scale(t: f64) -> f64 {
        (0.5 * t).sqrt()
    }

    /// Uniform half-width `a = √(3t)`.
    pub fn uniform_half_width(t: f64) -> f64 {
        (3.0 * t).sqrt()
    }

    /// Student-t squared scale `s² = t(ν−2)/ν`.
    pub fn student_scale_sq(nu: f64, t: f64) -> f64 {
        t * (nu - 2.0) / nu
    }

    /// The normalised log-density `log ν_t(ε)` of one draw `ε ∈ ℝᵈ`.
    pub fn log_density(&self, eps: &[f64], t: f64) -> f64 {
        let d = eps.len() as f64;
        match *self {
            Noise::Gaussian => {
                let r2: f64 = eps.iter().map(|e| e * e).sum();
                -0.5 * d * (2.0 * PI * t).ln() - r2 / (2.0 * t)
            }
            Noise::Laplace => {
                let b = Self::laplace_scale(t);
                let l1: f64 = eps.iter().map(|e| e.abs()).sum();
                -d * (2.0 * b).ln() - l1 / b
            }
            Noise::Uniform => {
                let a = Self::uniform_half_width(t);
                if eps.iter().all(|e| e.abs() <= a) {
                    -d * (2.0 * a).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Noise::Student { nu } => {
                let s2 = Self::student_scale_sq(nu, t);
                let r2: f64 = eps.iter().map(|e| e * e).sum();
                libm::lgamma(0.5 * (nu + d))
                    - libm::lgamma(0.5 * nu)
                    - 0.5 * d * (nu * PI * s2).ln()
                    - 0.5 * (nu + d) * (r2 / (nu * s2)).ln_1p()
            }
        }
    }

    /// The pairwise log-weight `log ν_t(y − x)` up to an additive constant, as the kernel module
    /// evaluates it (constants cancel in every ratio the library forms).
    pub fn pair_kernel(&self, t: f64, dim: usize) -> PairKernel {
        match *self {
            Noise::Gaussian => PairKernel::Gaussian { inv_two_t: 0.5 / t },
            Noise::Laplace => PairKernel::Laplace {
                inv_b: 1.0 / Self::laplace_scale(t),
            },
            Noise::Uniform => PairKernel::Cube {
                half_width: Self::uniform_half_width(t),
            },
            Noise::Student { nu } => PairKernel::Student {
                half_nu_plus_d: 0.5 * (nu + dim as f64),
                inv_nu_s2: 1.0 / (nu * Self::student_scale_sq(nu, t)),
            },
        }
    }

    /// Draws `n` independent noise vectors in ℝᵈ with covariance `t·I`.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        n: usize,
        d: usize,
        t: f64,
        rng: &mut R,
    ) -> Result<Array2<f64>> {
        check_time("t", t)?;
        self.check()?;
        let mut out = Array2::zeros((n, d));
        match *self {
            Noise::Gaussian => {
                let s = t.sqrt();
                out.mapv_inplace(|_| s * rng.sample::<f64, _>(StandardNormal));
            }
            Noise::Laplace => {
                let b = Self::laplace_scale(t);
                // Inverse CDF on u ∈ (−½, ½): ε = −b·sign(u)·ln(1 − 2|u|). The open interval
                // matters: u = −½ would give ε = −∞.
                out.mapv_inplace(|_| {
                    let u: f64 = rng.sample::<f64, _>(Open01) - 0.5;
                    -b * u.signum() * (-2.0 * u.abs()).ln_1p()
                });
            }
            Noise::Uniform => {
                let a = Self::uniform_half_width(t);
                out.mapv_inplace(|_| a * (2.0 * rng.random::<f64>() - 1.0));
            }
            Noise::Student { nu } => {
                let s = Self::student_scale_sq(nu, t).sqrt();
                let chi = ChiSquared::new(nu).map_err(|e| Error::InvalidParameter {
                    name: "student degrees of freedom ν".into(),
                    value: crate::error::fmt_num(nu),
                    reason: e.to_string(),
                })?;
                for mut row in out.rows_mut() {
                    let w = (chi.sample(rng) / nu).sqrt();
                    row.mapv_inplace(|_| s * rng.sample::<f64, _>(StandardNormal) / w);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Noise {
    /// The CLI spelling: `gaussian`, `laplace`, `uniform`, `student:NU`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Noise::Gaussian => write!(f, "gaussian"),
            Noise::Laplace => write!(f, "laplace"),
            Noise::Uniform => write!(f, "uniform"),
            Noise::Student { nu } => write!(f, "student:{nu}"),
        }
    }
}

impl FromStr for Noise {
    type Err = Error;

    /// Parses the CLI spelling (`gaussian`, `laplace`, `uniform`, `student:NU`) and checks ν > 2.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParameter {
            name: "noise".into(),
            value: s.into(),
            reason: "expected gaussian, laplace, uniform or student:NU with NU > 2".into(),
        };
        let noise = match s.trim().to_ascii_lowercase().as_str() {
            "gaussian" | "normal" => Noise::Gaussian,
            "laplace" => Noise::Laplace,
            "uniform" => Noise::Uniform,
            other => {
                let nu = other
                    .strip_prefix("student:")
                    .ok_or_else(bad)?
                    .parse::<f64>()
                    .map_err(|_| bad())?;
                Noise::Student { nu }
            }
        };
        noise.check()
    }
}
