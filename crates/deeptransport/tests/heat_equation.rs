//! Theorem 2.4: the pushforward `μ_t = Φ_t♯μ₀` of the Gaussian DAE starts out along the backward
//! heat equation, `∂_t μ_t |_{t=0} = −Δμ₀` (METHODS §3), checked by finite differences in `t` on
//! a grid, for Gaussian mixtures in d = 1 and d = 2.
//!
//! `μ_h(y)` is computed exactly (to rounding) by the change of variables
//! `μ_h(y) = μ₀(x) / det DΦ_h(x)` at `x = Φ_h⁻¹(y)`: `Φ_h` is the library's mixture DAE (eq. 7),
//! inverted by Newton's method, with the Jacobian `DΦ_h = I + h ∇² log(W_h * μ₀)` and the
//! Laplacian `Δμ₀` written out here independently of the library.

use deeptransport::dae;
use deeptransport::measure::{Gaussian, Mixture};
use ndarray::{Array1, Array2, array};

/// One mixture component with its inverse covariance and normalising constant, for the
/// test-local formulas.
struct Comp {
    weight: f64,
    mean: Array1<f64>,
    cov: Array2<f64>,
}

/// `(S⁻¹, det S)` of a 1×1 or 2×2 matrix.
fn inv_det(s: &Array2<f64>) -> (Array2<f64>, f64) {
    match s.nrows() {
        1 => (array![[1.0 / s[[0, 0]]]], s[[0, 0]]),
        2 => {
            let det = s[[0, 0]] * s[[1, 1]] - s[[0, 1]] * s[[1, 0]];
            (
                array![[s[[1, 1]], -s[[0, 1]]], [-s[[1, 0]], s[[0, 0]]]] / det,
                det,
            )
        }
        _ => unreachable!("d ≤ 2 in this test"),
    }
}

/// Densities `π_k N(x; m_k, Σ_k + cI)` and the gradients `g_k = −(Σ_k + cI)⁻¹(x − m_k)` of their
/// logs, with the inverses.
fn terms(comps: &[Comp], c: f64, x: &Array1<f64>) -> Vec<(f64, Array1<f64>, Array2<f64>)> {
    let d = x.len();
    comps
        .iter()
        .map(|k| {
            let s = &k.cov + &(Array2::<f64>::eye(d) * c);
            let (inv, det) = inv_det(&s);
            let r = x - &k.mean;
            let g = -inv.dot(&r);
            let quad = -r.dot(&g);
            let dens = k.weight * (-0.5 * quad).exp()
                / ((2.0 * std::f64::consts::PI).powi(d as i32) * det).sqrt();
            (dens, g, inv)
        })
        .collect()
}

fn density(comps: &[Comp], x: &Array1<f64>) -> f64 {
    terms(comps, 0.0, x).iter().map(|t| t.0).sum()
}

/// `Δp = Σ_k π_k N_k (|g_k|² − tr Σ_k⁻¹)`.
fn laplacian(comps: &[Comp], x: &Array1<f64>) -> f64 {
    terms(comps, 0.0, x)
        .iter()
        .map(|(p, g, inv)| p * (g.dot(g) - inv.diag().sum()))
        .sum()
}

/// `DΦ_h(x) = I + h ∇² log p_h(x)` with `p_h = W_h * μ₀` and
/// `∇² log p = Σ_k r_k (g_k g_kᵀ − S_k⁻¹) − s sᵀ`, `s = Σ_k r_k g_k`.
fn jacobian(comps: &[Comp], h: f64, x: &Array1<f64>) -> Array2<f64> {
    let d = x.len();
    let ts = terms(comps, h, x);
    let total: f64 = ts.iter().map(|t| t.0).sum();
    let mut hess = Array2::<f64>::zeros((d, d));
    let mut s = Array1::<f64>::zeros(d);
    for (p, g, inv) in &ts {
        let r = p / total;
        let gg = g
            .view()
            .insert_axis(ndarray::Axis(1))
            .dot(&g.view().insert_axis(ndarray::Axis(0)));
        hess = hess + (gg - inv) * r;
        s.scaled_add(r, g);
    }
    let ss = s
        .view()
        .insert_axis(ndarray::Axis(1))
        .dot(&s.view().insert_axis(ndarray::Axis(0)));
    Array2::<f64>::eye(d) + (hess - ss) * h
}

/// `μ_h(y) = μ₀(x)/det DΦ_h(x)`, `Φ_h(x) = y`, by Newton from `x = y` (Φ_h is a small
/// perturbation of the identity for small h). Converges to `|Φ_h(x) − y| ≤ 1e-14`.
fn pushforward_density(mix: &Mixture, comps: &[Comp], h: f64, y: &Array1<f64>) -> f64 {
    let d = y.len();
    let mut x = y.clone();
    for _ in 0..50 {
        let q = x.clone().into_shape_with_order((1, d)).unwrap();
        let phi = dae::mixture(mix, h, q.view()).unwrap();
        let res = &phi.row(0) - y;
        if res.iter().all(|r| r.abs() <= 1e-14) {
            let (_, det) = inv_det(&jacobian(comps, h, &x));
            return density(comps, &x) / det;
        }
        let (jinv, _) = inv_det(&jacobian(comps, h, &x));
        x = &x - &jinv.dot(&res);
    }
    panic!("Newton did not invert Φ_h at y = {y}");
}

fn mixture(comps: &[Comp]) -> Mixture {
    Mixture::new(
        comps.iter().map(|c| c.weight).collect(),
        comps
            .iter()
            .map(|c| Gaussian::new(c.mean.clone(), c.cov.clone()).unwrap())
            .collect(),
    )
    .unwrap()
}

/// Checks `D_h = (4μ_h − μ_{2h} − 3μ₀)/2h = −Δμ₀ + O(h²)` at every grid point: the worst error
/// over the grid falls by 4 (± 15 %) when `h` halves — so the agreement is the derivative, not a
/// coincidence — and at `h = 2.5·10⁻⁴` it is below `10⁻⁵·max|Δμ₀|`. The remainder is
/// `≈ h²·|∂_t³μ|/3`, large for the narrow (σ² = 0.3) components; rounding contributes only
/// `≈ 10⁻¹⁴/h ≈ 10⁻¹⁰` (Newton solves `Φ_h(x) = y` to `10⁻¹⁴`).
fn check_heat_equation(comps: &[Comp], grid: &[Array1<f64>]) {
    let mix = mixture(comps);
    let scale = grid
        .iter()
        .map(|y| laplacian(comps, y).abs())
        .fold(0.0, f64::max);
    let second_order_error = |h: f64| {
        grid.iter()
            .map(|y| {
                let m0 = density(comps, y);
                let mh = pushforward_density(&mix, comps, h, y);
                let m2h = pushforward_density(&mix, comps, 2.0 * h, y);
                ((4.0 * mh - m2h - 3.0 * m0) / (2.0 * h) + laplacian(comps, y)).abs()
            })
            .fold(0.0, f64::max)
    };
    let (coarse, fine) = (second_order_error(5e-4), second_order_error(2.5e-4));
    assert!(
        fine <= 1e-5 * scale,
        "∂_t μ_t ≠ −Δμ₀: second-order difference off by {fine:e} (scale {scale:e})"
    );
    let ratio = coarse / fine;
    assert!(
        (ratio - 4.0).abs() < 0.6,
        "difference error not O(h²): ratio {ratio} ({coarse:e} / {fine:e})"
    );
}

#[test]
fn theorem_2_4_in_one_dimension() {
    let comps = vec![
        Comp {
            weight: 0.3,
            mean: array![-1.0],
            cov: array![[0.5]],
        },
        Comp {
            weight: 0.7,
            mean: array![1.5],
            cov: array![[1.2]],
        },
    ];
    let grid: Vec<Array1<f64>> = (0..=70).map(|i| array![-3.0 + 0.1 * i as f64]).collect();
    check_heat_equation(&comps, &grid);
}

#[test]
fn theorem_2_4_in_two_dimensions() {
    let comps = vec![
        Comp {
            weight: 0.5,
            mean: array![-1.0, 0.0],
            cov: array![[0.6, 0.2], [0.2, 0.4]],
        },
        Comp {
            weight: 0.3,
            mean: array![1.2, 0.8],
            cov: array![[0.3, -0.1], [-0.1, 0.5]],
        },
        Comp {
            weight: 0.2,
            mean: array![0.5, -1.3],
            cov: array![[0.8, 0.0], [0.0, 0.3]],
        },
    ];
    let grid: Vec<Array1<f64>> = (0..=16)
        .flat_map(|i| (0..=16).map(move |j| array![-2.5 + 0.3 * i as f64, -2.5 + 0.3 * j as f64]))
        .collect();
    check_heat_equation(&comps, &grid);
}
