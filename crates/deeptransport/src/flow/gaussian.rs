//! Closed-form Gaussian pushforwards, compositions and the continuous Gaussian DAE (METHODS §4).
//!
//! For `μ₀ = N(m, Σ)` every map here is affine with a linear part that is a function of `Σ`, so it
//! shares `Σ`'s eigenvectors: all formulas are evaluated on the eigenvalues `λ` of `Σ` and
//! reassembled as `V diag(f(λ)) Vᵀ`, which is exact up to the rounding of one symmetric
//! eigen-decomposition and exactly symmetric.

use crate::error::{Error, Result, check_points, check_time};
use crate::linalg::{spectral, sym_eigen};
use crate::measure::Gaussian;
use ndarray::{Array1, Array2, ArrayView2};

/// The largest number of layers [`composition`] and [`composition_map`] accept: more is refused
/// before anything is allocated.
pub const MAX_LAYERS: usize = 10_000_000;

/// The smallest ratio `λ_min/λ_max` of covariance eigenvalues [`composition`] represents: below
/// it the reassembled `V diag(λ) Vᵀ` is no longer reliably positive definite in double precision.
pub const COLLAPSE_RATIO: f64 = 1e-12;

/// The Gaussian with mean `m` and covariance `V diag(vals) Vᵀ`.
fn rebuild(mu: &Gaussian, vals: &Array1<f64>, vecs: ArrayView2<f64>) -> Result<Gaussian> {
    Gaussian::new(mu.mean().to_owned(), spectral(vals, vecs))
}

/// Eigenvalues of one DAE layer applied to a covariance eigenvalue: `λ ↦ λ³/(λ + t)²`.
fn dae_eigenvalue(lambda: f64, t: f64) -> f64 {
    let a = lambda / (lambda + t);
    a * a * lambda
}

/// The DAE pushforward (METHODS §4, paper Section 4.3):
/// `Φ_t♯N(m, Σ) = N(m, Σ(I + tΣ⁻¹)⁻²) = N(m, A Σ A)`, `A = Σ(Σ + tI)⁻¹` the linear part of
/// eq. (13).
///
/// Domain: `t > 0` finite. Evaluated on the eigenvalues of `Σ` (`λ ↦ λ³/(λ+t)²`, same
/// eigenvectors); exact up to the rounding of the eigen-decomposition (relative `O(ε·κ(Σ))`).
pub fn dae_pushforward(mu: &Gaussian, t: f64) -> Result<Gaussian> {
    check_time("t", t)?;
    let (vals, vecs) = sym_eigen(mu.cov())?;
    rebuild(mu, &vals.mapv(|l| dae_eigenvalue(l, t)), vecs.view())
}

fn check_taus(taus: &[f64]) -> Result<()> {
    if taus.is_empty() {
        return Err(Error::Empty {
            what: "the list of layer noise variances τ".into(),
        });
    }
    if taus.len() > MAX_LAYERS {
        return Err(Error::InvalidParameter {
            name: "L (number of layers)".into(),
            value: taus.len().to_string(),
            reason: format!("at most {MAX_LAYERS} layers are supported"),
        });
    }
    for (l, &tau) in taus.iter().enumerate() {
        check_time(&format!("τ of layer {l}"), tau)?;
    }
    Ok(())
}

/// The deep DAE `Φ_{0:L}` of a Gaussian (METHODS §4, Section 3): `μ_{ℓ+1} = Φ_ℓ♯μ_ℓ`, the mean is
/// fixed and `Σ_{ℓ+1} = A_ℓ Σ_ℓ A_ℓ`, `A_ℓ = (I + τ_ℓ Σ_ℓ⁻¹)⁻¹`.
///
/// Returns `μ_0, …, μ_L` (`L = taus.len()` layers, `L + 1` measures). Every `Σ_ℓ` is a function
/// of `Σ_0`, so the recursion runs on the eigenvalues, `λ ↦ λ³/(λ + τ_ℓ)²`.
///
/// Domain: `taus` non-empty, at most [`MAX_LAYERS`] entries (checked before any allocation), every
/// `τ_ℓ > 0` finite. Once `λ < τ` the recursion shrinks an eigenvalue like `λ³/τ²`, so a deep
/// enough composition collapses `μ_ℓ` onto a degenerate Gaussian that double precision cannot
/// hold as an SPD matrix: when an eigenvalue falls below [`COLLAPSE_RATIO`]` · λ_max` (or
/// underflows) the result is an [`Error::Unsupported`] naming the layer. Accuracy: each layer is exact in its eigenvalues (a few ulps per layer);
/// the covariances carry the rounding of one eigen-decomposition.
pub fn composition(mu: &Gaussian, taus: &[f64]) -> Result<Vec<Gaussian>> {
    check_taus(taus)?;
    let (mut vals, vecs) = sym_eigen(mu.cov())?;
    let mut out = Vec::with_capacity(taus.len() + 1);
    out.push(mu.clone());
    for (layer, &tau) in taus.iter().enumerate() {
        vals.mapv_inplace(|l| dae_eigenvalue(l, tau));
        let (lo, hi) = (vals[0], vals[vals.len() - 1]);
        if !(lo > COLLAPSE_RATIO * hi && lo > f64::MIN_POSITIVE) {
            return Err(Error::Unsupported(format!(
                "the deep DAE collapses the Gaussian at layer {} (τ = {}): the smallest \
                 covariance eigenvalue {lo:e} is below {COLLAPSE_RATIO:e} times the largest \
                 {hi:e}, a degenerate measure; use fewer layers or a smaller τ",
                layer + 1,
                crate::error::fmt_num(tau)
            )));
        }
        out.push(rebuild(mu, &vals, vecs.view())?);
    }
    Ok(out)
}

/// Point trajectories of the deep Gaussian DAE (METHODS §4): layer ℓ maps
/// `x ↦ A_ℓ(x − m) + m`, `A_ℓ = (I + τ_ℓ Σ_ℓ⁻¹)⁻¹` with `Σ_ℓ` as in [`composition`].
///
/// Returns the positions of `points` (n × d) before the first layer and after each of the `L`
/// layers (`L + 1` arrays). Domain: as [`composition`], `points` non-empty, finite, `d` columns.
/// Accuracy: that of the eigen-decomposition of `Σ`.
pub fn composition_map(
    mu: &Gaussian,
    taus: &[f64],
    points: ArrayView2<f64>,
) -> Result<Vec<Array2<f64>>> {
    check_taus(taus)?;
    check_points("points", points, Some(mu.dim()))?;
    let (mut vals, vecs) = sym_eigen(mu.cov())?;
    let m = mu.mean();
    let mut x = &points - &m;
    let mut out = Vec::with_capacity(taus.len() + 1);
    out.push(points.to_owned());
    for &tau in taus {
        let gain = vals.mapv(|l| l / (l + tau));
        let a = spectral(&gain, vecs.view());
        x = x.dot(&a.t());
        out.push(&x + &m);
        vals.mapv_inplace(|l| dae_eigenvalue(l, tau));
    }
    Ok(out)
}

/// The first singular time of the continuous Gaussian DAE (METHODS §4, eq. 12):
/// `t* = λ_min(Σ)/2`, where `Σ − 2tI` stops being positive definite.
pub fn singular_time(mu: &Gaussian) -> f64 {
    match sym_eigen(mu.cov()) {
        Ok((vals, _)) => 0.5 * vals[0],
        Err(_) => 0.0,
    }
}

/// Checks `0 < t < t*` and returns the eigen-decomposition of `Σ`.
fn check_flow_time(mu: &Gaussian, t: f64) -> Result<(Array1<f64>, Array2<f64>)> {
    check_time("t", t)?;
    let (vals, vecs) = sym_eigen(mu.cov())?;
    let t_star = 0.5 * vals[0];
    if t >= t_star {
        return Err(Error::InvalidParameter {
            name: "t".into(),
            value: crate::error::fmt_num(t),
            reason: format!(
                "the continuous DAE of this Gaussian is singular at t* = λ_min(Σ)/2 = {}; \
                 t must be below it",
                crate::error::fmt_num(t_star)
            ),
        });
    }
    Ok((vals, vecs))
}

/// The continuous-DAE pushforward (METHODS §4, eq. 12, Theorem 3.1):
/// `φ_t♯N(m, Σ) = N(m, Σ − 2tI)`, the backward heat flow of a Gaussian.
///
/// Domain: `0 < t < t* = λ_min(Σ)/2` ([`singular_time`]); `t ≥ t*` is an
/// [`Error::InvalidParameter`] naming `t*`. Exact (one subtraction per diagonal entry).
pub fn continuous_pushforward(mu: &Gaussian, t: f64) -> Result<Gaussian> {
    check_flow_time(mu, t)?;
    mu.add_isotropic(-2.0 * t)
}

/// The continuous Gaussian DAE map, eq. (12): `φ_t(x) = (I − 2tΣ⁻¹)^{1/2}(x − m) + m`, applied to
/// each row of `points` (n × d).
///
/// Evaluated on the eigenvalues of `Σ` (factor `√(1 − 2t/λ)`, same eigenvectors). Domain:
/// `0 < t < t*` as for [`continuous_pushforward`]; `points` non-empty, finite, `d` columns.
/// Accuracy: that of the eigen-decomposition of `Σ`.
pub fn continuous_map(mu: &Gaussian, t: f64, points: ArrayView2<f64>) -> Result<Array2<f64>> {
    let (vals, vecs) = check_flow_time(mu, t)?;
    check_points("points", points, Some(mu.dim()))?;
    let gain = vals.mapv(|l| (1.0 - 2.0 * t / l).sqrt());
    let a = spectral(&gain, vecs.view());
    let m = mu.mean();
    Ok((&points - &m).dot(&a.t()) + m)
}

/// Where a Gaussian `ν` stands relative to the continuous-DAE flow of `μ₀` (Fig. 3, METHODS §5):
/// the flow's measure of equal entropy and the W₂ distance to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowDistance {
    /// `s` with `H[φ_s♯μ₀] = H[ν]`: the flow time at which the gradient flow has lowered the
    /// entropy as much as `ν` has.
    pub flow_time: f64,
    /// `W₂(ν, φ_s♯μ₀)` (Bures–Wasserstein): how far `ν` has left the gradient flow.
    pub w2: f64,
}

/// The flow time of equal entropy: the unique `s ∈ [0, t*)` with `H[φ_s♯μ₀] = H[ν]`, where
/// `H[N(m, Σ − 2sI)] = ½ Σ_i log(λ_i − 2s) + const` decreases strictly from `H[μ₀]` (at `s = 0`)
/// to `−∞` (at `t* = λ_min/2`), and `W₂(ν, φ_s♯μ₀)` (METHODS §5: "quantify leaving").
///
/// In the diagonal family of Fig. 3 this is the Euclidean distance in `(σ₁, σ₂)` from `ν` to the
/// flow curve along the entropy contour through `ν`. Domain: equal dimensions, `H[ν] ≤ H[μ₀]`
/// (every DAE and composition lowers the entropy; a `ν` of larger entropy is an
/// [`Error::InvalidParameter`]). Accuracy: `s` by bisection to the last representable value
/// (≈ 60 evaluations of `O(d)`), `W₂` as [`crate::wasserstein::bures::bures_w2`].
pub fn distance_from_flow(mu: &Gaussian, nu: &Gaussian) -> Result<FlowDistance> {
    if nu.dim() != mu.dim() {
        return Err(Error::DimensionMismatch {
            what: "Gaussian compared with the flow".into(),
            expected: mu.dim(),
            got: nu.dim(),
        });
    }
    let (vals, _) = sym_eigen(mu.cov())?;
    // Entropies compared through log-determinants: the constant ½ d log(2πe) cancels.
    let target = nu.spd().log_det();
    let log_det_flow = |s: f64| vals.iter().map(|l| (l - 2.0 * s).ln()).sum::<f64>();
    if target > log_det_flow(0.0) {
        return Err(Error::InvalidParameter {
            name: "ν (compared with the flow)".into(),
            value: format!("log det Σ_ν = {}", crate::error::fmt_num(target)),
            reason: format!(
                "its entropy exceeds that of μ₀ (log det Σ₀ = {}); the flow only lowers entropy",
                crate::error::fmt_num(log_det_flow(0.0))
            ),
        });
    }
    let (mut lo, mut hi) = (0.0, 0.5 * vals[0]);
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if log_det_flow(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let flow = if lo > 0.0 {
        continuous_pushforward(mu, lo)?
    } else {
        mu.clone()
    };
    Ok(FlowDistance {
        flow_time: lo,
        w2: crate::wasserstein::bures::bures_w2(nu, &flow)?,
    })
}
