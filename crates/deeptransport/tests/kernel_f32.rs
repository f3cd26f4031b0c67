//! The single-precision Gaussian softmax reduction (`kernel::softmax_mean_f32`, the `f32` option
//! of the empirical DAE) against the `f64` one: its stated error bound, its determinism, and the
//! inputs it refuses.
//!
//! # The error bound, derived
//!
//! `u = 2⁻²⁴` (the `f32` unit roundoff). Fix a query `y` and write `ℓ_i = −|y − x_i|²/2t + log w_i
//! − max log w` (the shifted log-weight the `f32` path computes, `ℓ_i ≤ 0`), `s = 1/2t`,
//! `c_i = |y − x_i|²`, so `|ℓ_i| = s·c_i + |log w_i − max log w|`. The pairs that matter are those
//! with `ℓ_i ≥ max ℓ − 64`; `Λ` is their largest `|ℓ_i|`, `Z` their largest `|y − x_i|`, and `R`
//! the largest centred coordinate of data and queries (centring is done in `f64`).
//!
//! 1. *Coordinates.* Rounding the centred `x_i`, `y` to `f32` moves each by `≤ u·R` per
//!    coordinate, and the `f32` difference adds `u·|z_k| ≤ 2uR`: `|δz_k| ≤ 4uR`, so the cost moves
//!    by `≤ 2|z|₁·4uR ≤ 8√d·uR·Z`, the log-weight by `s·8√d·uR·Z = 4√d·uR·Z/t`.
//! 2. *Cost and log-weight.* `Σ_k z_k²` by `d` fused multiply-adds: `≤ d·u·c`; `s` and `log w`
//!    rounded to `f32` and the final multiply-add rounded: `≤ u·s·c + u·|log w| + u·|ℓ|`. With
//!    `s·c ≤ |ℓ|` and `|log w| ≤ |ℓ|`: `≤ (d + 3)·u·Λ`.
//! 3. *Exponent and rescalings.* `e^{ℓ − m}` for the running lane max `m`: the subtraction
//!    rounds (`u·|ℓ − m| ≤ 64u` for a pair that matters, since `m` never exceeds the final max;
//!    for the same reason neither this exponential nor a rescaling below is flushed to 0), the
//!    exponential is within 1 ulp (`≤ 2u`, measured in `simd`), and each time the lane max rises
//!    the lane's `f32` sums are multiplied by a rounded `e^{old − new}`: `≤ 5u` per rise plus
//!    `u·|old − new|`, whose sum over the rises that touch a pair that matters telescopes to
//!    `≤ 64u`. A lane's `f32` sums restart every 128 terms (rises across chunks are applied in
//!    `f64`), so there are `≤ 128` rises: `≤ (64 + 2 + 5·128 + 64)u < 800u`.
//!
//! So every weight of a pair that matters carries a relative error `≤ ε = u·((d + 3)Λ +
//! 4√d·R·Z/t + 800)`. Perturbing the log-weights by `δℓ_i` moves the softmax mean by
//! `Σ_i p_i (δℓ_i − δℓ̄)(x_i − Φ)`, and `|x_i − Φ| ≤ 2Z` for the pairs that matter (`Φ` is their
//! weighted mean up to the rest): `≤ 4Z·ε`. The sums: 128-term `f32` lane sums of positive
//! weights (relative `128u`) and of weights times coordinates (`128u·R` times the weight sum),
//! folded exactly into `f64`, plus the payload coordinates' own rounding `uR`: `≤ 2γR` with
//! `γ = 130u`. The pairs that do not matter weigh `< e⁻⁶⁴` relative each (whether the `f32`
//! path flushes them or not) and sit within `2R` of `Φ` per coordinate: `≤ N·2e⁻⁶⁴·R <
//! N·2⁻⁹⁰·R` together. Hence
//!
//! ```text
//! |Φ_f32 − Φ|_∞ ≤ 4·Z·ε + 2γ·R + N·2⁻⁹⁰·R,     |log Z_f32 − log Z| ≤ ε + γ,
//! ```
//!
//! to first order in `u`. The `f64` reference is exact to `~10⁻¹⁴` relative (`kernel_properties`),
//! covered by a slack of `10⁻⁹·(R + |centre|)` (`10⁻⁹·(1 + |log Z|)` for `log Z`). Set
//! `DEEPTRANSPORT_TEST_REPORT=1` to print the observed error next to the bound.

use deeptransport::Error;
use deeptransport::dae::{self, Precision};
use deeptransport::flow::deep;
use deeptransport::kernel::{self, PairKernel, SimdPath, SoftmaxMean};
use deeptransport::measure::Empirical;
use deeptransport::noise::Noise;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const U: f64 = 1.0 / 16_777_216.0;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn report(claim: &str, err: f64, tol: f64) {
    if std::env::var_os("DEEPTRANSPORT_TEST_REPORT").is_some() {
        eprintln!(
            "{claim}: err {err:.3e} bound {tol:.3e} ratio {:.3e}",
            err / tol
        );
    }
}

/// The per-query bounds of the module docs: `(Φ bound, log Z bound)` for every query row.
fn bounds(
    queries: ArrayView2<f64>,
    data: ArrayView2<f64>,
    log_w: Option<ArrayView1<f64>>,
    t: f64,
) -> Vec<(f64, f64)> {
    let (n, d) = data.dim();
    let centre = data.mean_axis(Axis(0)).unwrap();
    let c_max = centre.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let r = data
        .rows()
        .into_iter()
        .chain(queries.rows())
        .flat_map(|row| {
            let centre = &centre;
            (0..d).map(move |k| (row[k] - centre[k]).abs())
        })
        .fold(0.0f64, f64::max);
    let lw: Vec<f64> = (0..n)
        .map(|i| log_w.map_or(-(n as f64).ln(), |w| w[i]))
        .collect();
    let top = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let gamma = 130.0 * U;
    queries
        .rows()
        .into_iter()
        .map(|y| {
            let pairs: Vec<(f64, f64)> = data
                .rows()
                .into_iter()
                .zip(&lw)
                .map(|(x, &w)| {
                    let c: f64 = (0..d).map(|k| (y[k] - x[k]).powi(2)).sum();
                    (-c / (2.0 * t) + w - top, c.sqrt())
                })
                .collect();
            let max = pairs.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let (lambda, z) = pairs
                .iter()
                .filter(|p| p.0 >= max - 64.0)
                .fold((0.0f64, 0.0f64), |(l, z), p| (l.max(p.0.abs()), z.max(p.1)));
            let df = d as f64;
            let eps = U * ((df + 3.0) * lambda + 4.0 * df.sqrt() * r * z / t + 800.0);
            let phi = 4.0 * z * eps + 2.0 * gamma * r + n as f64 * 2f64.powi(-90) * r;
            (phi + 1e-9 * (r + c_max), eps + gamma)
        })
        .collect()
}

/// `n` points uniform in `offset + [−h, h]ᵈ`.
fn cloud(rng: &mut ChaCha8Rng, n: usize, d: usize, h: f64, offset: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, d), || offset + rng.random_range(-h..h))
}

/// Half the queries near data points (within `h/20`), half anywhere in the box.
fn queries(rng: &mut ChaCha8Rng, data: ArrayView2<f64>, m: usize, h: f64, off: f64) -> Array2<f64> {
    let (n, d) = data.dim();
    Array2::from_shape_fn((m, d), |(j, k)| {
        if j % 2 == 0 {
            let i = (j * 7919) % n;
            data[[i, k]] + rng.random_range(-h / 20.0..=h / 20.0)
        } else {
            off + rng.random_range(-h..h)
        }
    })
}

/// Runs both precisions and checks every query against its bound.
fn check_against_f64(
    data: ArrayView2<f64>,
    q: ArrayView2<f64>,
    log_w: Option<ArrayView1<f64>>,
    t: f64,
) -> Result<(), TestCaseError> {
    let kernel = PairKernel::Gaussian { inv_two_t: 0.5 / t };
    let wide = kernel::softmax_mean(q, data, log_w, kernel, &|_| {});
    let b = bounds(q, data, log_w, t);
    for path in f32_paths() {
        let narrow = kernel::with_simd_path(path, || {
            kernel::softmax_mean_f32(q, data, log_w, kernel, &|_| {})
        })??;
        check_one(path, &wide, &narrow, &b, t)?;
    }
    Ok(())
}

/// The SIMD paths that run the `f32` loop on this CPU (all it supports but `scalar`).
fn f32_paths() -> Vec<SimdPath> {
    SimdPath::supported()
        .into_iter()
        .filter(|&p| p != SimdPath::Scalar)
        .collect()
}

/// Checks one path's `f32` result against `f64` and the bounds of every query.
fn check_one(
    path: SimdPath,
    wide: &SoftmaxMean,
    narrow: &SoftmaxMean,
    b: &[(f64, f64)],
    t: f64,
) -> Result<(), TestCaseError> {
    let (mut worst_phi, mut worst_lse) = (0.0f64, 0.0f64);
    for (j, &(phi_bound, lse_bound)) in b.iter().enumerate() {
        let err = (&narrow.mean.row(j) - &wide.mean.row(j))
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        prop_assert!(
            err <= phi_bound,
            "{path}: query {j}: |Φ_f32 − Φ_f64| = {err:e} > bound {phi_bound:e} (t = {t})"
        );
        let (l32, l64) = (narrow.log_normalizer[j], wide.log_normalizer[j]);
        let lerr = (l32 - l64).abs();
        let ltol = lse_bound + 1e-9 * (1.0 + l64.abs());
        prop_assert!(
            lerr <= ltol,
            "{path}: query {j}: |log Z_f32 − log Z_f64| = {lerr:e} > bound {ltol:e}"
        );
        worst_phi = worst_phi.max(err / phi_bound);
        worst_lse = worst_lse.max(lerr / ltol);
    }
    report("Φ (worst err/bound)", worst_phi, 1.0);
    report("log Z (worst err/bound)", worst_lse, 1.0);
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// The bound of the module docs for `N` from 1 to 4000, `d = 1..3`, `t` log-uniform in
    /// `[10⁻², 10]`, data of half-width `h` log-uniform in `[0.1, 10]` centred anywhere in
    /// `[−100, 100]`, uniform or random (some zero) weights.
    #[test]
    fn f32_softmax_mean_is_within_its_bound_of_f64(
        n in 1usize..4000,
        d in 1usize..=3,
        log10_t in -2.0f64..=1.0,
        log10_h in -1.0f64..=1.0,
        offset in -100.0f64..100.0,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let (t, h) = (10f64.powf(log10_t), 10f64.powf(log10_h));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = cloud(&mut rng, n, d, h, offset);
        let q = queries(&mut rng, data.view(), 40, h, offset);
        let log_w: Option<Array1<f64>> = weighted.then(|| {
            let mut w = Array1::from_shape_fn(n, |_| rng.random_range(-6.0f64..0.0));
            if n > 1 {
                w[n / 2] = f64::NEG_INFINITY;
            }
            w
        });
        check_against_f64(data.view(), q.view(), log_w.as_ref().map(|w| w.view()), t)?;
    }
}

proptest! {
    #![proptest_config(config(8))]

    /// The same bound at `N = 20 000` (ten chunks of 2048: the chunk folds into `f64` are
    /// exercised, and the error must not grow with `N`).
    #[test]
    fn f32_error_bound_holds_at_n_20000(
        d in 1usize..=3,
        log10_t in -2.0f64..=1.0,
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = cloud(&mut rng, 20_000, d, 2.0, 1.0);
        let q = queries(&mut rng, data.view(), 64, 2.0, 1.0);
        check_against_f64(data.view(), q.view(), None, t)?;
    }
}

proptest! {
    #![proptest_config(config(6))]

    /// Every query is reduced by one thread over the data in a fixed order, so 1, 2 and 7
    /// threads give the same bits — with M = 77 queries (not a multiple of the 32-query block),
    /// N ≢ 0 mod 16 spanning several 2048-point chunks, and weights or not.
    #[test]
    fn f32_results_are_bit_identical_for_1_2_and_7_threads(
        d in 1usize..=3,
        n16 in 130usize..400,
        rem in 1usize..16,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let n = 16 * n16 + rem;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = cloud(&mut rng, n, d, 2.0, 0.0);
        let q = queries(&mut rng, data.view(), 77, 2.0, 0.0);
        let log_w: Option<Array1<f64>> =
            weighted.then(|| Array1::from_shape_fn(n, |_| rng.random_range(-3.0..0.0)));
        let kernel = PairKernel::Gaussian { inv_two_t: 0.5 / 0.3 };
        let run = |path: SimdPath, threads: usize| -> Result<SoftmaxMean, TestCaseError> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            // The path is forced on the pool's thread, where the kernel starts.
            Ok(pool.install(|| kernel::with_simd_path(path, || {
                kernel::softmax_mean_f32(
                    q.view(),
                    data.view(),
                    log_w.as_ref().map(|w| w.view()),
                    kernel,
                    &|_| {},
                )
            }))??)
        };
        let bits = |r: &SoftmaxMean| -> Vec<u64> {
            r.mean.iter().chain(r.log_normalizer.iter()).map(|v| v.to_bits()).collect()
        };
        for path in f32_paths() {
            let one = run(path, 1)?;
            prop_assert!(one.mean.iter().all(|v| v.is_finite()));
            for threads in [2, 7] {
                prop_assert!(bits(&one) == bits(&run(path, threads)?),
                    "{path}: {threads} threads differ from 1");
            }
        }
    }
}

/// A query far from a single atom: every log-weight is about `−10⁶` (finite in `f32`), and Φ
/// is that atom exactly (a convex combination of one point), `log Z` the cost to within the
/// bound (`ε ≈ 6u·10⁶`).
#[test]
fn f32_single_far_atom_is_exact() {
    let data = ndarray::array![[0.25, -1.5]];
    let q = ndarray::array![[1000.25, 998.5], [0.25, -1.5]];
    let t = 1.0;
    for path in f32_paths() {
        let r = kernel::with_simd_path(path, || {
            kernel::softmax_mean_f32(
                q.view(),
                data.view(),
                None,
                PairKernel::Gaussian { inv_two_t: 0.5 / t },
                &|_| {},
            )
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            r.mean,
            ndarray::array![[0.25, -1.5], [0.25, -1.5]],
            "{path}"
        );
        let want = -(1000.0f64.powi(2) * 2.0) / (2.0 * t);
        assert!(
            (r.log_normalizer[0] - want).abs() <= 6.0 * U * want.abs(),
            "{path}"
        );
        assert_eq!(r.log_normalizer[1], 0.0, "{path}");
    }
}

/// What the `f32` path does not serve is an `Error::Unsupported` that says what (non-Gaussian
/// noise, `d > 3`, costs that overflow `f32`, the scalar SIMD path), not a silent fallback; mismatched or empty input
/// is the usual error.
#[test]
fn f32_refuses_what_it_does_not_serve() {
    let x2 = Array2::from_shape_fn((10, 2), |(i, k)| (i + k) as f64);
    let gauss = PairKernel::Gaussian { inv_two_t: 1.0 };
    let unsupported = |r: Result<SoftmaxMean, Error>, what: &str| match r {
        Err(Error::Unsupported(m)) => assert!(m.contains(what), "{m:?} should name {what}"),
        other => panic!("expected Unsupported({what}), got {other:?}"),
    };
    let laplace = PairKernel::Laplace { inv_b: 1.0 };
    unsupported(
        kernel::softmax_mean_f32(x2.view(), x2.view(), None, laplace, &|_| {}),
        "Gaussian",
    );
    let x4 = Array2::<f64>::zeros((10, 4));
    unsupported(
        kernel::softmax_mean_f32(x4.view(), x4.view(), None, gauss, &|_| {}),
        "d = 4",
    );
    let far = ndarray::array![[0.0, 0.0], [1e20, 0.0]];
    unsupported(
        kernel::softmax_mean_f32(far.view(), far.view(), None, gauss, &|_| {}),
        "overflow",
    );
    let x3 = Array2::<f64>::zeros((10, 3));
    assert!(matches!(
        kernel::softmax_mean_f32(x3.view(), x2.view(), None, gauss, &|_| {}),
        Err(Error::DimensionMismatch { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(
        kernel::softmax_mean_f32(x2.view(), empty.view(), None, gauss, &|_| {}),
        Err(Error::Empty { .. })
    ));
    unsupported(
        kernel::with_simd_path(SimdPath::Scalar, || {
            kernel::softmax_mean_f32(x2.view(), x2.view(), None, gauss, &|_| {})
        })
        .unwrap(),
        "scalar",
    );

    let mu = Empirical::new(x2.clone()).unwrap();
    match dae::empirical_with(&mu, Noise::Laplace, 0.5, x2.view(), Precision::F32, &|_| {}) {
        Err(Error::Unsupported(m)) => assert!(m.contains("laplace"), "{m}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// `Precision` parses and prints `f64` / `f32` (the CLI's `--precision` values) and refuses
/// anything else with the parameter named.
#[test]
fn precision_round_trips_through_its_name() {
    for p in [Precision::F64, Precision::F32] {
        assert_eq!(p.to_string().parse::<Precision>().unwrap(), p);
    }
    assert_eq!(Precision::default(), Precision::F64);
    match "f16".parse::<Precision>() {
        Err(Error::InvalidParameter { name, value, .. }) => {
            assert_eq!((name.as_str(), value.as_str()), ("precision", "f16"))
        }
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

/// The precision option threads through: `empirical_with(F64)` is `empirical` bit for bit,
/// `empirical_with(F32)` is the `f32` kernel's mean, and the first layer of `deep_dae_with(F32)`
/// is `empirical_with(F32)` of the data on itself, bit for bit.
#[test]
fn precision_option_reaches_the_kernel_in_dae_and_deep() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x = cloud(&mut rng, 3000, 2, 1.0, 0.0);
    let mu = Empirical::new(x.clone()).unwrap();
    let (t, g) = (0.05, Noise::Gaussian);
    let f64_default = dae::empirical(&mu, g, t, x.view(), &|_| {}).unwrap();
    let f64_with = dae::empirical_with(&mu, g, t, x.view(), Precision::F64, &|_| {}).unwrap();
    assert_eq!(f64_default, f64_with);
    let f32_phi = dae::empirical_with(&mu, g, t, x.view(), Precision::F32, &|_| {}).unwrap();
    let kernel = g.pair_kernel(t, 2);
    let direct = kernel::softmax_mean_f32(x.view(), x.view(), None, kernel, &|_| {}).unwrap();
    assert_eq!(f32_phi, direct.mean);
    assert_ne!(
        f32_phi, f64_with,
        "f32 should differ from f64 in the last bits"
    );
    let r = deep::deep_dae_with(x.view(), None, g, &[t, t], None, Precision::F32, &|_| {}).unwrap();
    assert_eq!(r.particles.at(1), f32_phi);
}
