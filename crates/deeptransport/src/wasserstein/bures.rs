//! Bures–Wasserstein distance between Gaussians (METHODS §5).

use crate::error::{Error, Result};
use crate::linalg::sym_eigenvalues;
use crate::measure::Gaussian;
use ndarray::Array2;

/// Squared Wasserstein-2 distance between Gaussians (METHODS §5, Bures–Wasserstein):
/// `W₂²(N(m₁,Σ₁), N(m₂,Σ₂)) = |m₁ − m₂|² + tr(Σ₁ + Σ₂ − 2(Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2})`.
///
/// The trace of the inner square root is `Σ √λ_i` over the eigenvalues of `Lᵀ Σ₁ L`, with
/// `Σ₂ = L Lᵀ` the Cholesky factor the [`Gaussian`] already holds: `L = Σ₂^{1/2} Q` with `Q`
/// orthogonal, so `Lᵀ Σ₁ L = Qᵀ (Σ₂^{1/2} Σ₁ Σ₂^{1/2}) Q` has the same eigenvalues — no matrix
/// square root and no eigenvectors are computed. Tiny negative eigenvalues from rounding are
/// clamped to 0 and the result is clamped at `≥ 0`. Domain: equal dimensions (else
/// [`Error::DimensionMismatch`]). Accuracy: absolute `O(ε·(tr Σ₁ + tr Σ₂))` — near-equal inputs
/// lose relative accuracy to cancellation, so `W₂` itself is accurate to `O(√(ε·tr Σ))` there.
/// Cost: one `d × d` congruence and one symmetric eigenvalue problem, `O(d³)`.
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
    let l = b.spd().lower();
    let inner = l.t().dot(&a.cov()).dot(&l);
    let d = a.dim();
    let sym = Array2::from_shape_fn((d, d), |(i, j)| 0.5 * (inner[[i, j]] + inner[[j, i]]));
    let cross: f64 = sym_eigenvalues(sym.view())?
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    let tr = a.cov().diag().sum() + b.cov().diag().sum();
    Ok((mean_part + tr - 2.0 * cross).max(0.0))
}

/// The Wasserstein-2 distance between Gaussians, `√` of [`bures_w2_squared`] (METHODS §5). A
/// metric on Gaussian measures; same domain and accuracy.
pub fn bures_w2(a: &Gaussian, b: &Gaussian) -> Result<f64> {
    bures_w2_squared(a, b).map(f64::sqrt)
}
