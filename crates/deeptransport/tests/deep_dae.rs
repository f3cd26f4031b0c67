//! Deep DAEs on particles (Section 3.1, METHODS §4) and the `Trajectory` type (METHODS §7).

use deeptransport::Error;
use deeptransport::flow::Trajectory;
use deeptransport::flow::deep::{DaeLayer, MAX_LAYERS, constant_schedule, deep_dae};
use deeptransport::map::TransportMap;
use deeptransport::measure::Empirical;
use deeptransport::noise::Noise;
use ndarray::{Array2, Array3, ArrayView2, Axis, array, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// `n` draws of `N(mean, diag(sd²))`, seeded.
fn gaussian_sample(n: usize, mean: &[f64], sd: &[f64], seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, sd.len()), |(_, k)| {
        let z: f64 = StandardNormal.sample(&mut rng);
        mean[k] + sd[k] * z
    })
}

/// Unbiased sample variance of each column.
fn column_variances(x: ArrayView2<f64>) -> Vec<f64> {
    let m = x.mean_axis(Axis(0)).expect("non-empty");
    (0..x.ncols())
        .map(|k| {
            x.column(k).iter().map(|v| (v - m[k]).powi(2)).sum::<f64>() / (x.nrows() as f64 - 1.0)
        })
        .collect()
}

/// Claim (METHODS §4): for μ₀ = N(0, λ) the composition keeps μ_ℓ Gaussian with
/// `λ_{ℓ+1} = λ_ℓ³/(λ_ℓ + τ)²`; the particle composition of a sample follows it.
///
/// Setting: d = 1, λ = 1, τ = 0.1, L = 3, n = 4000, 8 seeds. Compared quantity: the variance
/// ratio `r_ℓ = s²_ℓ / s²_0` of the particles (dividing by the sample's own initial variance removes
/// most of the sampling noise, since every layer is nearly linear), against `λ_ℓ / λ_0`.
///
/// Tolerance: `|mean_seeds(r_ℓ)/(λ_ℓ/λ_0) − 1| ≤ 5·SE + β_ℓ`, SE the standard error across
/// the 8 seeds, β_ℓ the first-order finite-n bias of the empirical DAE. The particles are the
/// atoms, so each particle attracts itself with posterior weight `w(x) ≈ 1/(n√(2πτ) p_τ(x))`,
/// `p_τ = N(0, λ+τ)`: `Φ_n(x) ≈ (1−w)Φ(x) + w·x` (variance inflated by `2w(1−a)/a`,
/// `a = λ/(λ+τ)`) plus the Nadaraya–Watson fluctuation of the other atoms' average (variance
/// `≈ w·aτ`, relative `wτ/(aλ)`). Weighted by `x²` as the variance weights it,
/// `E[w x²]/E[x²] = √((λ+τ)/λ)·s³/(λ n √τ)` with `s² = λ(λ+τ)/τ`, so per layer
/// `δ_ℓ = (2(1−a)/a + τ/(aλ))·E[w x²]/E[x²]` and `β_ℓ = Σ_{k<ℓ} δ_k` (relative errors add to first
/// order). This ignores the saturation `w ≤ 1` in the far tails, which only lowers the true bias,
/// so β over-estimates it (measured: 0.2–0.6 of β). A wrong τ convention (τ/2 or 2τ) shifts
/// `r_1` by ≈ 10 %, ten times β_1.
#[test]
fn particle_composition_of_a_gaussian_sample_follows_the_covariance_recursion() {
    let (lam0, tau, layers, n, seeds) = (1.0f64, 0.1f64, 3usize, 4000usize, 8u64);
    let taus = constant_schedule(tau, layers as u64).unwrap();
    let mut ratios = vec![Vec::new(); layers + 1];
    for seed in 0..seeds {
        let x = gaussian_sample(n, &[0.0], &[lam0.sqrt()], 1000 + seed);
        let r = deep_dae(x.view(), None, Noise::Gaussian, &taus, None, &|_| {}).unwrap();
        assert_eq!(r.particles.len_times(), layers + 1);
        let v0 = column_variances(r.particles.at(0))[0];
        for (l, rl) in ratios.iter_mut().enumerate() {
            rl.push(column_variances(r.particles.at(l))[0] / v0);
        }
    }
    let (mut lam, mut beta) = (lam0, 0.0f64);
    for (l, rl) in ratios.iter().enumerate().skip(1) {
        // Advance the population recursion and the bias allowance by one layer.
        let a = lam / (lam + tau);
        let s3 = (lam * (lam + tau) / tau).powf(1.5);
        let wx2 = ((lam + tau) / lam).sqrt() * s3 / (lam * n as f64 * tau.sqrt());
        beta += (2.0 * (1.0 - a) / a + tau / (a * lam)) * wx2;
        lam = lam.powi(3) / (lam + tau).powi(2);
        let theory = lam / lam0;
        let k = rl.len() as f64;
        let mean = rl.iter().sum::<f64>() / k;
        let sd = (rl.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        let se = sd / k.sqrt() / theory;
        let rel = mean / theory - 1.0;
        println!(
            "layer {l}: theory {theory:.6}, mean {mean:.6}, rel {rel:.3e}, 5·SE {:.3e}, β {beta:.3e}",
            5.0 * se
        );
        assert!(
            rel.abs() <= 5.0 * se + beta,
            "layer {l}: relative deviation {rel:.3e} exceeds 5·SE + β = {:.3e}",
            5.0 * se + beta
        );
    }
}

/// Claim: queries are carried by the same layer maps as the particles. With the data rows
/// themselves as queries the query trajectory equals the particle trajectory bit for bit
/// (tolerance 0: the same kernel computation on the same numbers; n = 1000 is not a multiple
/// of the kernel's query block, so the copies sit at different offsets within blocks).
#[test]
fn queries_equal_to_the_data_follow_the_particles_exactly() {
    let x = gaussian_sample(1000, &[0.0, 1.0], &[1.0, 0.5], 7);
    let r = deep_dae(
        x.view(),
        None,
        Noise::Gaussian,
        &[0.05, 0.1, 0.2],
        Some(x.view()),
        &|_| {},
    )
    .unwrap();
    let q = r.queries.expect("queries were given");
    assert_eq!(q.positions(), r.particles.positions());
    assert_eq!(q.times(), r.particles.times());
    assert_eq!(
        r.particles.times(),
        &[0.0, 0.05, 0.05 + 0.1, 0.05 + 0.1 + 0.2]
    );
}

/// Claim: one layer as a `TransportMap` (`DaeLayer`) is the first layer of `deep_dae`
/// (tolerance 0: the same kernel call on the same rows), and the progress callback counts
/// `L·(n + m)` rows in all (exact count).
#[test]
fn single_layer_map_and_progress_count() {
    let x = gaussian_sample(300, &[0.0, 0.0], &[1.0, 2.0], 3);
    let q = gaussian_sample(50, &[0.0, 0.0], &[1.0, 1.0], 4);
    let count = AtomicUsize::new(0);
    let r = deep_dae(
        x.view(),
        None,
        Noise::Laplace,
        &[0.2, 0.3],
        Some(q.view()),
        &|k| {
            count.fetch_add(k, Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 2 * (300 + 50));
    let layer = DaeLayer {
        particles: Empirical::new(x.clone()).unwrap(),
        noise: Noise::Laplace,
        tau: 0.2,
    };
    assert_eq!((layer.dim_in(), layer.dim_out()), (2, 2));
    assert_eq!(layer.apply(x.view()).unwrap(), r.particles.at(1));
}

/// Claim (METHODS §4): with Gaussian noise the deep DAE is Gaussian blurring mean shift, which
/// clusters data. Two 1-D clusters N(±3, 0.3²), 500 points each, τ = 0.2, 50 layers.
///
/// Tolerances: every particle ends within 1e-3 of its cluster's collapse point (the within-
/// cluster variance follows `v ↦ v³/(v+τ)²` roughly, 0.09 → 9·10⁻³ → 2·10⁻⁵ → …, so it is at
/// rounding level long before layer 50; the cross-cluster weight is `exp(−36/(2τ)) ≈ e⁻⁹⁰`).
/// The collapse points lie within 5 standard errors of the mean, 5·0.3/√500 ≈ 0.067, of ±3,
/// plus 0.05 for the drift of blurring mean shift away from the sample mean (each step moves
/// the cluster mean by the weighted asymmetry of a cluster of spread ≤ 0.3; measured below
/// 0.01). The within-cluster variance decreases strictly layer by layer until it is below 1e-24
/// (rounding level for O(1) coordinates), and never grows past that floor afterwards.
#[test]
fn blurring_mean_shift_clusters_two_gaussians() {
    let mut x = gaussian_sample(1000, &[0.0], &[0.3], 11);
    for i in 0..500 {
        x[[i, 0]] -= 3.0;
    }
    for i in 500..1000 {
        x[[i, 0]] += 3.0;
    }
    let taus = constant_schedule(0.2, 50).unwrap();
    let r = deep_dae(x.view(), None, Noise::Gaussian, &taus, None, &|_| {}).unwrap();
    let last = r.particles.last();
    let halves = [(0..500, -3.0), (500..1000, 3.0)];
    for (range, centre) in halves.clone() {
        let pts = last.slice(s![range.clone(), 0]);
        let c = pts.mean().unwrap();
        let worst = pts.iter().map(|v| (v - c).abs()).fold(0.0, f64::max);
        let init_mean = x.slice(s![range, 0]).mean().unwrap();
        println!(
            "cluster {centre}: collapse point {c:.6}, initial mean {init_mean:.6}, spread {worst:.2e}"
        );
        assert!(worst <= 1e-3, "cluster {centre}: spread {worst}");
        assert!((c - centre).abs() <= 0.067 + 0.05, "collapse point {c}");
        assert!((c - init_mean).abs() <= 0.05, "drift {}", c - init_mean);
    }
    for (range, centre) in halves {
        let v: Vec<f64> = (0..r.particles.len_times())
            .map(|k| column_variances(r.particles.at(k).slice(s![range.clone(), ..]))[0])
            .collect();
        for l in 1..v.len() {
            if v[l - 1] > 1e-24 {
                assert!(v[l] < v[l - 1], "cluster {centre}, layer {l}: {v:?}");
            } else {
                assert!(v[l] <= 1e-24, "cluster {centre}, layer {l}: {v:?}");
            }
        }
    }
}

/// Claim: results are bit-identical for 1 and 2 threads (tolerance 0; ARCHITECTURE:
/// identical whatever the thread count).
#[test]
fn deterministic_across_thread_counts() {
    let x = gaussian_sample(700, &[0.0, 0.0], &[1.0, 0.7], 5);
    let q = gaussian_sample(90, &[0.0, 0.0], &[2.0, 2.0], 6);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                deep_dae(
                    x.view(),
                    None,
                    Noise::Gaussian,
                    &[0.1, 0.2, 0.05],
                    Some(q.view()),
                    &|_| {},
                )
                .unwrap()
            })
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.particles, b.particles);
    assert_eq!(a.queries, b.queries);
}

/// Claim (METHODS §7): layers of different widths are embedded in ℝ^max(d) by zero padding;
/// path lengths are Σ_k |x_{k+1} − x_k| (exact arithmetic on small integers: tolerance 0 / 1e-15).
#[test]
fn trajectory_from_layers_and_displacement_lengths() {
    let layers = vec![
        array![[1.0], [2.0]],
        array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        array![[7.0, 8.0], [9.0, 10.0]],
    ];
    let t = Trajectory::from_layers(layers, vec![0.0, 1.0, 1.0]).unwrap();
    assert_eq!((t.len_times(), t.n_points(), t.dim()), (3, 2, 3));
    assert_eq!(t.first(), array![[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]);
    assert_eq!(t.at(1), array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(t.last(), array![[7.0, 8.0, 0.0], [9.0, 10.0, 0.0]]);
    assert_eq!(t.times(), &[0.0, 1.0, 1.0]);

    // A straight segment from (0,0) to (3,4) in 5 equal steps: total length 5.
    let mut pos = Array3::zeros((6, 1, 2));
    for k in 0..6 {
        pos[[k, 0, 0]] = 0.6 * k as f64;
        pos[[k, 0, 1]] = 0.8 * k as f64;
    }
    let line = Trajectory::new(pos, (0..6).map(|k| k as f64 * 0.2).collect()).unwrap();
    let len = line.displacement_lengths();
    assert!((len[0] - 5.0).abs() <= 1e-14, "{}", len[0]);
    let single = Trajectory::new(Array3::zeros((1, 3, 2)), vec![0.5]).unwrap();
    assert_eq!(
        single.displacement_lengths(),
        ndarray::Array1::<f64>::zeros(3)
    );
}

/// Claim: `Trajectory` refuses inconsistent input with the matching error.
#[test]
fn trajectory_validation() {
    let pos = Array3::<f64>::zeros((3, 2, 1));
    assert!(matches!(
        Trajectory::new(pos.clone(), vec![0.0, 1.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        Trajectory::new(pos.clone(), vec![0.0, 1.0, 0.5]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Trajectory::new(pos.clone(), vec![0.0, f64::NAN, 2.0]),
        Err(Error::InvalidParameter { .. })
    ));
    let mut bad = pos.clone();
    bad[[1, 1, 0]] = f64::NAN;
    assert!(matches!(
        Trajectory::new(bad, vec![0.0, 1.0, 2.0]),
        Err(Error::NonFinite { row: 2, col: 1, .. })
    ));
    assert!(matches!(
        Trajectory::new(Array3::zeros((0, 2, 1)), vec![]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        Trajectory::from_layers(vec![], vec![]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        Trajectory::from_layers(
            vec![Array2::zeros((2, 1)), Array2::zeros((3, 1))],
            vec![0.0, 1.0]
        ),
        Err(Error::DimensionMismatch { .. })
    ));
}

/// Claim: bad schedules and inputs are refused with a clear error; an absurd L is refused
/// before anything is allocated (measured: well under the 0.1 s bound).
#[test]
fn bad_input_is_refused() {
    let start = Instant::now();
    let r = constant_schedule(0.1, 1_000_000_000_000);
    let elapsed = start.elapsed().as_secs_f64();
    assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{r:?}");
    assert!(elapsed < 0.1, "took {elapsed} s");
    assert!(constant_schedule(0.1, MAX_LAYERS + 1).is_err());
    assert!(constant_schedule(0.1, 0).is_err());
    assert!(constant_schedule(0.0, 3).is_err());
    assert!(constant_schedule(f64::NAN, 3).is_err());
    assert_eq!(constant_schedule(0.25, 4).unwrap(), vec![0.25; 4]);

    let x = gaussian_sample(20, &[0.0, 0.0], &[1.0, 1.0], 1);
    let dd = |taus: &[f64], q: Option<ArrayView2<f64>>| {
        deep_dae(x.view(), None, Noise::Gaussian, taus, q, &|_| {})
    };
    assert!(matches!(dd(&[], None), Err(Error::Empty { .. })));
    for bad in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(dd(&[0.1, bad], None), Err(Error::InvalidParameter { .. })),
            "τ = {bad}"
        );
    }
    let q3 = Array2::<f64>::zeros((4, 3));
    assert!(matches!(
        dd(&[0.1], Some(q3.view())),
        Err(Error::DimensionMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    let mut nan_data = x.clone();
    nan_data[[3, 1]] = f64::NAN;
    assert!(matches!(
        deep_dae(
            nan_data.view(),
            None,
            Noise::Gaussian,
            &[0.1],
            None,
            &|_| {}
        ),
        Err(Error::NonFinite { .. })
    ));
    let w = ndarray::Array1::from_elem(19, 1.0);
    assert!(matches!(
        deep_dae(
            x.view(),
            Some(w.view()),
            Noise::Gaussian,
            &[0.1],
            None,
            &|_| {}
        ),
        Err(Error::InvalidWeights(_))
    ));
}
