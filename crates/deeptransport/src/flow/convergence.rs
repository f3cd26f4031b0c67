//! Compositions of DAEs converge to the continuous DAE (METHODS §4): measured.
//!
//! A composition with step `τ` is, to first order, the explicit Euler scheme of
//! `dx/dt = ∇log μ_t(x)`: one layer is `Φ_τ[μ_ℓ](x) = x + τ∇log(W_τ * μ_ℓ)(x) = x + τ∇log μ_ℓ(x) +
//! O(τ²)` (eq. 7). So `|Φ^t_{0:L}(x) − φ_t(x)| = O(τ)`, and the *observed order*
//! `p = log₂(e(τ)/e(τ/2))` must tend to 1.
//!
//! For a Gaussian both sides are closed forms. For a Gaussian mixture no layer after the first is
//! a closed form (a DAE does not map a mixture to a mixture), so μ₀ is discretised as particles on a
//! regular grid with weights `w_i ∝ μ₀(x_i)`, and the composition runs exactly on those particles
//! ([`crate::flow::deep::deep_dae`]): every layer's posterior mean is then a trapezoidal rule of
//! the exact integral (3) over the moved grid, whose error is `≈ exp(−2π²τ/h²)` for spacing `h`
//! — negligible while `√τ ≫ h`, which [`mixture_convergence`] checks. The reference `φ_t` is the
//! adaptive Dormand–Prince integration of the mixture's score ([`crate::flow::continuous`]).

use crate::error::{Error, Result, check_time};
use crate::flow::continuous::{FlowSource, continuous_dae};
use crate::flow::deep::deep_dae;
use crate::flow::gaussian::{composition_map, continuous_map};
use crate::flow::ode::OdeOptions;
use crate::measure::{Density, Gaussian, Mixture};
use crate::noise::Noise;
use ndarray::{Array1, Array2, ArrayView2};

/// One row of a convergence table: `L` layers of step `τ = t/L`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvergenceRow {
    /// Number of layers `L`.
    pub layers: usize,
    /// The step `τ = t/L`.
    pub tau: f64,
    /// `max_j |Φ^t_{0:L}(q_j) − φ_t(q_j)|` over the query points.
    pub max_error: f64,
    /// `log₂(e(2τ)/e(τ))` against the previous row (`None` for the first, or if the layer counts
    /// do not double).
    pub observed_order: Option<f64>,
}

fn with_orders(rows: Vec<(usize, f64, f64)>) -> Vec<ConvergenceRow> {
    let mut out: Vec<ConvergenceRow> = Vec::with_capacity(rows.len());
    for (layers, tau, max_error) in rows {
        let observed_order = out
            .last()
            .filter(|p| p.layers * 2 == layers)
            .map(|p| (p.max_error / max_error).log2());
        out.push(ConvergenceRow {
            layers,
            tau,
            max_error,
            observed_order,
        });
    }
    out
}

fn max_abs_diff(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    (&a - &b).iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn check_layers(layers: &[usize]) -> Result<()> {
    if layers.is_empty() || layers.contains(&0) {
        return Err(Error::InvalidParameter {
            name: "layer counts".into(),
            value: format!("{layers:?}"),
            reason: "give at least one, each ≥ 1".into(),
        });
    }
    Ok(())
}

/// Gaussian μ₀: `Φ^t_{0:L}(q)` by the closed-form recursion ([`composition_map`]) against
/// `φ_t(q)` by eq. (12), for each `L` in `layers` (`τ = t/L`). Exact up to rounding on both
/// sides. Domain: `0 < t < λ_min(Σ)/2`, `layers` non-empty, each `≥ 1`. Cost `O(Σ L·n·d²)`.
pub fn gaussian_convergence(
    mu: &Gaussian,
    t: f64,
    queries: ArrayView2<f64>,
    layers: &[usize],
) -> Result<Vec<ConvergenceRow>> {
    check_layers(layers)?;
    let exact = continuous_map(mu, t, queries)?;
    let rows = layers
        .iter()
        .map(|&l| {
            let tau = t / l as f64;
            let moved = composition_map(mu, &vec![tau; l], queries)?;
            let last = moved.last().expect("L + 1 positions");
            Ok((l, tau, max_abs_diff(last.view(), exact.view())))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(with_orders(rows))
}

/// A regular grid discretisation of a mixture for [`mixture_convergence`]: the particles, their
/// weights `∝ μ₀(x_i)` and the spacing `h`.
#[derive(Debug, Clone)]
pub struct GridMeasure {
    /// Grid points, `n × d`.
    pub points: Array2<f64>,
    /// Weights `μ₀(x_i)·hᵈ`, normalised to sum 1.
    pub weights: Array1<f64>,
    /// The grid spacing `h`.
    pub spacing: f64,
}

/// The grid `{lo + k·h : k = 0, …, per_axis − 1}ᵈ` over the box `[lo, hi]ᵈ` with weights from the
/// mixture's density. Domain: `per_axis ≥ 2`, `lo < hi` finite, `per_axisᵈ ≤ 10⁷`. The mass of
/// μ₀ outside the box is dropped (choose the box so that it is negligible).
pub fn grid_measure(mu: &Mixture, lo: f64, hi: f64, per_axis: usize) -> Result<GridMeasure> {
    let d = mu.dim();
    let n = (per_axis as u64).checked_pow(d as u32).unwrap_or(u64::MAX);
    if per_axis < 2 || !(lo.is_finite() && hi.is_finite() && lo < hi) || n > 10_000_000 {
        return Err(Error::InvalidParameter {
            name: "grid".into(),
            value: format!(
                "[{}, {}]^{d} with {per_axis} points per axis",
                crate::error::fmt_num(lo),
                crate::error::fmt_num(hi)
            ),
            reason: "need lo < hi finite, at least 2 and at most 10⁷ points in all".into(),
        });
    }
    let n = n as usize;
    let h = (hi - lo) / (per_axis - 1) as f64;
    let mut points = Array2::zeros((n, d));
    for (i, mut row) in points.outer_iter_mut().enumerate() {
        let mut k = i;
        for j in (0..d).rev() {
            row[j] = lo + (k % per_axis) as f64 * h;
            k /= per_axis;
        }
    }
    let log_p: Vec<f64> = points.outer_iter().map(|x| mu.log_density(x)).collect();
    let top = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut weights: Array1<f64> = log_p.iter().map(|l| (l - top).exp()).collect();
    let total = weights.sum();
    weights /= total;
    Ok(GridMeasure {
        points,
        weights,
        spacing: h,
    })
}

/// Gaussian-mixture μ₀ (discretised as `grid`, see the module docs): `queries` carried by the
/// composition of `L` exact empirical DAEs of the moving grid, `τ = t/L`, against the continuous
/// DAE of the mixture integrated with `rtol = atol = 10⁻¹²`; `max_error` is the maximum over the
/// queries.
///
/// Where to put the queries: near the separatrix between two modes (the points whose fate is
/// undecided) the composition's error does not fall like `τ` at any practical step — measured in
/// `docs/convergence.md`: at `t = 0.1` it stays near `10⁻²` for `τ` from `0.0125` to `0.003`,
/// while everywhere else it halves with `τ`. Measure the order away from it, and report the
/// separatrix separately.
///
/// Domain: `0 < t <` the mixture's singular time; every `τ` must satisfy `√τ ≥ 8h` (else the
/// grid, not the composition, would limit the error: an [`Error::InvalidParameter`]).
/// Cost `O(Σ L·(n + m)·n·d)` for `n` grid points and `m` queries.
pub fn mixture_convergence(
    mu: &Mixture,
    grid: &GridMeasure,
    t: f64,
    queries: ArrayView2<f64>,
    layers: &[usize],
) -> Result<Vec<ConvergenceRow>> {
    check_time("t", t)?;
    check_layers(layers)?;
    let opts = OdeOptions {
        rtol: 1e-12,
        atol: 1e-12,
        ..OdeOptions::default()
    };
    let flow = continuous_dae(
        &FlowSource::Mixture(mu.clone()),
        queries,
        &[t],
        &opts,
        &mut |_| {},
    )?;
    let exact = flow.trajectory.last().to_owned();
    let rows = layers
        .iter()
        .map(|&l| {
            let tau = t / l as f64;
            if tau.sqrt() < 8.0 * grid.spacing {
                return Err(Error::InvalidParameter {
                    name: "τ".into(),
                    value: crate::error::fmt_num(tau),
                    reason: format!(
                        "the grid spacing {} is too coarse for √τ = {}: refine the grid to \
                         h ≤ √τ/8",
                        grid.spacing,
                        tau.sqrt()
                    ),
                });
            }
            let r = deep_dae(
                grid.points.view(),
                Some(grid.weights.view()),
                Noise::Gaussian,
                &vec![tau; l],
                Some(queries),
                &|_| {},
            )?;
            let q = r.queries.expect("queries were given");
            Ok((l, tau, max_abs_diff(q.last(), exact.view())))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(with_orders(rows))
}
