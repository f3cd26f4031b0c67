//! Semi-discrete OT (`sdot`, METHODS §8): the 1-D closed form against independent quadrature and
//! brute-force argmax; the QMC/Adam solver against the exact solvers; duplicate merging; the
//! extended map; determinism; errors.

use deeptransport::Error;
use deeptransport::sdot::extended::{dihedral_angle, generate};
use deeptransport::sdot::one_d::{normal_cdf, normal_pdf, normal_quantile, solve_1d};
use deeptransport::sdot::{Method, SdotOptions, Source, Targets, solve};
use ndarray::{Array1, Array2, array};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn random_problem(seed: u64, n: usize, d: usize) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let y = Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal));
    let w = Array1::from_shape_simple_fn(n, || rng.random_range(0.5..2.0));
    let s = w.sum();
    (y, w / s)
}

/// `argmax_i x·y_i + h_i` by brute force (ties: smaller index).
fn argmax(x: f64, y: &[f64], h: &[f64]) -> usize {
    let mut best = 0;
    for i in 1..y.len() {
        if x * y[i] + h[i] > x * y[best] + h[best] {
            best = i;
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Cube source, d = 1: the cells of the returned h, found by brute-force argmax on a midpoint
    /// grid of 10⁵ points, have the masses ν (to the grid's resolution, 2/10⁵ per cell: each cell
    /// boundary can misplace at most one grid point); the closed-form transport cost equals the
    /// midpoint rule of |x − T(x)|² (error ≤ 2n/10⁵ · max|x − y|² from the boundary cells, plus
    /// O(1/N²) inside).
    #[test]
    fn one_d_cube_cells_have_the_target_masses(seed in any::<u64>(), n in 1usize..30) {
        let (y, nu) = random_problem(seed, n, 1);
        let r = solve_1d(y.column(0), nu.view(), Source::Cube);
        prop_assert!((r.h.sum()).abs() <= 1e-12 * r.h.iter().fold(1.0f64, |m, v| m.max(v.abs())));
        for i in 0..n {
            prop_assert!((r.masses[i] - nu[i]).abs() <= 1e-15);
        }
        let grid = 100_000;
        let (yv, hv) = (y.column(0).to_vec(), r.h.to_vec());
        let mut count = vec![0usize; n];
        let mut cost = 0.0;
        for k in 0..grid {
            let x = -0.5 + (k as f64 + 0.5) / grid as f64;
            let i = argmax(x, &yv, &hv);
            count[i] += 1;
            cost += (x - yv[i]).powi(2);
        }
        for i in 0..n {
            prop_assert!((count[i] as f64 / grid as f64 - nu[i]).abs() <= 2.0 / grid as f64);
        }
        let reach = yv.iter().fold(0.5f64, |m, v| m.max(v.abs() + 0.5));
        let tol = 2.0 * n as f64 / grid as f64 * reach * reach + 1e-9;
        prop_assert!((cost / grid as f64 - r.transport_cost).abs() <= tol);
    }
}

/// Normal source, d = 1: the masses are ν to 1e-14 (the boundaries come from the nearer tail),
/// and the transport cost equals a midpoint rule on [−12, 12] with 2·10⁶ points.
#[test]
fn one_d_normal_source_matches_quadrature() {
    let (y, nu) = random_problem(4, 12, 1);
    let r = solve_1d(y.column(0), nu.view(), Source::Normal);
    for i in 0..12 {
        assert!(
            (r.masses[i] - nu[i]).abs() <= 1e-14 * nu[i].max(1e-3),
            "{i}"
        );
    }
    let (yv, hv) = (y.column(0).to_vec(), r.h.to_vec());
    let (m, a, b) = (2_000_000, -12.0, 12.0);
    let dx = (b - a) / m as f64;
    let mut mass = [0.0; 12];
    let mut cost = 0.0;
    for k in 0..m {
        let x = a + (k as f64 + 0.5) * dx;
        let i = argmax(x, &yv, &hv);
        let w = normal_pdf(x) * dx;
        mass[i] += w;
        cost += (x - yv[i]).powi(2) * w;
    }
    for i in 0..12 {
        assert!(
            (mass[i] - nu[i]).abs() <= 1e-5,
            "cell {i}: {} vs {}",
            mass[i],
            nu[i]
        );
    }
    assert!((cost - r.transport_cost).abs() <= 1e-5 * r.transport_cost);
}

/// Φ(Φ⁻¹(p)) = p from p = 1e-300 to ½ to the conditioning of Φ: x is returned to a few ulps, and
/// a relative error δ in x moves Φ(x) by `|x|·φ(x)/Φ(x)·|x|δ ≈ (1 + x²)·δ` relative (Mills' ratio), so
/// the tolerance is `8ε(1 + x²)`; Φ⁻¹ is odd about ½.
#[test]
fn normal_quantile_inverts_the_cdf() {
    for e in 0..300 {
        for m in [1.0, 2.5, 7.0] {
            let p = m * 10f64.powi(-e);
            if p >= 0.5 {
                continue;
            }
            let x = normal_quantile(p);
            let tol = 8.0 * f64::EPSILON * (1.0 + x * x) * p;
            assert!(
                (normal_cdf(x) - p).abs() <= tol,
                "p = {p:e}: Φ(x) = {:e}",
                normal_cdf(x)
            );
            assert_eq!(normal_quantile(1.0 - p), -normal_quantile_upper(p));
        }
    }
    assert_eq!(normal_quantile(0.5), 0.0);
}

/// The upper quantile through the library's own symmetry (1 − p rounds, so compare to that).
fn normal_quantile_upper(p: f64) -> f64 {
    normal_quantile(1.0 - (1.0 - p))
}

/// QMC/Adam against the exact 1-D solution: masses within the tolerance and the potential within
/// the QMC error (a cell boundary error of δ moves h by about δ·|Δy|).
#[test]
fn qmc_agrees_with_the_exact_solution_in_1d() {
    for source in [Source::Cube, Source::Normal] {
        let (y, nu) = random_problem(8, 10, 1);
        let exact = solve_1d(y.column(0), nu.view(), source);
        let opts = SdotOptions {
            method: Method::Adam,
            tol: 1e-3,
            ..Default::default()
        };
        let q = solve(y.view(), Some(nu.view()), source, &opts).unwrap();
        assert!(q.converged, "{source:?}: error {}", q.max_mass_error);
        let spread = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let dh = (&q.h - &exact.h).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(dh <= 1e-2 * spread, "{source:?}: |Δh| = {dh}");
        assert!((q.transport_cost - exact.transport_cost).abs() <= 1e-2 * exact.transport_cost);
    }
}

/// The same bits on any thread count (QMC/Adam, d = 5).
#[test]
fn qmc_is_deterministic_across_thread_counts() {
    let (y, nu) = random_problem(3, 40, 5);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                solve(
                    y.view(),
                    Some(nu.view()),
                    Source::Normal,
                    &SdotOptions {
                        max_iter: 300,
                        ..Default::default()
                    },
                )
                .unwrap()
            })
    };
    let (a, b) = (run(1), run(3));
    assert!(
        a.h.iter()
            .zip(&b.h)
            .all(|(p, q)| p.to_bits() == q.to_bits())
    );
    assert_eq!(a.transport_cost.to_bits(), b.transport_cost.to_bits());
}

/// Duplicate rows merge with summed weights; the merged problem is solved.
#[test]
fn duplicate_targets_are_merged() {
    let y = array![[0.0, 1.0], [0.5, 0.5], [0.0, 1.0], [-1.0, 0.0]];
    let w = array![1.0, 2.0, 3.0, 4.0];
    let t = Targets::new(y.view(), Some(w.view())).unwrap();
    assert_eq!(t.points, array![[0.0, 1.0], [0.5, 0.5], [-1.0, 0.0]]);
    assert_eq!(t.nu, array![0.4, 0.2, 0.4]);
    assert_eq!(t.index, vec![0, 1, 0, 2]);
    assert_eq!(t.merged(), 1);
}

/// `max_angle = 0` gives the OT map: every generated point is a target row, and the cells'
/// shares of 20 000 seeded samples match ν within Monte-Carlo error (4 standard deviations);
/// a threshold above every angle interpolates a fraction of the samples, each on the segment
/// between its cell's target and the runner-up's.
#[test]
fn generation_with_and_without_interpolation() {
    let (y, nu) = random_problem(5, 6, 1);
    let s = solve(
        y.view(),
        Some(nu.view()),
        Source::Cube,
        &SdotOptions::default(),
    )
    .unwrap();
    let m = 20_000;
    let g = generate(&s, m, 0.0, 7).unwrap();
    assert_eq!(g.interpolated_fraction(), 0.0);
    let mut share = [0.0; 6];
    for (k, row) in g.points.rows().into_iter().enumerate() {
        assert_eq!(row, s.targets.row(g.cell[k]));
        share[g.cell[k]] += 1.0 / m as f64;
    }
    for i in 0..6 {
        let sd = (s.nu[i] * (1.0 - s.nu[i]) / m as f64).sqrt();
        assert!((share[i] - s.nu[i]).abs() <= 4.0 * sd, "cell {i}");
    }
    let all = generate(&s, m, std::f64::consts::FRAC_PI_2, 7).unwrap();
    let f = all.interpolated_fraction();
    assert!(f > 0.0 && f < 1.0, "{f}");
    for (k, row) in all.points.rows().into_iter().enumerate() {
        let yi = s.targets[[all.cell[k], 0]];
        assert!(all.lambda[k] <= 0.5);
        // On the segment from y_i towards some other target: within the targets' range.
        let (lo, hi) = s
            .targets
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(row[0] >= lo && row[0] <= hi);
        if all.lambda[k] == 0.0 {
            assert_eq!(row[0], yi);
        }
    }
}

/// θ between (y, −1) normals: 0 for equal targets, π/4 between 0 and a unit vector... checked
/// against arccos of the normalised inner product for moderate angles.
#[test]
fn dihedral_angles() {
    let a = array![0.0, 0.0];
    let b = array![1.0, 0.0];
    assert_eq!(dihedral_angle(a.view(), a.view()), 0.0);
    assert!((dihedral_angle(a.view(), b.view()) - std::f64::consts::FRAC_PI_4).abs() <= 1e-15);
    let c = array![0.3, -2.0];
    let cos = (b.dot(&c) + 1.0) / ((b.dot(&b) + 1.0).sqrt() * (c.dot(&c) + 1.0).sqrt());
    assert!((dihedral_angle(b.view(), c.view()) - cos.acos()).abs() <= 1e-14);
}

#[test]
fn bad_problems_are_errors() {
    let y = array![[0.0, 1.0], [1.0, 0.0]];
    let tol = |t: f64| SdotOptions {
        tol: t,
        ..Default::default()
    };
    for t in [0.0, 1.0, -1.0, f64::NAN] {
        assert!(matches!(
            solve(y.view(), None, Source::Cube, &tol(t)),
            Err(Error::InvalidParameter { .. })
        ));
    }
    let mut bad = y.clone();
    bad[[1, 1]] = f64::INFINITY;
    assert!(matches!(
        solve(bad.view(), None, Source::Cube, &Default::default()),
        Err(Error::NonFinite { row: 2, col: 2, .. })
    ));
    for w in [array![1.0, 0.0], array![1.0, -1.0], array![1.0, f64::NAN]] {
        assert!(matches!(
            solve(y.view(), Some(w.view()), Source::Cube, &Default::default()),
            Err(Error::InvalidWeights(_))
        ));
    }
    let y3 = Array2::<f64>::zeros((2, 3)) + array![[0.0], [1.0]];
    let newton = SdotOptions {
        method: Method::Newton,
        ..Default::default()
    };
    assert!(matches!(
        solve(y3.view(), None, Source::Cube, &newton),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        solve(y.view(), None, Source::Normal, &newton),
        Err(Error::InvalidParameter { .. })
    ));
}

/// The cached assignment is exact: over 60 Adam steps from h = 0 (rescans and snapshots
/// included), its masses equal a full scan of every sample against every target, bit for bit.
#[test]
fn cached_cell_masses_equal_a_full_scan_at_every_step() {
    use deeptransport::sdot::qmc::{Adam, CellCounter, SobolSamples, initial_step};
    for (n, d) in [(50, 2), (300, 6)] {
        let (y, nu) = random_problem(9, n, d);
        let x = SobolSamples::new(d, Source::Normal, 1)
            .unwrap()
            .take(20_000);
        let mut h = Array1::zeros(n);
        let mut cells = CellCounter::new(x, y.view(), h.view());
        let mut adam = Adam::new(n);
        let lr = initial_step(y.view());
        let mut mass = cells.masses(h.view());
        for step in 0..60 {
            adam.step(&mut h, &(&mass - &nu), lr);
            mass = cells.masses(h.view());
            assert_eq!(
                mass,
                cells.masses_full_scan(h.view()),
                "n = {n}, step {step}"
            );
        }
    }
}

/// In 2-D (cube source) QMC/Adam and the exact Newton solver agree on h up to the QMC error:
/// a cell boundary off by δ moves h by about δ·|y_i − y_j| ≲ tol-level shifts, so |Δh| is
/// bounded by a few times tol × the targets' spread.
#[test]
fn qmc_and_newton_agree_in_2d() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let y = Array2::from_shape_simple_fn((12, 2), || rng.random_range(-0.5..0.5));
    let exact = solve(y.view(), None, Source::Cube, &SdotOptions::default()).unwrap();
    assert_eq!(exact.method, Method::Newton);
    assert!(exact.max_mass_error <= 1e-10);
    let opts = SdotOptions {
        method: Method::Adam,
        tol: 1e-2,
        ..Default::default()
    };
    let q = solve(y.view(), None, Source::Cube, &opts).unwrap();
    assert!(q.converged, "{}", q.max_mass_error);
    let dh = (&q.h - &exact.h).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(dh <= 5e-3, "|Δh| = {dh}");
    assert!((q.transport_cost - exact.transport_cost).abs() <= 2e-2 * exact.transport_cost);
}
