//! Exact W₂ between point clouds: the network simplex (`wasserstein::exact`) and the 1-D quantile
//! coupling (`wasserstein::one_d`), each checked against independent oracles — each other in
//! d = 1, brute force over permutations, known optimal permutations (`y = ∇φ(x)`, φ convex), the
//! shift identity, LP certificates (marginals, dual feasibility on every pair, complementary
//! slackness, duality gap), and POT's `ot.emd2` on committed fixtures.

use deeptransport::Error;
use deeptransport::wasserstein::exact::{ExactOptions, ExactResult, exact};
use deeptransport::wasserstein::one_d::w2_1d;
use deeptransport::wasserstein::{OtResult, OtStatus, Plan};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, array};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::path::PathBuf;

fn normal(rng: &mut ChaCha8Rng, n: usize, d: usize) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal))
}

/// Weights in (0, 1] with about a fifth of them exactly zero (at least one positive).
fn weights(rng: &mut ChaCha8Rng, n: usize, zeros: bool) -> Array1<f64> {
    let mut w = Array1::from_shape_simple_fn(n, || rng.random::<f64>() + 0.01);
    if zeros {
        for v in w.iter_mut().skip(1) {
            if rng.random::<f64>() < 0.2 {
                *v = 0.0;
            }
        }
    }
    w
}

fn normalised(w: Option<&Array1<f64>>, n: usize) -> Array1<f64> {
    match w {
        Some(w) => w / w.sum(),
        None => Array1::from_elem(n, 1.0 / n as f64),
    }
}

fn sq(x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
    x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum()
}

fn sparse(plan: &Option<Plan>) -> (&[usize], &[usize], &[f64]) {
    match plan {
        Some(Plan::Sparse { rows, cols, mass }) => (rows, cols, mass),
        _ => panic!("exact solvers return sparse plans"),
    }
}

/// Every LP certificate of optimality, with `scale = max C_ij`:
/// - at most `n + m − 1` entries, all `> 0`, marginals exact to `1e-12` (the flows are recomputed
///   from the supplies; error `O((n + m)·ε)`);
/// - `cost = ⟨P, C⟩` recomputed here to `1e-12` relative;
/// - dual feasibility `f_i + g_j ≤ C_ij + 1e-12·scale` on EVERY pair (the solver's entering
///   threshold is `2⁻⁴⁶·D² ≈ 1.4e-14·D²`, and `D² ≤ d·scale`-ish; rounding of the potentials is far
///   below `1e-12·scale`);
/// - complementary slackness `|f_i + g_j − C_ij| ≤ 1e-12·scale` on the support;
/// - duality gap `⟨P, C⟩ − (⟨a, f⟩ + ⟨b, g⟩) ≤ 1e-9` relative (to the cost, or to `scale` when the
///   cost is 0).
fn check_certificate(
    r: &OtResult,
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    a: &Array1<f64>,
    b: &Array1<f64>,
) {
    let (n, m) = (x.nrows(), y.nrows());
    let (rows, cols, mass) = sparse(&r.plan);
    assert!(rows.len() < n + m, "{} entries > n + m − 1", rows.len());
    assert_eq!(r.status, OtStatus::Converged);
    let mut row_sum = vec![0.0; n];
    let mut col_sum = vec![0.0; m];
    let mut cost = 0.0;
    let (f, g) = &r.potentials;
    let mut scale: f64 = 0.0;
    for i in 0..n {
        for j in 0..m {
            scale = scale.max(sq(x.row(i), y.row(j)));
        }
    }
    let tol = 1e-12 * scale.max(1e-300);
    for k in 0..rows.len() {
        let (i, j) = (rows[k], cols[k]);
        assert!(mass[k] > 0.0);
        row_sum[i] += mass[k];
        col_sum[j] += mass[k];
        let c = sq(x.row(i), y.row(j));
        cost += mass[k] * c;
        assert!(
            (f[i] + g[j] - c).abs() <= tol,
            "slackness at ({i},{j}): f+g−C = {:e}",
            f[i] + g[j] - c
        );
    }
    for i in 0..n {
        assert!(
            (row_sum[i] - a[i]).abs() <= 1e-12,
            "row {i}: {} vs {}",
            row_sum[i],
            a[i]
        );
    }
    for j in 0..m {
        assert!(
            (col_sum[j] - b[j]).abs() <= 1e-12,
            "col {j}: {} vs {}",
            col_sum[j],
            b[j]
        );
    }
    assert!((cost - r.cost).abs() <= 1e-12 * cost.max(scale * 1e-3));
    for i in 0..n {
        for j in 0..m {
            let v = f[i] + g[j] - sq(x.row(i), y.row(j));
            assert!(v <= tol, "dual infeasible at ({i},{j}): f+g−C = {v:e}");
        }
    }
    let dual: f64 = a.dot(f) + b.dot(g);
    let gap = r.cost - dual;
    assert!(
        gap.abs() <= 1e-9 * r.cost.max(scale * 1e-6),
        "duality gap {gap:e} for cost {}",
        r.cost
    );
}

fn solve(
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    a: Option<&Array1<f64>>,
    b: Option<&Array1<f64>>,
) -> ExactResult {
    exact(
        x,
        y,
        a.map(|w| w.view()),
        b.map(|w| w.view()),
        &ExactOptions::default(),
    )
    .expect("valid problem")
}

#[test]
fn network_simplex_matches_sorting_in_1d_to_1e12() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (case, &(n, m, weighted)) in [
        (1, 1, false),
        (1, 7, true),
        (9, 1, true),
        (30, 30, false),
        (40, 25, true),
        (120, 200, true),
        (200, 200, false),
        (300, 170, true),
    ]
    .iter()
    .enumerate()
    {
        let x = normal(&mut rng, n, 1);
        // A shifted, scaled target so the plan is not trivial.
        let y = normal(&mut rng, m, 1) * 1.5 + 0.3;
        let (wa, wb) = if weighted {
            (
                Some(weights(&mut rng, n, true)),
                Some(weights(&mut rng, m, true)),
            )
        } else {
            (None, None)
        };
        let sorted = w2_1d(
            x.view(),
            y.view(),
            wa.as_ref().map(|w| w.view()),
            wb.as_ref().map(|w| w.view()),
        )
        .unwrap();
        let simplex = solve(x.view(), y.view(), wa.as_ref(), wb.as_ref());
        let rel = (sorted.cost - simplex.ot.cost).abs() / sorted.cost;
        assert!(
            rel <= 1e-12,
            "case {case}: sorting {} vs simplex {} (rel {rel:e})",
            sorted.cost,
            simplex.ot.cost
        );
        let (a, b) = (normalised(wa.as_ref(), n), normalised(wb.as_ref(), m));
        check_certificate(&sorted, x.view(), y.view(), &a, &b);
        check_certificate(&simplex.ot, x.view(), y.view(), &a, &b);
    }
}

#[test]
fn certificates_hold_on_random_weighted_clouds() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for &(n, m, d, weighted) in &[
        (2, 3, 2, true),
        (50, 50, 2, false),
        (60, 45, 2, true),
        (80, 80, 3, true),
        (100, 70, 5, true),
        (150, 150, 7, false),
        (250, 300, 2, true),
    ] {
        let x = normal(&mut rng, n, d);
        let y = normal(&mut rng, m, d).mapv(|v| v * 0.7 + 0.5);
        let (wa, wb) = if weighted {
            (
                Some(weights(&mut rng, n, true)),
                Some(weights(&mut rng, m, true)),
            )
        } else {
            (None, None)
        };
        let r = solve(x.view(), y.view(), wa.as_ref(), wb.as_ref());
        let (a, b) = (normalised(wa.as_ref(), n), normalised(wb.as_ref(), m));
        check_certificate(&r.ot, x.view(), y.view(), &a, &b);
        assert!(r.duality_gap.abs() <= 1e-9 * r.ot.cost);
        assert!(r.ot.iterations > 0);
    }
}

#[test]
fn gradient_of_convex_function_gives_the_identity_permutation() {
    // y_i = A x_i + c with A symmetric positive definite is the gradient of the convex
    // φ(x) = ½xᵀAx + cᵀx, so by Brenier (cyclical monotonicity) the identity assignment is optimal,
    // and for uniform weights and distinct points it is the unique optimum (generic data).
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &(n, d) in &[(40, 2), (100, 3), (200, 2), (60, 5)] {
        let x = normal(&mut rng, n, d);
        let g = normal(&mut rng, d, d);
        let spd = g.t().dot(&g) / d as f64 + Array2::<f64>::eye(d) * 0.5;
        let shift = normal(&mut rng, 1, d).row(0).to_owned();
        let y = x.dot(&spd) + &shift;
        let r = solve(x.view(), y.view(), None, None);
        let (rows, cols, mass) = sparse(&r.ot.plan);
        let expected: f64 = (0..n).map(|i| sq(x.row(i), y.row(i))).sum::<f64>() / n as f64;
        assert_eq!(rows.len(), n, "a permutation has n entries");
        for k in 0..n {
            assert_eq!((rows[k], cols[k]), (k, k));
            assert!((mass[k] - 1.0 / n as f64).abs() <= 1e-15);
        }
        assert!((r.ot.cost - expected).abs() <= 1e-13 * expected);
        check_certificate(
            &r.ot,
            x.view(),
            y.view(),
            &normalised(None, n),
            &normalised(None, n),
        );
    }
}

#[test]
fn shifting_centred_clouds_adds_the_squared_shift() {
    // For centred α, β: W₂²(α, β(· − s)) = W₂²(α, β) + |s|² (the plan is unchanged and the cross
    // term 2⟨s, mean β − mean α⟩ vanishes). Weighted means, so weighted centring.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for &(n, m, d) in &[(50, 40, 2), (80, 80, 3)] {
        let wa = weights(&mut rng, n, true);
        let wb = weights(&mut rng, m, true);
        let (a, b) = (normalised(Some(&wa), n), normalised(Some(&wb), m));
        let mut x = normal(&mut rng, n, d);
        let mut y = normal(&mut rng, m, d) * 2.0;
        x -= &a.dot(&x);
        y -= &b.dot(&y);
        let base = solve(x.view(), y.view(), Some(&wa), Some(&wb)).ot.cost;
        let s = Array1::from_shape_fn(d, |k| 0.5 + k as f64);
        let shifted = solve(x.view(), (&y + &s).view(), Some(&wa), Some(&wb))
            .ot
            .cost;
        let expected = base + s.dot(&s);
        assert!(
            (shifted - expected).abs() <= 1e-12 * expected,
            "{shifted} vs {expected}"
        );
    }
}

/// All `n!` assignments (n ≤ 6): the brute-force optimum for uniform weights, `n = m`
/// (Birkhoff–von Neumann: an optimal plan is a permutation).
fn brute_force(x: ArrayView2<f64>, y: ArrayView2<f64>) -> f64 {
    fn rec(
        k: usize,
        perm: &mut Vec<usize>,
        used: &mut [bool],
        c: &Array2<f64>,
        acc: f64,
        best: &mut f64,
    ) {
        let n = used.len();
        if k == n {
            *best = best.min(acc);
            return;
        }
        for j in 0..n {
            if !used[j] {
                used[j] = true;
                perm.push(j);
                rec(k + 1, perm, used, c, acc + c[[k, j]], best);
                perm.pop();
                used[j] = false;
            }
        }
    }
    let n = x.nrows();
    let c = Array2::from_shape_fn((n, n), |(i, j)| sq(x.row(i), y.row(j)));
    let mut best = f64::INFINITY;
    rec(0, &mut Vec::new(), &mut vec![false; n], &c, 0.0, &mut best);
    best / n as f64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The simplex equals the brute-force optimum over permutations (to 1e-12 relative), on
    /// small integer-grid clouds (many ties and degenerate bases) and continuous ones.
    #[test]
    fn simplex_equals_brute_force_over_permutations(
        n in 1usize..=6,
        d in 1usize..=3,
        seed in any::<u64>(),
        grid in any::<bool>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = normal(&mut rng, n, d);
        let mut y = normal(&mut rng, n, d);
        if grid {
            x.mapv_inplace(|v| (v * 1.5).round());
            y.mapv_inplace(|v| (v * 1.5).round());
        }
        let r = solve(x.view(), y.view(), None, None);
        let bf = brute_force(x.view(), y.view());
        prop_assert!((r.ot.cost - bf).abs() <= 1e-12 * bf.max(1e-300) + 1e-15, "{} vs {}", r.ot.cost, bf);
        check_certificate(&r.ot, x.view(), y.view(), &normalised(None, n), &normalised(None, n));
    }

    /// Weighted 1-D problems with ties and zero weights: sorting and simplex agree, both certified.
    #[test]
    fn sorting_and_simplex_agree_with_ties_and_zero_weights(
        n in 1usize..=12,
        m in 1usize..=12,
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = normal(&mut rng, n, 1).mapv(|v| (v * 2.0).round());
        let y = normal(&mut rng, m, 1).mapv(|v| (v * 2.0).round());
        let wa = weights(&mut rng, n, true);
        let wb = weights(&mut rng, m, true);
        let s = w2_1d(x.view(), y.view(), Some(wa.view()), Some(wb.view())).unwrap();
        let e = solve(x.view(), y.view(), Some(&wa), Some(&wb));
        let (a, b) = (normalised(Some(&wa), n), normalised(Some(&wb), m));
        // 1e-12 relative, plus the simplex's documented absolute accuracy 2⁻⁴⁶·D² (D² the squared
        // box diameter): when W₂² = 0 (all mass already in place) rounding of the flows leaves
        // ~1e-15, which no relative bound on 0 can hold.
        let all = x.iter().chain(y.iter());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let tol = 1e-12 * s.cost + (hi - lo).powi(2) * 2f64.powi(-46);
        prop_assert!((s.cost - e.ot.cost).abs() <= tol, "{} vs {}", s.cost, e.ot.cost);
        check_certificate(&s, x.view(), y.view(), &a, &b);
        check_certificate(&e.ot, x.view(), y.view(), &a, &b);
    }
}

#[test]
fn degenerate_inputs_are_exact() {
    // Identical clouds: cost 0 (every cost is 0 on the identity; diameter 0 when all coincide).
    let x = array![[0.0, 1.0], [2.0, 3.0], [2.0, 3.0], [-1.0, 0.5]];
    let r = solve(x.view(), x.view(), None, None);
    assert_eq!(r.ot.cost, 0.0);
    let same = Array2::from_elem((5, 3), 2.5);
    let r = solve(same.view(), same.slice(ndarray::s![..3, ..]), None, None);
    assert_eq!(r.ot.cost, 0.0);
    // One point against a cloud: cost is the weighted mean squared distance.
    let p = array![[1.0, -1.0]];
    let y = array![[0.0, 0.0], [3.0, 1.0], [1.0, 1.0]];
    let wb = array![1.0, 2.0, 0.0];
    let r = solve(p.view(), y.view(), None, Some(&wb));
    let expected = (2.0 + 2.0 * 8.0) / 3.0;
    assert!((r.ot.cost - expected).abs() <= 1e-15 * expected);
    check_certificate(&r.ot, p.view(), y.view(), &array![1.0], &(&wb / 3.0));
    let s = w2_1d(
        array![[1.0]].view(),
        array![[0.0], [4.0]].view(),
        None,
        None,
    )
    .unwrap();
    assert!((s.cost - 5.0).abs() <= 1e-15);
}

#[test]
fn iteration_limit_is_reported() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = normal(&mut rng, 30, 2);
    let y = normal(&mut rng, 30, 2);
    let r = exact(
        x.view(),
        y.view(),
        None,
        None,
        &ExactOptions { max_iter: Some(3) },
    )
    .unwrap();
    assert_eq!(r.ot.status, OtStatus::IterationLimit);
    assert_eq!(r.ot.iterations, 3);
    let full = solve(x.view(), y.view(), None, None);
    assert!(full.ot.iterations > 3);
}

#[test]
fn bad_inputs_are_errors_naming_the_problem() {
    let x = array![[0.0, 1.0], [2.0, 3.0]];
    let y3 = array![[0.0, 1.0, 2.0]];
    let opts = ExactOptions::default();
    assert!(matches!(
        exact(x.view(), y3.view(), None, None, &opts),
        Err(Error::DimensionMismatch { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(
        exact(empty.view(), x.view(), None, None, &opts),
        Err(Error::Empty { .. })
    ));
    let nan = array![[0.0, f64::NAN]];
    assert!(matches!(
        exact(x.view(), nan.view(), None, None, &opts),
        Err(Error::NonFinite { row: 1, col: 2, .. })
    ));
    for w in [
        array![1.0, -1.0],
        array![0.0, 0.0],
        array![1.0, f64::NAN],
        array![1.0],
    ] {
        assert!(matches!(
            exact(x.view(), x.view(), Some(w.view()), None, &opts),
            Err(Error::InvalidWeights(_))
        ));
        assert!(matches!(
            w2_1d(
                x.column(0).insert_axis(ndarray::Axis(1)),
                x.column(0).insert_axis(ndarray::Axis(1)),
                None,
                Some(w.view())
            ),
            Err(Error::InvalidWeights(_))
        ));
    }
    assert!(matches!(
        w2_1d(x.view(), x.view(), None, None),
        Err(Error::DimensionMismatch {
            expected: 1,
            got: 2,
            ..
        })
    ));
}

/// A `.npy` fixture written by `bench/peers/fixtures_w2.py`.
fn npy(name: &str) -> (Vec<usize>, Vec<f64>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/w2")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = npyz::NpyFile::new(&bytes[..]).expect("npy");
    let shape = f.shape().iter().map(|&s| s as usize).collect();
    (shape, f.into_vec::<f64>().expect("<f8"))
}

fn points(name: &str) -> Array2<f64> {
    let (shape, v) = npy(name);
    Array2::from_shape_vec((shape[0], shape[1]), v).expect("2-D")
}

#[test]
fn agrees_with_pot_emd2_to_1e10() {
    // bench/peers/fixtures_w2.py: ot.emd2(a, b, ot.dist(x, y)) (POT's network simplex, run to
    // optimality) on clouds in d = 1, 2, 5, uniform and weighted (with zero weights).
    let list = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/w2/cases.txt"),
    )
    .expect("fixture list");
    let mut count = 0;
    for name in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let x = points(&format!("{name}_x.npy"));
        let y = points(&format!("{name}_y.npy"));
        let a = Array1::from(npy(&format!("{name}_a.npy")).1);
        let b = Array1::from(npy(&format!("{name}_b.npy")).1);
        let pot = npy(&format!("{name}_emd2.npy")).1[0];
        let r = solve(x.view(), y.view(), Some(&a), Some(&b));
        let rel = (r.ot.cost - pot).abs() / pot;
        assert!(
            rel <= 1e-10,
            "{name}: ours {} vs POT {pot} (rel {rel:e})",
            r.ot.cost
        );
        check_certificate(&r.ot, x.view(), y.view(), &(&a / a.sum()), &(&b / b.sum()));
        if x.ncols() == 1 {
            let s = w2_1d(x.view(), y.view(), Some(a.view()), Some(b.view())).unwrap();
            assert!(
                (s.cost - pot).abs() <= 1e-10 * pot,
                "{name}: 1-D {} vs POT {pot}",
                s.cost
            );
        }
        count += 1;
    }
    assert!(count >= 6, "only {count} fixtures");
}

#[test]
fn highly_degenerate_grid_problems_terminate_optimal() {
    // Integer grid points with many duplicates and equal weights: nearly every pivot is
    // degenerate and reduced costs tie, the setting where a simplex without an anti-cycling rule
    // can cycle. The certificate (checked on every pair) proves optimality; the 1-D case is also
    // compared with sorting.
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for &(n, m, d) in &[(300, 300, 2), (200, 400, 2), (250, 250, 1)] {
        let x = Array2::from_shape_simple_fn((n, d), || rng.random_range(0..6) as f64);
        let y = Array2::from_shape_simple_fn((m, d), || rng.random_range(0..6) as f64 + 1.0);
        let r = solve(x.view(), y.view(), None, None);
        let (a, b) = (normalised(None, n), normalised(None, m));
        check_certificate(&r.ot, x.view(), y.view(), &a, &b);
        if d == 1 {
            let s = w2_1d(x.view(), y.view(), None, None).unwrap();
            assert!((s.cost - r.ot.cost).abs() <= 1e-12 * s.cost);
        }
    }
}

#[test]
fn problems_beyond_the_arc_limit_are_refused_before_any_work() {
    // n·m = (2¹⁸ + 1)² > 2³⁶ arcs: refused with the size and the memory it would need (the points
    // themselves are 2 MiB each, so the check must not depend on allocating anything n·m).
    let n = (1usize << 18) + 1;
    let x = Array2::<f64>::zeros((n, 1));
    let err = exact(x.view(), x.view(), None, None, &ExactOptions::default()).unwrap_err();
    match err {
        Error::InvalidParameter { name, reason, .. } => {
            assert_eq!(name, "n·m");
            assert!(reason.contains("MiB"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Larger problems (thousands of points, about 0.3 s in release): many pivots, so that an error in
/// the tree updates that shows only after long pivot sequences cannot hide.
#[test]
fn larger_weighted_and_degenerate_problems_match_sorting_and_certify() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // 1-D against sorting: weighted with zeros, and an integer grid (massively degenerate).
    for grid in [false, true] {
        let (n, m) = (2000, 1500);
        let mut x = normal(&mut rng, n, 1);
        let mut y = normal(&mut rng, m, 1) * 1.3 + 0.2;
        if grid {
            x.mapv_inplace(|v| (4.0 * v).round());
            y.mapv_inplace(|v| (4.0 * v).round());
        }
        let wa = weights(&mut rng, n, true);
        let wb = weights(&mut rng, m, true);
        let s = w2_1d(x.view(), y.view(), Some(wa.view()), Some(wb.view())).unwrap();
        let e = solve(x.view(), y.view(), Some(&wa), Some(&wb));
        assert!(
            (s.cost - e.ot.cost).abs() <= 1e-12 * s.cost,
            "{} vs {}",
            s.cost,
            e.ot.cost
        );
        assert!(e.duality_gap.abs() <= 1e-9 * s.cost);
    }
    // 2-D integer grid with uniform weights: the certificate on every pair.
    let (n, m) = (800, 700);
    let x = Array2::from_shape_simple_fn((n, 2), || rng.random_range(0..10) as f64);
    let y = Array2::from_shape_simple_fn((m, 2), || rng.random_range(0..10) as f64 + 0.5);
    let r = solve(x.view(), y.view(), None, None);
    check_certificate(
        &r.ot,
        x.view(),
        y.view(),
        &normalised(None, n),
        &normalised(None, m),
    );
}

#[test]
fn cost_is_invariant_under_reordering_the_points() {
    // W₂² depends on the measures, not on the order of the rows: reversing both clouds (and their
    // weights) changes every pivot of the simplex but not the optimum (to 1e-12 relative), and the
    // plan maps to the reversed indices with the same cost.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (n, m, d) = (120, 90, 3);
    let x = normal(&mut rng, n, d);
    let y = normal(&mut rng, m, d) + 0.4;
    let wa = weights(&mut rng, n, true);
    let wb = weights(&mut rng, m, true);
    let rev = |a: &Array2<f64>| a.slice(ndarray::s![..;-1, ..]).to_owned();
    let r1 = solve(x.view(), y.view(), Some(&wa), Some(&wb));
    let (xr, yr) = (rev(&x), rev(&y));
    let (war, wbr) = (
        wa.slice(ndarray::s![..;-1]).to_owned(),
        wb.slice(ndarray::s![..;-1]).to_owned(),
    );
    let r2 = solve(xr.view(), yr.view(), Some(&war), Some(&wbr));
    assert!((r1.ot.cost - r2.ot.cost).abs() <= 1e-12 * r1.ot.cost);
    // Deterministic: the same input gives the bit-identical result.
    let r3 = solve(x.view(), y.view(), Some(&wa), Some(&wb));
    assert_eq!(r1.ot.cost.to_bits(), r3.ot.cost.to_bits());
    assert_eq!(r1.ot.plan, r3.ot.plan);
}
