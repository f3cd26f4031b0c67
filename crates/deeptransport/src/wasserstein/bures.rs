//! Bures–Wasserstein distance between Gaussians (METHODS §5).

use crate::error::{Error, Result};
use crate::linalg::{spd_sqrt, sym_eigen};
use crate::measure::Gaussian;
use ndarray::Array2;

/// Squared Wasserstein-2 distance between Gaussians (METHODS §5, Bures–Wasserstein):
/// `W₂²(N(m₁,Σ₁), N(m₂,Σ₂)) = |m₁ − m₂|² + tr(Σ₁ + Σ₂ − 2(Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2})`.
///
/// The trace of the inner square root is the sum of the square roots of the eigenvalues of the
/// (symmetrised) `Σ₂^{1/2} Σ₁ Σ₂^{1/2}`, tiny negative ones from rounding clamped to 0; the
/// result is clamped at `≥ 0`. Domain: equal dimensions (else [`Error::DimensionMismatch`]).
/// Accuracy: absolute `O(ε·(tr Σ₁ + tr Σ₂))` — near-equal inputs lose relative accuracy to
/// cancellation, so `W₂` itself is accurate to `O(√(ε·tr Σ))` there.
pub fn bures_w2_squared(a: &Gaussian, b: &Gaussian) -> Result<f64> {
    if a.dim() != b.dim() {
        return Err(Error::DimensionMismatch {
            what: "second Gaussian".into(),
            expected: a.dim(),
            got: b.dim(),
        });
    }
    let dm = &a.mean() - &b.mean();
    let mean_part = dm.dot(&dm);
    let s2 = spd_sqrt(b.cov())?;
    let inner = s2.dot(&a.cov()).dot(&s2);
    let d = a.dim();
    let sym = Array2::from_shape_fn((d, d), |(i, j)| 0.5 * (inner[[i, j]] + inner[[j, i]]));
    let (vals, _) = sym_eigen(sym.view())?;
    let cross: f64 = vals.iter().map(|v| v.max(0.0).sqrt()).sum();
    let tr = a.cov().diag().sum() + b.cov().diag().sum();
    Ok((mean_part + tr - 2.0 * cross).max(0.0))
}

/// The Wasserstein-2 distance between Gaussians, `√` of [`bures_w2_squared`] (METHODS §5). A
/// metric on Gaussian measures; same domain and accuracy.
pub fn bures_w2(a: &Gaussian, b: &Gaussian) -> Result<f64> {
    bures_w2_squared(a, b).map(f64::sqrt)
}
