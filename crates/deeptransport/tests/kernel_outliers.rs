//! The streaming softmax kernel with far outliers (issue 17, item 1): one point at distance `B`
//! from a unit-scale cloud must not cost the other points their precision, for any finite `B`
//! whose squared distances stay finite (up to `1e150` here).
//!
//! Reference: every log-weight `ℓ(y, x_i)` from direct differences `y_k − x_ik` of the raw
//! coordinates, a two-pass log-sum-exp and the posterior mean `y + Σ s_i (x_i − y)`, all in plain
//! scalar `f64`. Tolerance, per query `j`: the differences are exact to one rounding, so every
//! `ℓ_i` is within `(d + 3)·ε·|ℓ_i|` and the softmax weights within `2(d + 3)·ε·max|ℓ_i|`
//! relative, which moves the mean by at most that times `R_j = max |x_i − y_j|` over the points
//! that carry weight (those with `s_i > 10⁻³⁰⁰`). The kernel sums the coordinates, `Σ s_i x_i`,
//! in its own order with at most one rescaling per term: `2(n + 1)·ε·max|x_ik|` over those
//! points, and `|x_ik| ≤ |x_ik − Φ_k| + |Φ_k| ≤ 2R_j + |Φ_jk|` (Φ is in their hull, so within
//! `R_j` of `y`); the reference's own sum of displacements adds `n·ε·R_j + ε·|Φ_jk|`. On the
//! GEMM path (`d ≥ 9`) the
//! costs of pairs far from the coordinate-wise median come from direct differences too, and the
//! rest carry an expansion error bounded by the kernel's documented `τ = 10⁻⁹` in `ℓ`, hence
//! `2τR_j`.

use deeptransport::kernel::{self, GEMM_MIN_DIM, PairKernel, SimdPath};
use ndarray::{Array1, Array2, ArrayView2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;

use common::log_weight;

const EPS: f64 = f64::EPSILON;

/// `(log Z_j, Φ_j, R_j, max|ℓ|)` per query by the reference arithmetic (module docs), uniform
/// weights `1/n`.
fn reference(
    q: ArrayView2<f64>,
    x: ArrayView2<f64>,
    kernel: PairKernel,
) -> Vec<(f64, Array1<f64>, f64, f64)> {
    let n = x.nrows();
    q.rows()
        .into_iter()
        .map(|y| {
            let y = y.to_vec();
            let ell: Vec<f64> = x
                .rows()
                .into_iter()
                .map(|xi| log_weight(kernel, &y, &xi.to_vec()))
                .collect();
            let top = ell.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = ell.iter().map(|l| (l - top).exp()).collect();
            let total: f64 = w.iter().sum();
            let mut disp = Array1::<f64>::zeros(y.len());
            let (mut reach, mut big) = (0.0f64, 0.0f64);
            for (i, xi) in x.rows().into_iter().enumerate() {
                let s = w[i] / total;
                if s > 1e-300 {
                    let dist = xi
                        .iter()
                        .zip(&y)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt();
                    reach = reach.max(dist);
                    big = big.max(ell[i].abs());
                }
                for (k, v) in disp.iter_mut().enumerate() {
                    *v += s * (xi[k] - y[k]);
                }
            }
            let phi = Array1::from(y) + disp;
            (top + total.ln() - (n as f64).ln(), phi, reach, big)
        })
        .collect()
}

/// `n` points uniform in `[−1, 1]ᵈ` and `outliers` points at distance `10^e` (`e` up to 150) in
/// random directions; queries: every point, and each bulk point moved by up to 0.1.
fn cloud_with_outliers(
    seed: u64,
    n: usize,
    d: usize,
    outliers: usize,
    max_exp: f64,
) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::from_shape_simple_fn((n + outliers, d), || rng.random_range(-1.0..1.0));
    for i in n..n + outliers {
        let scale = 10f64.powf(rng.random_range(3.0..max_exp));
        for k in 0..d {
            x[[i, k]] = rng.random_range(-1.0..1.0) * scale;
        }
    }
    x
}

fn queries_for(x: &Array2<f64>, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let moved = x.mapv(|v| {
        if v.abs() <= 1.0 {
            v + rng.random_range(-0.1..0.1)
        } else {
            v
        }
    });
    ndarray::concatenate![ndarray::Axis(0), x.view(), moved.view()]
}

fn any_kernel(d: usize) -> impl Strategy<Value = PairKernel> {
    (0usize..4, -2.0f64..1.0).prop_map(move |(k, log_t)| {
        let t = 10f64.powf(log_t);
        match k {
            0 => PairKernel::Gaussian { inv_two_t: 0.5 / t },
            1 => PairKernel::Laplace {
                inv_b: 1.0 / (t / 2.0).sqrt(),
            },
            2 => PairKernel::Cube {
                half_width: (3.0 * t).sqrt() + 0.2,
            },
            _ => PairKernel::Student {
                half_nu_plus_d: (5.0 + d as f64) / 2.0,
                inv_nu_s2: 1.0 / (5.0 * t),
            },
        }
    })
}

/// Checks `softmax_mean` on `path` against [`reference`] with the module's tolerance.
fn check(path: SimdPath, x: &Array2<f64>, kernel: PairKernel) -> Result<(), TestCaseError> {
    let q = queries_for(x, x.len() as u64);
    let (n, d) = x.dim();
    let got = kernel::with_simd_path(path, || {
        kernel::softmax_mean(q.view(), x.view(), None, kernel, &|_| {})
    })
    .expect("a supported path");
    let gemm = d >= kernel::gemm_min_dim(path)
        && matches!(
            kernel,
            PairKernel::Gaussian { .. } | PairKernel::Student { .. }
        );
    for (j, (lse, phi, reach, big)) in reference(q.view(), x.view(), kernel)
        .into_iter()
        .enumerate()
    {
        if lse == f64::NEG_INFINITY {
            prop_assert_eq!(got.log_normalizer[j], f64::NEG_INFINITY, "query {}", j);
            continue;
        }
        let rel =
            2.0 * (d as f64 + 3.0) * EPS * big + n as f64 * EPS + if gemm { 2e-9 } else { 0.0 };
        let row = got.mean.row(j);
        for k in 0..d {
            let sum = 2.0 * (n as f64 + 1.0) * EPS * (2.0 * reach + phi[k].abs());
            let tol = 4.0 * (rel * reach + sum) + f64::MIN_POSITIVE;
            let err = (row[k] - phi[k]).abs();
            prop_assert!(
                err <= tol,
                "{path:?} {kernel:?} query {j} (y = {}) coordinate {k}: Φ = {} vs reference {} \
                 (error {err:e} > {tol:e})",
                q[[j, k]],
                row[k],
                phi[k]
            );
        }
        let tol =
            4.0 * (d as f64 + 3.0) * EPS * (big + lse.abs() + 1.0) + if gemm { 4e-9 } else { 0.0 };
        prop_assert!(
            (got.log_normalizer[j] - lse).abs() <= tol,
            "{path:?} {kernel:?} query {j}: log Z {} vs {lse}",
            got.log_normalizer[j]
        );
    }
    Ok(())
}

/// The reproducer: the unit square and one point at `1e20`, Gaussian noise, t = 0.5:
/// the x-coordinate of Φ at the square's corners is the two-point posterior mean
/// `1/(1 + e)` or `e/(1 + e)` (the outlier's weight is `e^{−10⁴⁰}` = 0).
#[test]
fn one_far_outlier_leaves_the_square_exact() {
    let x = ndarray::array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1e20, 0.0]];
    let e = std::f64::consts::E;
    for path in SimdPath::supported() {
        let got = kernel::with_simd_path(path, || {
            kernel::softmax_mean(
                x.view(),
                x.view(),
                None,
                PairKernel::Gaussian { inv_two_t: 1.0 },
                &|_| {},
            )
        })
        .expect("a supported path");
        for (j, want) in [
            1.0 / (1.0 + e),
            e / (1.0 + e),
            1.0 / (1.0 + e),
            e / (1.0 + e),
        ]
        .into_iter()
        .enumerate()
        {
            let err = (got.mean[[j, 0]] - want).abs();
            assert!(
                err <= 4.0 * EPS,
                "{path:?} corner {j}: {} vs {want}",
                got.mean[[j, 0]]
            );
        }
        assert_eq!(
            got.mean[[4, 0]],
            1e20,
            "{path:?}: the outlier is its own posterior mean"
        );
    }
}

/// A far query of a single atom: the posterior is that atom, so `Φ` must be it bit for bit, on
/// every path, kernel and dimension (tiled, direct and GEMM). Summing displacements and adding
/// the query back, `y + (x − y)`, rounds at the scale of `|y|`: this is the case, `n = 1` at
/// 2.585111054333963 with the query 10³ away, that put `Φ` outside the data's box on aarch64.
#[test]
fn a_single_atom_is_its_own_posterior_mean_for_any_query() {
    for d in [1, 2, 3, 8, GEMM_MIN_DIM, GEMM_MIN_DIM + 7] {
        let x = Array2::from_shape_fn((1, d), |(_, k)| 2.585111054333963 * (k as f64 - 1.7));
        let q = Array2::from_shape_fn((6, d), |(j, k)| {
            x[[0, k]]
                + [0.0, 1e3, -1e3, 1e10, 0.37, -1e150][j] * if k % 2 == 0 { 1.0 } else { -0.5 }
        });
        for kernel in [
            PairKernel::Gaussian { inv_two_t: 0.5 },
            PairKernel::Laplace { inv_b: 1.0 },
            PairKernel::Cube { half_width: 1e151 },
            PairKernel::Student {
                half_nu_plus_d: 3.0,
                inv_nu_s2: 0.2,
            },
        ] {
            for path in SimdPath::supported() {
                let got = kernel::with_simd_path(path, || {
                    kernel::softmax_mean(q.view(), x.view(), None, kernel, &|_| {})
                })
                .expect("a supported path");
                for (j, row) in got.mean.rows().into_iter().enumerate() {
                    assert_eq!(row, x.row(0), "{path:?} {kernel:?} d = {d}, query {j}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Low dimension (the tiled and direct loops) on every SIMD path.
    #[test]
    fn outliers_cost_no_precision_in_low_dimension(
        seed in any::<u64>(),
        n in 3usize..40,
        d in 1usize..=3,
        outliers in 1usize..=3,
        max_exp in 4.0f64..150.0,
        kernel in (1usize..=3).prop_flat_map(any_kernel),
    ) {
        let x = cloud_with_outliers(seed, n, d, outliers, max_exp);
        for path in SimdPath::supported() {
            check(path, &x, kernel)?;
        }
    }

    /// Above the GEMM threshold, on every SIMD path.
    #[test]
    fn outliers_cost_no_precision_on_the_gemm_path(
        seed in any::<u64>(),
        n in 3usize..300,
        outliers in 1usize..=3,
        max_exp in 4.0f64..150.0,
        kernel in any_kernel(GEMM_MIN_DIM + 3),
    ) {
        let x = cloud_with_outliers(seed, n, GEMM_MIN_DIM + 3, outliers, max_exp);
        for path in SimdPath::supported() {
            check(path, &x, kernel)?;
        }
    }
}
