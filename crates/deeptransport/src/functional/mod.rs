//! Functionals of measures: Shannon and Tsallis entropies (METHODS §5, paper Section 4).
//!
//! **Sign correction (METHODS §5).** The paper's "Rényi entropy" `H^α[μ] = ∫ (μ^α − μ)/(α − 1)`
//! tends to `−H[μ]` as `α → 1`, so its W₂ gradient flow is `∂_t μ = +Δμ^α` and eq. (17) as printed
//! has the wrong sign. This module provides the Tsallis entropy
//! `S_α[μ] = (1 − ∫ μ^α)/(α − 1) = −H^α[μ]`, which tends to `+H[μ]`; the backward porous medium
//! equation `∂_t μ = −Δμ^α` (17) is its W₂ gradient *descent*.

pub mod knn;

use crate::error::{Error, Result};
use crate::linalg::Spd;
use ndarray::ArrayView2;
use std::f64::consts::PI;

/// Shannon entropy of `N(m, Σ)` (METHODS §5): `H = ½ log det(2πe Σ) = ½ (d log(2πe) + log det Σ)`.
///
/// Domain: `Σ` symmetric positive definite (else [`Error::NotSpd`]). Accuracy: `log det Σ` from
/// the Cholesky factor, absolute error `O(d·ε)` plus the conditioning of `Σ`.
pub fn gaussian_entropy(cov: ArrayView2<f64>) -> Result<f64> {
    let spd = Spd::new("covariance", cov.to_owned())?;
    let d = spd.dim() as f64;
    Ok(0.5 * (d * (2.0 * PI * std::f64::consts::E).ln() + spd.log_det()))
}

/// Tsallis entropy of `N(m, Σ)` (METHODS §5, the sign-corrected functional of eq. 17):
/// `S_α = (1 − ∫ μ^α)/(α − 1)` with, for `μ = N(m, Σ)` in dimension `d`,
///
/// `∫ μ^α = (2π)^{d(1−α)/2} det(Σ)^{(1−α)/2} α^{−d/2}`
///
/// (derivation: `μ^α = (2π)^{−dα/2} det Σ^{−α/2} exp(−α/2 (x−m)ᵀΣ⁻¹(x−m))`, and the Gaussian
/// integral of the exponential is `(2π)^{d/2} det(Σ/α)^{1/2}`). `S_α → H` (Shannon,
/// [`gaussian_entropy`]) as `α → 1`.
///
/// Evaluated as `−expm1(ℓ)/(α − 1)` with `ℓ = log ∫ μ^α`, which has no cancellation near `α = 1`
/// (relative accuracy a few ulps times the conditioning of `log det Σ`). Domain: `α > 0` finite,
/// `α ≠ 1` (use [`gaussian_entropy`] there); `Σ` SPD.
pub fn gaussian_tsallis(cov: ArrayView2<f64>, alpha: f64) -> Result<f64> {
    if !(alpha.is_finite() && alpha > 0.0) || alpha == 1.0 {
        return Err(Error::InvalidParameter {
            name: "α".into(),
            value: crate::error::fmt_num(alpha),
            reason: "the Tsallis order must be finite, > 0 and ≠ 1 (α = 1 is the Shannon entropy)"
                .into(),
        });
    }
    let spd = Spd::new("covariance", cov.to_owned())?;
    let d = spd.dim() as f64;
    let log_integral =
        0.5 * (1.0 - alpha) * (d * (2.0 * PI).ln() + spd.log_det()) - 0.5 * d * alpha.ln();
    Ok(-log_integral.exp_m1() / (alpha - 1.0))
}
