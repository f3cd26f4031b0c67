//! The certified assignment solver (`wasserstein::assignment`, the OT of `tracks`) and its kernel
//! (`kernel::nearest::smallest_shifted`), each against an independent oracle: the kernel against
//! a brute-force sort of direct-difference values (every SIMD path, thread counts, outliers); the
//! solver against the network simplex (`wasserstein::exact`, itself checked against brute force
//! and POT), against known optimal permutations (`y = ∇φ(x)` with φ convex: translations, SPD
//! maps), against the outlier decomposition, and through its own LP certificate checked here on
//! every one of the `n²` pairs.

use deeptransport::Error;
use deeptransport::kernel::nearest::{smallest_shifted, sq_distance};
use deeptransport::kernel::{self, SimdPath};
use deeptransport::wasserstein::assignment::{Assignment, assignment};
use deeptransport::wasserstein::exact::exact;
use deeptransport::wasserstein::{OtStatus, Plan, uniform_ot};
use ndarray::{Array2, ArrayView2, array, s};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn normal(rng: &mut ChaCha8Rng, n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal))
}

fn c(x: ArrayView2<f64>, y: ArrayView2<f64>, i: usize, j: usize) -> f64 {
    sq_distance(x.row(i).to_vec().as_slice(), y.row(j).to_vec().as_slice())
}

/// The LP certificate, recomputed here on every pair: `σ` a permutation, `cost` its mean cost,
/// `u_i + v_j ≤ c_ij + tol` for all `i, j` and equality on `(i, σ(i))`, with
/// `tol = 1e-12·(max c + max|u| + max|v|)` — the solver certifies to `64ε ≈ 1.4e-14` of that
/// scale, the margin covers the rounding of this recomputation.
fn check_certificate(x: ArrayView2<f64>, y: ArrayView2<f64>, a: &Assignment) {
    let n = x.nrows();
    let mut seen = vec![false; n];
    for &j in &a.sigma {
        assert!(!seen[j], "σ is not a permutation");
        seen[j] = true;
    }
    let total: f64 = (0..n).map(|i| c(x, y, i, a.sigma[i])).sum();
    assert!((a.cost - total / n as f64).abs() <= 1e-13 * a.cost.abs().max(f64::MIN_POSITIVE));
    let max_abs = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut max_c = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            max_c = max_c.max(c(x, y, i, j));
        }
    }
    let tol = 1e-12 * (max_c + max_abs(&a.u) + max_abs(&a.v));
    for i in 0..n {
        for j in 0..n {
            assert!(
                a.u[i] + a.v[j] <= c(x, y, i, j) + tol,
                "dual infeasible at ({i}, {j})"
            );
        }
        let slack = c(x, y, i, a.sigma[i]) - a.u[i] - a.v[a.sigma[i]];
        assert!(slack.abs() <= tol, "not tight at row {i}: {slack:e}");
    }
}

fn simplex_cost(x: ArrayView2<f64>, y: ArrayView2<f64>) -> f64 {
    let r = exact(x, y, None, None, &Default::default()).unwrap().ot;
    assert_eq!(r.status, OtStatus::Converged);
    r.cost
}

/// The `k` smallest `|x_i − y_j|² − v_j` of each row by sorting all `m` direct-difference values
/// (ties by column index) — the kernel's definition, computed the slow way.
fn brute_smallest(x: ArrayView2<f64>, y: ArrayView2<f64>, v: &[f64], k: usize) -> Vec<Vec<u32>> {
    (0..x.nrows())
        .map(|i| {
            let mut all: Vec<(f64, u32)> = (0..y.nrows())
                .map(|j| (c(x, y, i, j) - v[j], j as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            all.iter().take(k).map(|p| p.1).collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The kernel returns exactly the brute-force top `k` (columns and bits of the values) on
    /// every SIMD path and thread count, with shifts, duplicated points (ties) and one far
    /// outlier in each cloud (the GEMM filter's bound must hold for any finite input).
    #[test]
    fn smallest_shifted_is_the_brute_force_top_k(
        seed in any::<u64>(), n in 1usize..90, m in 1usize..1200, d in 1usize..12,
        k in 1usize..20, outlier in -150i32..150, shifted in any::<bool>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = normal(&mut rng, n, d);
        let mut y = normal(&mut rng, m, d);
        if m > 2 {
            let r = y.row(0).to_owned();
            y.row_mut(m - 1).assign(&r);
        }
        x[[0, 0]] = 10f64.powi(outlier);
        y[[m / 2, d - 1]] = -(10f64.powi(-outlier));
        let v: Vec<f64> = (0..m)
            .map(|_| if shifted { rng.sample::<f64, _>(StandardNormal) } else { 0.0 })
            .collect();
        let want = brute_smallest(x.view(), y.view(), &v, k);
        let reference = smallest_shifted(x.view(), y.view(), &v, k);
        for (i, w) in want.iter().enumerate() {
            prop_assert_eq!(reference.row(i).0, w.as_slice(), "row {}", i);
            for (&j, &val) in reference.row(i).0.iter().zip(reference.row(i).1) {
                let direct = c(x.view(), y.view(), i, j as usize) - v[j as usize];
                prop_assert_eq!(val.to_bits(), direct.to_bits());
            }
        }
        for path in SimdPath::supported() {
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let got = pool.install(|| {
                    kernel::with_simd_path(path, || smallest_shifted(x.view(), y.view(), &v, k))
                }).unwrap();
                prop_assert!(got == reference, "{} with {} threads differs", path, threads);
            }
        }
    }

    /// Random clouds: the solver's cost equals the network simplex's to 1e-12 relative (both
    /// exact; the difference is the rounding of two sums of `n` terms) and its certificate holds
    /// on every pair.
    #[test]
    fn assignment_equals_the_network_simplex(
        seed in any::<u64>(), n in 1usize..80, d in 2usize..7, scale in -3i32..4,
        stretch in any::<bool>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = normal(&mut rng, n, d);
        let mut y = normal(&mut rng, n, d).mapv(|v| v * 10f64.powi(scale));
        if stretch {
            // A random linear map of x: the hard case (optimal partners far from the nearest).
            let w = normal(&mut rng, d, d);
            y = x.dot(&w);
        }
        let a = assignment(x.view(), y.view()).unwrap();
        let e = simplex_cost(x.view(), y.view());
        prop_assert!((a.cost - e).abs() <= 1e-12 * e.max(f64::MIN_POSITIVE), "{} vs {}", a.cost, e);
        check_certificate(x.view(), y.view(), &a);
    }
}

/// Larger problems where the first scan does not certify every row (a random linear map: the
/// optimal partner of a point is rarely its nearest neighbour), so the certificate rounds run:
/// equal to the simplex and certified on all pairs.
#[test]
fn certificate_rounds_reach_the_simplex_optimum() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (n, d) in [(600, 3), (800, 16)] {
        let x = normal(&mut rng, n, d);
        let w = normal(&mut rng, d, d);
        let y = x.dot(&w);
        let a = assignment(x.view(), y.view()).unwrap();
        assert!(
            a.scans > 1,
            "n = {n}, d = {d}: the rounds were not exercised"
        );
        let e = simplex_cost(x.view(), y.view());
        assert!((a.cost - e).abs() <= 1e-12 * e, "{} vs {e}", a.cost);
        check_certificate(x.view(), y.view(), &a);
    }
}

/// `y = ∇φ(x)` for convex φ is the optimal map (Brenier), so σ is the identity and the cost is
/// the mean displacement: a translation (φ = |x|²/2 + ⟨t, x⟩), an SPD linear map plus a translation
/// (φ = xᵀSx/2 + ⟨t, x⟩), and the translation at scale 1e100 (rounding-level certificate at any
/// scale).
#[test]
fn gradients_of_convex_functions_give_the_identity() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, d) = (400, 5);
    let x = normal(&mut rng, n, d);
    let a = normal(&mut rng, d, d);
    let spd = a.t().dot(&a) + Array2::<f64>::eye(d) * 0.5;
    let t = array![[3.0, -1.0, 0.5, 2.0, -4.0]];
    for (name, x, y) in [
        ("translation", x.clone(), &x + &t),
        ("SPD map", x.clone(), x.dot(&spd) + &t),
        (
            "at 1e100",
            x.mapv(|v| v * 1e100),
            (&x + &t).mapv(|v| v * 1e100),
        ),
    ] {
        let r = assignment(x.view(), y.view()).unwrap();
        let fixed = r
            .sigma
            .iter()
            .enumerate()
            .filter(|(i, s)| *i == **s)
            .count();
        assert_eq!(fixed, n, "{name}");
        let direct: f64 = (0..n).map(|i| c(x.view(), y.view(), i, i)).sum::<f64>() / n as f64;
        assert!((r.cost - direct).abs() <= 1e-14 * direct, "{name}");
    }
}

/// One far outlier in each cloud (distance B up to 1e150): for B large the outliers are matched
/// to each other and the rest is the assignment of the unit-scale points alone, which must come
/// out exact — the precision of the unit-scale points must not depend on B (issue 17).
#[test]
fn far_outliers_do_not_perturb_the_other_points() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (n, d) = (300, 4);
    let x0 = normal(&mut rng, n, d);
    let y0 = normal(&mut rng, n, d).mapv(|v| 1.3 * v + 0.2);
    let rest = assignment(x0.view(), y0.view()).unwrap();
    for b in [1e8, 1e20, 1e80, 1e150] {
        let (mut x, mut y) = (x0.clone(), y0.clone());
        x.row_mut(17).fill(0.0);
        x[[17, 0]] = b;
        y.row_mut(230).fill(0.0);
        y[[230, 0]] = b;
        y[[230, 1]] = 1.0;
        let a = assignment(x.view(), y.view()).unwrap();
        assert_eq!(a.sigma[17], 230, "B = {b:e}");
        for i in (0..n).filter(|&i| i != 17) {
            assert_ne!(a.sigma[i], 230);
        }
        // The other rows' assignment is optimal for them alone: compare their cost with the
        // simplex on the clouds without the two outliers.
        let keep_x: Vec<usize> = (0..n).filter(|&i| i != 17).collect();
        let keep_y: Vec<usize> = (0..n).filter(|&j| j != 230).collect();
        let xs = x.select(ndarray::Axis(0), &keep_x);
        let ys = y.select(ndarray::Axis(0), &keep_y);
        let inner: f64 = keep_x
            .iter()
            .map(|&i| c(x.view(), y.view(), i, a.sigma[i]))
            .sum::<f64>()
            / (n - 1) as f64;
        let e = simplex_cost(xs.view(), ys.view());
        assert!((inner - e).abs() <= 1e-12 * e, "B = {b:e}: {inner} vs {e}");
    }
    assert!(rest.cost > 0.0);
}

/// Duplicated points and a lattice: many optimal assignments (ties); the cost is still the
/// simplex's and the certificate holds.
#[test]
fn ties_and_duplicates_are_optimal() {
    let g: Vec<[f64; 2]> = (0..64).map(|k| [(k % 8) as f64, (k / 8) as f64]).collect();
    let x = Array2::from_shape_fn((64, 2), |(i, j)| g[i][j]);
    let y = Array2::from_shape_fn((64, 2), |(i, j)| g[(i * 5) % 64][j] + 0.5);
    let dup = Array2::from_shape_fn((64, 2), |(i, j)| g[i / 4][j]);
    for (x, y) in [
        (x.clone(), y.clone()),
        (dup.clone(), x.clone()),
        (dup.clone(), dup),
    ] {
        let a = assignment(x.view(), y.view()).unwrap();
        let e = simplex_cost(x.view(), y.view());
        assert!(
            (a.cost - e).abs() <= 1e-12 * e.max(1e-300),
            "{} vs {e}",
            a.cost
        );
        check_certificate(x.view(), y.view(), &a);
    }
}

/// The same bits on any thread count (the kernel is deterministic; the matching is sequential).
#[test]
fn the_same_bits_on_any_thread_count() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = normal(&mut rng, 700, 6);
    let y = x.dot(&normal(&mut rng, 6, 6));
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| assignment(x.view(), y.view()).unwrap())
    };
    let one = run(1);
    for threads in [2, 5] {
        let other = run(threads);
        assert_eq!(one.sigma, other.sigma);
        assert_eq!(one.cost.to_bits(), other.cost.to_bits());
        assert!(
            one.u
                .iter()
                .zip(&other.u)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(
            one.v
                .iter()
                .zip(&other.v)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}

/// `uniform_ot` routes equal-size clouds to the assignment: a permutation plan of mass `1/n`
/// with the simplex's cost; unequal sizes still go to the simplex.
#[test]
fn uniform_ot_uses_the_assignment_for_equal_sizes() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x = normal(&mut rng, 50, 3);
    let y = normal(&mut rng, 50, 3);
    let r = uniform_ot(x.view(), y.view(), "test").unwrap();
    match &r.plan {
        Some(Plan::Sparse { rows, cols, mass }) => {
            assert_eq!(rows.len(), 50);
            let mut c = cols.clone();
            c.sort_unstable();
            assert_eq!(c, (0..50).collect::<Vec<_>>());
            assert!(mass.iter().all(|&m| m == 1.0 / 50.0));
        }
        _ => panic!("a sparse plan"),
    }
    assert!((r.cost - simplex_cost(x.view(), y.view())).abs() <= 1e-12 * r.cost);
    let unequal = uniform_ot(x.view(), y.slice(s![..30, ..]), "test").unwrap();
    assert!((unequal.cost - simplex_cost(x.view(), y.slice(s![..30, ..]))).abs() <= 1e-12);
}

#[test]
fn bad_inputs_are_errors() {
    let x = array![[0.0, 1.0], [2.0, 3.0]];
    assert!(matches!(
        assignment(x.view(), x.slice(s![..1, ..])),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        assignment(x.view(), x.slice(s![.., ..1])),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut bad = x.clone();
    bad[[1, 0]] = f64::NAN;
    assert!(matches!(
        assignment(x.view(), bad.view()),
        Err(Error::NonFinite { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(
        assignment(empty.view(), empty.view()),
        Err(Error::Empty { .. })
    ));
}
