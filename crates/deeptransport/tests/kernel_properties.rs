//! Property tests of the streaming softmax kernel and of the empirical optimal DAE built on it
//! (METHODS §2, `Φ_t(y) = Σ_i w_i ν_t(y − x_i) x_i / Σ_i w_i ν_t(y − x_i)`), run for every noise
//! family with the same bodies.
//!
//! Tolerances come from one error model, written out in [`RoundingModel`]: the kernel rounds the
//! centred coordinates (a perturbation `δz ≈ ε·S` of every difference `y − x_i`, `S` the size of
//! the numbers subtracted), which moves each log-weight `ℓ_i` by at most `|∇ℓ|·|δz|` (direct path)
//! or by `|dℓ/dcost|·4dεS²` (GEMM path: `|y|² + |x|² − 2⟨y, x⟩` cancels); a first-order change
//! `δℓ` of the log-weights moves the softmax mean by at most `2·diam·max|δℓ|`; and summing `n`
//! terms in a different order costs `n·ε` relative. Set `DEEPTRANSPORT_TEST_REPORT=1` to print
//! every observed error next to its tolerance.
//!
//! The tests that compare against a reference, the thread-count test and the extreme-`t` test
//! run on every SIMD path this CPU supports ([`SimdPath::supported`]: AVX-512, AVX2, portable,
//! scalar), forced with [`kernel::with_simd_path`], each against the same tolerance.

use deeptransport::dae;
use deeptransport::kernel::{self, GEMM_MIN_DIM, PairKernel, SimdPath, SoftmaxMean};
use deeptransport::measure::Empirical;
use deeptransport::noise::Noise;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;

use common::log_weight;

const EPS: f64 = f64::EPSILON;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Asserts `err ≤ tol` and, when `DEEPTRANSPORT_TEST_REPORT` is set, prints both.
fn within(claim: &str, err: f64, tol: f64) -> Result<(), TestCaseError> {
    if std::env::var_os("DEEPTRANSPORT_TEST_REPORT").is_some() {
        eprintln!(
            "{claim}: err {err:.3e} tol {tol:.3e} ratio {:.3e}",
            err / tol
        );
    }
    prop_assert!(err <= tol, "{claim}: error {err:e} > tolerance {tol:e}");
    Ok(())
}

fn any_noise() -> impl Strategy<Value = Noise> {
    prop_oneof![
        Just(Noise::Gaussian),
        Just(Noise::Laplace),
        Just(Noise::Uniform),
        (2.5f64..30.0).prop_map(|nu| Noise::Student { nu }),
    ]
}

/// The families with an everywhere-positive density (no query can lack a posterior).
fn smooth_noise() -> impl Strategy<Value = Noise> {
    prop_oneof![
        Just(Noise::Gaussian),
        Just(Noise::Laplace),
        (2.1f64..30.0).prop_map(|nu| Noise::Student { nu }),
    ]
}

/// Low dimensions (direct path) and one above the GEMM threshold.
fn any_dim() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=3, Just(GEMM_MIN_DIM + 1)]
}

fn uniform_cloud(rng: &mut ChaCha8Rng, n: usize, d: usize, half: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, d), || rng.random_range(-half..half))
}

/// `m` queries, each a data row plus an offset in `[−r, r]ᵈ`: with `r ≤ a` every query's cube of
/// half-width `a` holds at least that atom, so uniform noise has a posterior everywhere.
fn near_data_queries(rng: &mut ChaCha8Rng, data: ArrayView2<f64>, m: usize, r: f64) -> Array2<f64> {
    let (n, d) = data.dim();
    let mut q = Array2::zeros((m, d));
    for mut row in q.rows_mut() {
        let i = rng.random_range(0..n);
        for k in 0..d {
            row[k] = data[[i, k]] + rng.random_range(-r..=r);
        }
    }
    q
}

fn max_abs(a: ArrayView2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn max_abs_diff(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// The Euclidean diameter of the data and queries together (bounded by their bounding box).
fn diameter(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    let d = a.ncols();
    let mut s2 = 0.0;
    for k in 0..d {
        let (ak, bk) = (a.column(k), b.column(k));
        let (lo, hi) = ak
            .iter()
            .chain(bk.iter())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        s2 += (hi - lo) * (hi - lo);
    }
    s2.sqrt()
}

/// The error model of the module docs, for one noise family at variance `t` in dimension `d`
/// with data and queries inside a set of diameter `diam`.
struct RoundingModel {
    /// `sup |∇_z ℓ(z)|` over `|z| ≤ diam`: Gaussian `diam/t`; Laplace `√d/b`; Student
    /// `h/√(νs²)` (`h = (ν + d)/2`, the maximum of `2h|z|/(νs² + |z|²)`); uniform 0 (ℓ is
    /// piecewise constant; an atom within rounding of a cube face has probability ~ε).
    grad: f64,
    /// `sup |dℓ/dcost|` for the squared-Euclidean families on the GEMM path, else 0.
    slope: f64,
    d: usize,
    diam: f64,
}

impl RoundingModel {
    /// The model on the default SIMD path.
    fn new(noise: Noise, t: f64, d: usize, diam: f64) -> Self {
        Self::on(SimdPath::widest(), noise, t, d, diam)
    }

    /// The model on `path` (whose GEMM crossover decides where the cancellation term applies).
    fn on(path: SimdPath, noise: Noise, t: f64, d: usize, diam: f64) -> Self {
        let (grad, slope) = match noise {
            Noise::Gaussian => (diam / t, 0.5 / t),
            Noise::Laplace => ((d as f64).sqrt() / Noise::laplace_scale(t), 0.0),
            Noise::Uniform => (0.0, 0.0),
            Noise::Student { nu } => {
                let a = nu * Noise::student_scale_sq(nu, t);
                let h = 0.5 * (nu + d as f64);
                (h / a.sqrt(), h / a)
            }
        };
        let gemm = d >= kernel::gemm_min_dim(path)
            && matches!(noise, Noise::Gaussian | Noise::Student { .. });
        RoundingModel {
            grad,
            slope: if gemm { slope } else { 0.0 },
            d,
            diam,
        }
    }

    /// Bound on `|δΦ|_∞` when every coordinate of the subtracted numbers has size ≤ `s` (and the
    /// centred ones ≤ `s_centred`) and `n` terms are summed: rounding of each coordinate
    /// difference is ≤ 2εs, so `|δz| ≤ 2εs√d` and `δℓ ≤ grad·|δz| + slope·4dε·s_centred²`; the
    /// mean moves by ≤ `2·diam·δℓ`; the sums add `4(n + d)εs`. A safety factor 4 covers the
    /// constants this first-order count drops.
    fn bound(&self, s: f64, s_centred: f64, n: usize) -> f64 {
        let d = self.d as f64;
        let dz = 2.0 * EPS * s * d.sqrt();
        let dl = self.grad * dz + self.slope * 4.0 * d * EPS * s_centred * s_centred * d;
        4.0 * (2.0 * self.diam * dl + 4.0 * (n as f64 + d) * EPS * s)
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// `Φ_t(y + c; μ + c) = Φ_t(y; μ) + c`: the posterior mean commutes with translations, for
    /// every family, on both kernel paths. Tolerance: [`RoundingModel::bound`] with coordinates of
    /// size `R + |c|` (the shifted numbers the kernel subtracts), which for these ranges is
    /// ≲ 1e-10·(1 + |c|); cube noise gets queries within `a/2` of an atom so every posterior exists.
    #[test]
    fn empirical_dae_is_translation_equivariant_for_every_noise(
        noise in any_noise(),
        d in any_dim(),
        n in 1usize..150,
        m in 1usize..40,
        log10_t in -1.3f64..1.3,
        shift in 0.0f64..100.0,
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 3.0);
        let queries = near_data_queries(&mut rng, data.view(), m, 0.5 * Noise::uniform_half_width(t));
        let c = Array1::from_shape_fn(d, |_| rng.random_range(-shift..=shift));
        let phi = dae::empirical(&Empirical::new(data.clone())?, noise, t, queries.view(), &|_| {})?;
        let phi_c = dae::empirical(
            &Empirical::new(&data + &c)?,
            noise,
            t,
            (&queries + &c).view(),
            &|_| {},
        )?;
        let err = max_abs_diff(phi_c.view(), (&phi + &c).view());
        let c_max = c.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let r = max_abs(data.view()).max(max_abs(queries.view()));
        let diam = diameter(data.view(), queries.view());
        let tol = RoundingModel::new(noise, t, d, diam).bound(r + c_max, 2.0 * r, n);
        within("translation", err, tol)?;
    }

    /// Permuting the data rows, with their weights, leaves `Φ_t` unchanged up to the order of the
    /// sums: [`RoundingModel::bound`] with `n` terms (the `n·ε` of reordered sums, plus the
    /// re-rounded centring, which changes with the order of the mean).
    #[test]
    fn empirical_dae_is_invariant_to_permuting_data_rows_with_their_weights(
        noise in any_noise(),
        d in any_dim(),
        n in 1usize..300,
        m in 1usize..30,
        log10_t in -1.0f64..1.3,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 3.0);
        let weights = Array1::from_shape_fn(n, |_| rng.random_range(0.0..2.0) + 1e-3);
        let queries = near_data_queries(&mut rng, data.view(), m, 0.5 * Noise::uniform_half_width(t));
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(&mut rng);
        let data_p = data.select(Axis(0), &perm);
        let weights_p = weights.select(Axis(0), &perm);
        let (mu, mu_p) = if weighted {
            (Empirical::weighted(data, weights)?, Empirical::weighted(data_p, weights_p)?)
        } else {
            (Empirical::new(data)?, Empirical::new(data_p)?)
        };
        let phi = dae::empirical(&mu, noise, t, queries.view(), &|_| {})?;
        let phi_p = dae::empirical(&mu_p, noise, t, queries.view(), &|_| {})?;
        let err = max_abs_diff(phi.view(), phi_p.view());
        let r = max_abs(mu.points()).max(max_abs(queries.view()));
        let diam = diameter(mu.points(), queries.view());
        let tol = RoundingModel::new(noise, t, d, diam).bound(2.0 * r, 2.0 * r, n);
        within("permutation", err, tol)?;
    }

    /// The kernel reduces every query on one thread in a fixed order, so 1, 2 and 7 threads give
    /// the same bits — on the direct path (d = 2, every kernel) and on the GEMM path (d ≥ GEMM_MIN_DIM),
    /// with M = 77 queries (not a multiple of the 32-query block) and N ≢ 0 mod 8 spanning
    /// several 512-atom chunks.
    #[test]
    fn kernel_results_are_bit_identical_for_1_2_and_7_threads(
        gemm in any::<bool>(),
        extra_dim in 0usize..=8,
        noise in any_noise(),
        n8 in 60usize..140,
        rem in 1usize..8,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // Cube and Laplace costs never take the GEMM path; use Gaussian there instead.
        let (d, noise) = if gemm {
            let noise = if matches!(noise, Noise::Student { .. }) { noise } else { Noise::Gaussian };
            (GEMM_MIN_DIM + extra_dim, noise)
        } else {
            (2, noise)
        };
        let n = 8 * n8 + rem;
        let m = 77;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 2.0);
        let t = 0.3;
        let queries = near_data_queries(&mut rng, data.view(), m, 0.5 * Noise::uniform_half_width(t));
        let log_w: Option<Array1<f64>> =
            weighted.then(|| Array1::from_shape_fn(n, |_| rng.random_range(-3.0..0.0)));
        let kernel = noise.pair_kernel(t, d);
        let run = |path: SimdPath, threads: usize| -> Result<SoftmaxMean, TestCaseError> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            // The path is forced on the pool's thread, where the kernel starts.
            let r = pool.install(|| kernel::with_simd_path(path, || {
                kernel::softmax_mean(
                    queries.view(),
                    data.view(),
                    log_w.as_ref().map(|w| w.view()),
                    kernel,
                    &|_| {},
                )
            }))?;
            Ok(r)
        };
        let bits = |r: &SoftmaxMean| -> Vec<u64> {
            r.mean.iter().chain(r.log_normalizer.iter()).map(|v| v.to_bits()).collect()
        };
        for path in SimdPath::supported() {
            let one = run(path, 1)?;
            prop_assert!(one.mean.iter().all(|v| v.is_finite()));
            for threads in [2, 7] {
                let other = run(path, threads)?;
                prop_assert!(bits(&one) == bits(&other),
                    "{path}: {threads} threads differ from 1 (d = {d})");
            }
        }
    }

    /// For t from 1e-8 to 1e8 (log-uniform) the smooth families give finite log-normalisers and
    /// finite means inside the data's bounding box (Φ is a convex combination of atoms), for
    /// queries on atoms, near them and 10³ away, on both kernel paths.
    #[test]
    fn empirical_dae_is_finite_and_in_the_data_box_for_extreme_t(
        noise in smooth_noise(),
        d in any_dim(),
        n in 1usize..120,
        log10_t in -8.0f64..=8.0,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 3.0);
        let mut queries = near_data_queries(&mut rng, data.view(), 12, 0.5);
        queries.slice_mut(s![0..3, ..]).assign(&data.slice(s![0..1, ..]));
        for k in 0..d {
            queries[[1, k]] += 1e3;
            queries[[2, k]] -= if k % 2 == 0 { 1e3 } else { -1e3 };
        }
        let mu = if weighted {
            let w = Array1::from_shape_fn(n, |_| rng.random_range(0.0..1.0));
            Empirical::weighted(data.clone(), w + 1e-6)?
        } else {
            Empirical::new(data.clone())?
        };
        for path in SimdPath::supported() {
            let r = kernel::with_simd_path(path, || {
                dae::empirical_reduction(&mu, noise, t, queries.view(), &|_| {})
            })??;
            prop_assert!(r.log_normalizer.iter().all(|v| v.is_finite()), "{path}: log Z {:?}",
                r.log_normalizer);
            let phi = r.mean;
            // Φ is Σp_i x_i / Σp_i: summation rounding is ≤ (n + d)ε relative to max|x|.
            let slack = 4.0 * (n + d) as f64 * EPS * (1.0 + max_abs(data.view()));
            for k in 0..d {
                let col = data.column(k);
                let lo = col.fold(f64::INFINITY, |a, &v| a.min(v)) - slack;
                let hi = col.fold(f64::NEG_INFINITY, |a, &v| a.max(v)) + slack;
                for (j, &v) in phi.column(k).iter().enumerate() {
                    prop_assert!(v.is_finite() && lo <= v && v <= hi,
                        "{path}: query {j} coordinate {k}: {v} outside [{lo}, {hi}] at t = {t:e}");
                }
            }
        }
    }

    /// The GEMM path (d ≥ GEMM_MIN_DIM = 9) and the direct paths below it (tiled at d = 8 for
    /// Gaussian noise, chunked for Student noise) both agree with a plain two-pass
    /// scalar reference (all log-weights from `y − x` on the raw coordinates, then max, exp,
    /// sums). The data sit at an offset up to 200 from the origin, where the uncentred GEMM
    /// cancellation `ε(|x|² + |y|²)/2t` would reach ~1e-9 in the exponent; the kernel centres on
    /// the data's coordinate-wise median, so the cancellation is `≲ 4d²ε·2.25/2t` (coordinates within 1.5 of the
    /// centre), the rounding of `x − c` adds `≲ |∇ℓ|·2ε·200·√d`, together `δℓ ≲ 2e-12` at
    /// t ≥ 2, d ≤ 24, which moves Φ by `≲ 2·diam·δℓ`. The tolerance, `1e-10·(1 + diam)`, is
    /// relative to the spread of the data, not to its offset; `log Z` gets `1e-10·(1 + |log Z|)`.
    #[test]
    fn kernel_matches_two_pass_scalar_reference_on_gemm_and_direct_paths(
        d in 8usize..=24,
        n in 1usize..700,
        m in 1usize..40,
        log10_t in 0.3f64..2.3,
        student in any::<bool>(),
        nu in 3.0f64..30.0,
        offset in -200.0f64..200.0,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let noise = if student { Noise::Student { nu } } else { Noise::Gaussian };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 1.5) + offset;
        let queries = near_data_queries(&mut rng, data.view(), m, 1.0);
        let (all, want) = kernel_and_reference(&mut rng, queries.view(), data.view(), weighted, 0.1,
            noise.pair_kernel(t, d));
        let scale = 1.0 + diameter(data.view(), queries.view());
        for (path, got) in all {
            within(&format!("{path}: gemm/direct vs reference: mean"),
                max_abs_diff(got.mean.view(), want.mean.view()), 1e-10 * scale)?;
            let lz = got.log_normalizer.iter().zip(&want.log_normalizer)
                .fold(0.0f64, |a, (x, y)| a.max((x - y).abs() / (1.0 + y.abs())));
            within(&format!("{path}: gemm/direct vs reference: log Z"), lz, 1e-10)?;
        }
    }

    /// The low-dimensional loops (d ≤ 8: register-tiled with one running max per lane on the
    /// AVX-512, AVX2 and portable paths, chunked on the scalar path and for Student noise, GEMM
    /// from d = 4 on the portable path) agree with the plain two-pass scalar reference for all
    /// four families, on every SIMD path, with sizes that leave partial tiles (m mod 4 ≠ 0) and
    /// several data chunks (n > 2048). Tolerance: [`RoundingModel::bound`] with coordinates of
    /// size `2R` (the reference subtracts raw coordinates, the kernel centred ones), `n` terms;
    /// `log Z` to `4(n + d)ε(1 + |log Z|)` plus the same `δℓ` (with the GEMM cancellation
    /// `slope·16d²εR²` where the path takes GEMM).
    #[test]
    fn low_dimension_kernel_matches_two_pass_scalar_reference(
        noise in any_noise(),
        d in 1usize..=8,
        n in 1usize..3000,
        m in 1usize..40,
        log10_t in -2.0f64..1.5,
        weighted in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 2.0);
        let queries = near_data_queries(&mut rng, data.view(), m, 0.5 * Noise::uniform_half_width(t));
        let (all, want) = kernel_and_reference(&mut rng, queries.view(), data.view(), weighted, 0.01,
            noise.pair_kernel(t, d));
        let r = max_abs(data.view()).max(max_abs(queries.view()));
        let diam = diameter(data.view(), queries.view());
        for (path, got) in all {
            let model = RoundingModel::on(path, noise, t, d, diam);
            within(&format!("{path}: low-d vs reference: mean"),
                max_abs_diff(got.mean.view(), want.mean.view()), model.bound(2.0 * r, 2.0 * r, n))?;
            let dl = model.grad * 4.0 * EPS * r * (d as f64).sqrt()
                + model.slope * 16.0 * (d * d) as f64 * EPS * r * r;
            for (x, y) in got.log_normalizer.iter().zip(&want.log_normalizer) {
                within(&format!("{path}: low-d vs reference: log Z"), (x - y).abs(),
                    4.0 * (n + d) as f64 * EPS * (1.0 + y.abs()) + 4.0 * dl)?;
            }
        }
    }

    /// A weight vector of integers `k_i` gives the same Φ_t as the unweighted cloud in which row
    /// `i` appears `k_i` times. The two computations differ in the rounding of `ln(k_i/K)` vs
    /// `k_i` copies of `1/N` (ε relative each), in summation length and order (n·ε), and in the
    /// centring (the data means differ): [`RoundingModel::bound`] with `N = Σk_i` terms, at most
    /// ~1e-12·(1 + max|x|) for these ranges.
    #[test]
    fn integer_weights_equal_duplicated_rows(
        noise in any_noise(),
        d in any_dim(),
        n in 1usize..80,
        m in 1usize..20,
        log10_t in -0.3f64..1.3,
        seed in any::<u64>(),
    ) {
        let t = 10f64.powf(log10_t);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = uniform_cloud(&mut rng, n, d, 2.0);
        let counts: Vec<usize> = (0..n).map(|_| rng.random_range(1..=4)).collect();
        let rows: Vec<usize> = counts.iter().enumerate()
            .flat_map(|(i, &k)| std::iter::repeat_n(i, k)).collect();
        let duplicated = data.select(Axis(0), &rows);
        let weights = Array1::from_iter(counts.iter().map(|&k| k as f64));
        let queries = near_data_queries(&mut rng, data.view(), m, 0.5 * Noise::uniform_half_width(t));
        let phi_w = dae::empirical(&Empirical::weighted(data.clone(), weights)?, noise, t,
            queries.view(), &|_| {})?;
        let phi_dup = dae::empirical(&Empirical::new(duplicated)?, noise, t, queries.view(), &|_| {})?;
        let err = max_abs_diff(phi_w.view(), phi_dup.view());
        let r = max_abs(data.view()).max(max_abs(queries.view()));
        let diam = diameter(data.view(), queries.view());
        let tol = RoundingModel::new(noise, t, d, diam).bound(2.0 * r, 2.0 * r, rows.len());
        within("integer weights", err, tol)?;
    }
}

/// The kernel's result on every SIMD path this CPU supports and the scalar reference's, on the
/// same inputs, with uniform weights or normalised weights drawn from `[w_min, 1)` (passed to the
/// kernel as `log w`).
fn kernel_and_reference(
    rng: &mut ChaCha8Rng,
    queries: ArrayView2<f64>,
    data: ArrayView2<f64>,
    weighted: bool,
    w_min: f64,
    kernel: PairKernel,
) -> (Vec<(SimdPath, SoftmaxMean)>, SoftmaxMean) {
    let n = data.nrows();
    let log_w = if weighted {
        let w = Array1::from_shape_fn(n, |_| rng.random_range(w_min..1.0));
        let s = w.sum();
        w.mapv(|v| (v / s).ln())
    } else {
        Array1::from_elem(n, -(n as f64).ln())
    };
    let all = SimdPath::supported()
        .into_iter()
        .map(|path| {
            let got = kernel::with_simd_path(path, || {
                kernel::softmax_mean(
                    queries,
                    data,
                    weighted.then_some(log_w.view()),
                    kernel,
                    &|_| {},
                )
            })
            .expect("a supported path");
            (path, got)
        })
        .collect();
    (
        all,
        reference_softmax_mean(queries, data, log_w.view(), kernel),
    )
}

/// Naive two-pass softmax mean in plain scalar f64 (libm `exp`) on the raw coordinates: every log-weight
/// `ℓ(y, x_i) + log w_i` first, then the maximum, then `Σ e^{ℓ−max}` and `Σ e^{ℓ−max} x_i`.
fn reference_softmax_mean(
    queries: ArrayView2<f64>,
    data: ArrayView2<f64>,
    log_w: ArrayView1<f64>,
    kernel: PairKernel,
) -> SoftmaxMean {
    let (m, d) = queries.dim();
    let mut mean = Array2::zeros((m, d));
    let mut lse = Array1::zeros(m);
    for j in 0..m {
        let y = queries.row(j).to_vec();
        let ell: Vec<f64> = data
            .rows()
            .into_iter()
            .zip(log_w.iter())
            .map(|(x, &lw)| log_weight(kernel, &y, &x.to_vec()) + lw)
            .collect();
        let max = ell.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
        let mut total = 0.0;
        for (i, &l) in ell.iter().enumerate() {
            let e = (l - max).exp();
            total += e;
            for k in 0..d {
                mean[[j, k]] += e * data[[i, k]];
            }
        }
        mean.row_mut(j).mapv_inplace(|v| v / total);
        lse[j] = max + total.ln();
    }
    SoftmaxMean {
        log_normalizer: lse,
        mean,
    }
}
