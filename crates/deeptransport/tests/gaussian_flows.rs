//! Closed-form Gaussian flows (METHODS §4–5): the deep-DAE variance table of the paper, the DAE and
//! continuous-DAE pushforwards against samples pushed by the maps, the semigroup property of the
//! continuous DAE (12), entropy decreasing along the flows (16), the Fig. 3 claim that the DAE
//! leaves the gradient flow, the Bures–Wasserstein distance, the Tsallis entropy with the sign
//! correction of METHODS §5, and the errors bad input must give.
//!
//! Monte-Carlo comparisons use a seeded `ChaCha8Rng` and 5 standard errors. Set
//! `DEEPTRANSPORT_TEST_REPORT=1` to print each observed error next to its tolerance.

use deeptransport::Error;
use deeptransport::dae;
use deeptransport::flow::gaussian::{
    composition, composition_map, continuous_map, continuous_pushforward, dae_pushforward,
    distance_from_flow, singular_time,
};
use deeptransport::functional::{gaussian_entropy, gaussian_tsallis};
use deeptransport::linalg::spd_sqrt;
use deeptransport::measure::Gaussian;
use deeptransport::wasserstein::bures::{bures_w2, bures_w2_squared};
use ndarray::{Array1, Array2, ArrayView2, Axis, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn report(claim: &str, err: f64, tol: f64) {
    if std::env::var_os("DEEPTRANSPORT_TEST_REPORT").is_some() {
        eprintln!(
            "{claim}: err {err:.3e} tol {tol:.3e} ratio {:.3e}",
            err / tol
        );
    }
    assert!(
        err <= tol,
        "{claim}: error {err:e} exceeds tolerance {tol:e}"
    );
}

fn diag_gaussian(vars: &[f64]) -> Gaussian {
    Gaussian::new(
        Array1::zeros(vars.len()),
        Array2::from_diag(&Array1::from(vars.to_vec())),
    )
    .unwrap()
}

/// A random SPD matrix `B Bᵀ + 0.2 I`, entries of `B` uniform in [−1, 1].
fn random_spd(d: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    let b = Array2::from_shape_simple_fn((d, d), || rng.random_range(-1.0..1.0));
    let mut s = b.dot(&b.t());
    s.diag_mut().mapv_inplace(|v| v + 0.2);
    s
}

fn random_gaussian(d: usize, rng: &mut ChaCha8Rng) -> Gaussian {
    let m = Array1::from_shape_simple_fn(d, || rng.random_range(-2.0..2.0));
    Gaussian::new(m, random_spd(d, rng)).unwrap()
}

fn max_abs_diff(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    (&a - &b).iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn sample_cov(x: ArrayView2<f64>) -> Array2<f64> {
    let n = x.nrows() as f64;
    let mean = x.mean_axis(Axis(0)).unwrap();
    let c = &x - &mean;
    c.t().dot(&c) / (n - 1.0)
}

/// Checks every entry of a sample covariance against `target` at 5 standard errors,
/// `SE_ij = √((Σ_ii Σ_jj + Σ_ij²)/n)` (Gaussian data); returns the worst ratio error/SE.
fn check_sample_cov(claim: &str, sample: ArrayView2<f64>, target: ArrayView2<f64>, n: usize) {
    let d = target.nrows();
    let mut worst = 0.0f64;
    for i in 0..d {
        for j in 0..d {
            let se = ((target[[i, i]] * target[[j, j]] + target[[i, j]].powi(2)) / n as f64).sqrt();
            worst = worst.max((sample[[i, j]] - target[[i, j]]).abs() / se);
        }
    }
    report(&format!("{claim} (in standard errors)"), worst, 5.0);
}

/// The paper's deep-DAE variance table (Section 3): λ = 1, total time t = 0.25 split into L equal
/// layers gives 0.64 (L = 1), 0.5890 (L = 2, 4 digits) and tends to λ − 2t = 0.5, the continuous
/// DAE, as L → ∞, at first order in τ = t/L. `composition` is compared to 1e-13 with the scalar
/// recursion λ ↦ λ³/(λ+τ)² (d = 1: the eigenvector is ±1, so only a few ulps per layer are at
/// stake and 1e-13 covers 10⁴ layers of relative rounding ε each).
#[test]
fn deep_dae_variance_table() {
    let mu = diag_gaussian(&[1.0]);
    let t = 0.25;
    let mut last = f64::NAN;
    let mut errs = Vec::new();
    for &l in &[1usize, 2, 4, 10, 100, 1000, 10_000] {
        let tau = t / l as f64;
        let mut lam = 1.0f64;
        for _ in 0..l {
            lam = lam.powi(3) / (lam + tau).powi(2);
        }
        let path = composition(&mu, &vec![tau; l]).unwrap();
        assert_eq!(path.len(), l + 1);
        let got = path[l].cov()[[0, 0]];
        report(
            &format!("L = {l}: composition vs scalar recursion"),
            (got - lam).abs(),
            1e-13,
        );
        if l == 1 {
            report("L = 1 → 0.64", (got - 0.64).abs(), 1e-15);
        }
        if l == 2 {
            report("L = 2 → 0.5890 (4 digits)", (got - 0.5890).abs(), 5e-5);
        }
        if l == 10_000 {
            report("L = 10⁴ → λ − 2t = 0.5", (got - 0.5).abs(), 1e-4);
        }
        assert!(got > 0.5, "the composition stays above the continuous DAE");
        errs.push((l as f64, got - 0.5));
        last = got;
    }
    assert!(last > 0.5);
    // Observed order from successive decades: log(e(L)/e(10L)) / log 10 ≈ 1.
    // Between L = 10 and 100 the O(τ²) term still shows (|p − 1| ≈ 0.04); from L = 100 on
    // (τ ≤ 2.5e-3) the relative correction is O(τ), so |p − 1| ≤ 0.01 is required.
    for w in errs.windows(2).skip(4) {
        let (l1, e1) = w[0];
        let (l2, e2) = w[1];
        let order = (e1 / e2).ln() / (l2 / l1).ln();
        report(
            &format!("observed order between L = {l1} and {l2}, |p − 1|"),
            (order - 1.0).abs(),
            0.01,
        );
    }
}

/// `dae_pushforward` (Φ_t♯N(m, Σ) = N(m, AΣA)) against the sample covariance of `dae::gaussian`
/// applied to 2·10⁵ samples, at 5 standard errors per entry (d = 3, 6 distinct entries, so a false
/// alarm has probability < 6 · 6e-7).
#[test]
fn dae_pushforward_matches_samples() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let mu = random_gaussian(3, &mut rng);
    let n = 200_000;
    let t = 0.7;
    let x = mu.sample(n, &mut rng);
    let y = dae::gaussian(&mu, t, x.view()).unwrap();
    let pushed = dae_pushforward(&mu, t).unwrap();
    check_sample_cov(
        "Φ_t♯μ covariance vs samples",
        sample_cov(y.view()).view(),
        pushed.cov(),
        n,
    );
    // The mean is fixed: A(x̄ − m) + m has SE ≤ √(max diag AΣA / n).
    let ybar = y.mean_axis(Axis(0)).unwrap();
    let se = (pushed.cov().diag().fold(0.0f64, |m, v| m.max(*v)) / n as f64).sqrt();
    let err = (&ybar - &pushed.mean())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    report("Φ_t♯μ mean vs samples", err, 5.0 * se);
    // The composition of one layer is the DAE pushforward; composition_map's layer map is Φ_τ.
    let path = composition(&mu, &[t]).unwrap();
    report(
        "composition with one layer = dae_pushforward",
        max_abs_diff(path[1].cov(), pushed.cov()),
        1e-13,
    );
    let q = x.slice(ndarray::s![..100, ..]);
    let mapped = composition_map(&mu, &[t, 0.3], q).unwrap();
    report(
        "composition_map layer 1 = dae::gaussian",
        max_abs_diff(mapped[1].view(), y.slice(ndarray::s![..100, ..])),
        1e-12,
    );
    let second = dae::gaussian(&path[1], 0.3, mapped[1].view()).unwrap();
    report(
        "composition_map layer 2 = dae::gaussian of μ_1",
        max_abs_diff(mapped[2].view(), second.view()),
        1e-12,
    );
}

/// `continuous_pushforward` (N(m, Σ − 2tI)) against the sample covariance of `continuous_map`
/// (eq. 12) applied to 2·10⁵ samples at 5 SE, and the semigroup property
/// φ_s^{φ_t♯μ} ∘ φ_t^{μ} = φ_{s+t}^{μ} to 1e-12 (a few eigen-decompositions of O(1) matrices,
/// rounding O(10ε) relative on O(1) points).
#[test]
fn continuous_pushforward_matches_samples_and_semigroup() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mu = random_gaussian(3, &mut rng);
    let t_star = singular_time(&mu);
    let n = 200_000;
    let t = 0.6 * t_star;
    let x = mu.sample(n, &mut rng);
    let y = continuous_map(&mu, t, x.view()).unwrap();
    let pushed = continuous_pushforward(&mu, t).unwrap();
    check_sample_cov(
        "φ_t♯μ covariance vs samples",
        sample_cov(y.view()).view(),
        pushed.cov(),
        n,
    );

    let q = x.slice(ndarray::s![..500, ..]);
    let (t1, s1) = (0.3 * t_star, 0.5 * t_star);
    let step1 = continuous_map(&mu, t1, q).unwrap();
    let mid = continuous_pushforward(&mu, t1).unwrap();
    let step2 = continuous_map(&mid, s1, step1.view()).unwrap();
    let direct = continuous_map(&mu, t1 + s1, q).unwrap();
    report(
        "semigroup φ_s ∘ φ_t = φ_{s+t}",
        max_abs_diff(step2.view(), direct.view()),
        1e-12,
    );
}

/// Entropy decreases strictly along the continuous flow (eq. 16, t on a grid up to 0.999 t*) and
/// along every composition with τ ∈ {0.01, 0.05, 0.1, 0.5}, for random SPD Σ in d = 1..4.
#[test]
fn entropy_decreases_along_flows() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for d in 1..=4 {
        for _ in 0..10 {
            let mu = random_gaussian(d, &mut rng);
            let t_star = singular_time(&mu);
            let mut prev = gaussian_entropy(mu.cov()).unwrap();
            for k in 1..=100 {
                let t = 0.999 * t_star * k as f64 / 100.0;
                let h = gaussian_entropy(continuous_pushforward(&mu, t).unwrap().cov()).unwrap();
                assert!(h < prev, "flow entropy not decreasing at t = {t} (d = {d})");
                prev = h;
            }
            for &tau in &[0.01, 0.05, 0.1, 0.5] {
                // A deep composition with λ < τ collapses (λ ↦ ≈ λ³/τ²) and is refused with
                // `Unsupported`; check every depth up to 30 layers that is representable.
                let mut layers = 30;
                let path = loop {
                    match composition(&mu, &vec![tau; layers]) {
                        Ok(p) => break p,
                        Err(Error::Unsupported(msg)) => {
                            assert!(msg.contains("collapses"), "{msg}");
                            layers -= 1;
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                };
                assert!(layers >= 2, "τ = {tau}: fewer than 2 layers representable");
                let hs: Vec<f64> = path
                    .iter()
                    .map(|g| gaussian_entropy(g.cov()).unwrap())
                    .collect();
                assert!(
                    hs.windows(2).all(|w| w[1] < w[0]),
                    "composition entropy not decreasing (τ = {tau}, d = {d})"
                );
            }
        }
    }
}

/// Fig. 3 (Section 4.3): in the space N(0, diag[σ₁², σ₂²]) with μ₀ = N(0, diag[2, 1]), the W₂
/// distance between Φ_t♯μ₀ and the continuous-flow measure of equal entropy, φ_{s(t)}♯μ₀, grows
/// with t on (0, 0.45]. `distance_from_flow` finds s(t) by bisection; the test re-checks the
/// entropies agree (1e-12: a few roundings of O(1) logs) and W₂ against the Euclidean distance in
/// (σ₁, σ₂) (1e-7: W₂ of near-equal inputs is accurate to √(ε tr Σ)).
#[test]
fn fig3_dae_leaves_the_gradient_flow() {
    let mu = diag_gaussian(&[2.0, 1.0]);
    let t_star = singular_time(&mu);
    assert!((t_star - 0.5).abs() < 1e-15);
    let mut prev = 0.0;
    for k in 1..=45 {
        let t = 0.01 * k as f64;
        let dae = dae_pushforward(&mu, t).unwrap();
        let far = distance_from_flow(&mu, &dae).unwrap();
        let flow = continuous_pushforward(&mu, far.flow_time).unwrap();
        let h = gaussian_entropy(dae.cov()).unwrap();
        let h_flow = gaussian_entropy(flow.cov()).unwrap();
        assert!(
            (h_flow - h).abs() < 1e-12,
            "equal-entropy flow time not found at t = {t}"
        );
        // In the diagonal family W₂ is Euclidean in (σ₁, σ₂) (METHODS §5).
        let w_euclid = ((dae.cov()[[0, 0]].sqrt() - flow.cov()[[0, 0]].sqrt()).powi(2)
            + (dae.cov()[[1, 1]].sqrt() - flow.cov()[[1, 1]].sqrt()).powi(2))
        .sqrt();
        assert!((far.w2 - w_euclid).abs() < 1e-7);
        assert!(
            far.w2 > prev,
            "W₂ from the flow not increasing at t = {t}: {} ≤ {prev}",
            far.w2
        );
        prev = far.w2;
    }
}

/// "Leaving" as a function of τ (Fig. 3): at equal total time t = 0.4, compositions with smaller
/// steps stay closer to the gradient flow — W₂ at equal entropy orders DAE (τ = t) > τ = 0.2 >
/// τ = 0.05 > τ = 0.01 — and it vanishes like τ (ratio of successive halvings → 2 within 10 %).
#[test]
fn compositions_leave_the_flow_less_as_tau_shrinks() {
    let mu = diag_gaussian(&[2.0, 1.0]);
    let t = 0.4;
    let leave = |layers: usize| {
        let taus = vec![t / layers as f64; layers];
        let last = composition(&mu, &taus).unwrap().pop().unwrap();
        distance_from_flow(&mu, &last).unwrap().w2
    };
    let dists: Vec<f64> = [1, 2, 8, 40].iter().map(|&l| leave(l)).collect();
    for w in dists.windows(2) {
        assert!(
            w[1] < w[0],
            "W₂ from the flow not decreasing with τ: {dists:?}"
        );
    }
    let ratio = leave(400) / leave(800);
    assert!(
        (ratio - 2.0).abs() < 0.2,
        "leaving distance not first order in τ: ratio {ratio}"
    );
    // A measure of larger entropy than μ₀ is not on the flow's entropy range.
    assert!(distance_from_flow(&mu, &diag_gaussian(&[3.0, 1.0])).is_err());
}

/// The Cholesky route of `bures_w2_squared` (eigenvalues of `Lᵀ Σ₁ L`) against the textbook
/// route through the matrix square root (`tr Σ₁ + tr Σ₂ − 2 tr (Σ₂^{1/2} Σ₁ Σ₂^{1/2})^{1/2}`, with
/// `spd_sqrt` and full eigen-decompositions), up to d = 64. Both are backward stable, so they agree
/// to `O(d·ε·(tr Σ₁ + tr Σ₂))`; tolerance `1e-12·d·(tr Σ₁ + tr Σ₂)`.
#[test]
fn bures_cholesky_route_matches_matrix_square_root_route() {
    use deeptransport::linalg::{spd_sqrt, sym_eigen};
    let mut rng = ChaCha8Rng::seed_from_u64(64);
    for d in [1, 2, 5, 16, 64] {
        for _ in 0..3 {
            let (a, b) = (random_gaussian(d, &mut rng), random_gaussian(d, &mut rng));
            let s = spd_sqrt(b.cov()).unwrap();
            let inner = s.dot(&a.cov()).dot(&s);
            let sym = (&inner + &inner.t()) * 0.5;
            let cross: f64 = sym_eigen(sym.view())
                .unwrap()
                .0
                .iter()
                .map(|v| v.max(0.0).sqrt())
                .sum();
            let dm = &a.mean() - &b.mean();
            let tr = a.cov().diag().sum() + b.cov().diag().sum();
            let textbook = dm.dot(&dm) + tr - 2.0 * cross;
            report(
                &format!("Cholesky vs square-root route, d = {d}"),
                (bures_w2_squared(&a, &b).unwrap() - textbook).abs(),
                1e-12 * d as f64 * tr,
            );
        }
    }
}

/// Bures–Wasserstein: the diagonal (commuting) case equals Σ(√a_i − √b_i)² + |Δm|² to 1e-13
/// (O(1) entries, a few roundings); symmetry and zero at equal inputs to 1e-12 (W₂² is a
/// difference of O(tr Σ) terms); a non-commuting 2×2 pair against the independent closed form
/// tr Σ₁ + tr Σ₂ − 2√(tr(Σ₁Σ₂) + 2√det(Σ₁Σ₂)) to 1e-13; the triangle inequality on random
/// triples with slack 1e-7 (W₂ of near-equal inputs is accurate to √(ε tr Σ)).
#[test]
fn bures_wasserstein() {
    let a = Gaussian::new(
        array![1.0, -2.0, 0.5],
        Array2::from_diag(&array![2.0, 0.3, 1.5]),
    )
    .unwrap();
    let b = Gaussian::new(
        array![0.0, 1.0, 0.5],
        Array2::from_diag(&array![0.5, 4.0, 1.5]),
    )
    .unwrap();
    let expect: f64 = [(2.0, 0.5), (0.3, 4.0), (1.5, 1.5)]
        .iter()
        .map(|(x, y): &(f64, f64)| (x.sqrt() - y.sqrt()).powi(2))
        .sum::<f64>()
        + 1.0
        + 9.0;
    report(
        "diagonal case",
        (bures_w2_squared(&a, &b).unwrap() - expect).abs(),
        1e-13,
    );

    let s1 = array![[2.0, 0.7], [0.7, 1.0]];
    let s2 = array![[0.5, -0.3], [-0.3, 3.0]];
    let g1 = Gaussian::new(array![0.0, 0.0], s1.clone()).unwrap();
    let g2 = Gaussian::new(array![0.0, 0.0], s2.clone()).unwrap();
    let p = s1.dot(&s2);
    let det = |m: &Array2<f64>| m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]];
    let closed =
        s1.diag().sum() + s2.diag().sum() - 2.0 * (p.diag().sum() + 2.0 * det(&p).sqrt()).sqrt();
    report(
        "non-commuting 2×2 vs closed form",
        (bures_w2_squared(&g1, &g2).unwrap() - closed).abs(),
        1e-13,
    );
    report(
        "symmetry",
        (bures_w2_squared(&g1, &g2).unwrap() - bures_w2_squared(&g2, &g1).unwrap()).abs(),
        1e-12,
    );

    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for d in 1..=4 {
        for _ in 0..50 {
            let (x, y, z) = (
                random_gaussian(d, &mut rng),
                random_gaussian(d, &mut rng),
                random_gaussian(d, &mut rng),
            );
            report("W₂²(x, x) = 0", bures_w2_squared(&x, &x).unwrap(), 1e-12);
            let (xy, yz, xz) = (
                bures_w2(&x, &y).unwrap(),
                bures_w2(&y, &z).unwrap(),
                bures_w2(&x, &z).unwrap(),
            );
            assert!(
                xz <= xy + yz + 1e-7,
                "triangle inequality: {xz} > {xy} + {yz}"
            );
            report(
                "symmetry (random)",
                (xy - bures_w2(&y, &x).unwrap()).abs(),
                1e-7,
            );
        }
        // spd_sqrt squares back.
        let s = random_spd(d, &mut rng);
        let r = spd_sqrt(s.view()).unwrap();
        report(
            "spd_sqrt(Σ)² = Σ",
            max_abs_diff(r.dot(&r).view(), s.view()),
            1e-12,
        );
    }
}

/// Tsallis entropy: S_α → H (Shannon) as α → 1. Expanding ∫ μ^α = E[e^{(α−1) log μ}] gives
/// S_α = H − (α − 1)(H² + d/2)/2 + O((α − 1)²) for a Gaussian (Var log μ = d/2), so at
/// α = 1 ± 1e-6 we require |S_α − H| ≤ 1e-5 where (H² + d/2)/2 < 9 and, in every case,
/// the first-order-corrected value to 1e-9 (O((α−1)²) = 1e-12 times O(H³), plus the
/// rounding of ℓ = log ∫ μ^α, ε·|ℓ|/|α − 1|). Also the 1-D closed form for N(0, σ²) against the trapezoid rule for ∫ μ^α on
/// [−15σ/√α, 15σ/√α] with 2·10⁵ intervals (the integrand is smooth and decays like e^{−112}
/// at the ends, so the trapezoid rule is accurate far beyond the 1e-10 tolerance).
#[test]
fn tsallis_entropy() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for d in 1..=4 {
        let s = random_spd(d, &mut rng);
        let h = gaussian_entropy(s.view()).unwrap();
        for &alpha in &[1.0 - 1e-6, 1.0 + 1e-6] {
            let st = gaussian_tsallis(s.view(), alpha).unwrap();
            // The first-order term is |α − 1|(H² + d/2)/2: within 1e-5 while (H² + d/2)/2 < 9.
            if (h * h + d as f64 / 2.0) / 2.0 < 9.0 {
                report(
                    &format!("Tsallis α = {alpha} → Shannon (d = {d})"),
                    (st - h).abs(),
                    1e-5,
                );
            }
            let first_order = h - (alpha - 1.0) * (h * h + d as f64 / 2.0) / 2.0;
            report(
                &format!("Tsallis α = {alpha} vs first-order expansion (d = {d})"),
                (st - first_order).abs(),
                1e-9,
            );
        }
    }
    for &sigma2 in &[0.3f64, 1.0, 2.5] {
        for &alpha in &[0.5f64, 2.0, 3.0] {
            let half = 15.0 * (sigma2 / alpha).sqrt();
            let n = 200_000;
            let hstep = 2.0 * half / n as f64;
            let f = |x: f64| {
                ((-0.5 * x * x / sigma2).exp() / (2.0 * std::f64::consts::PI * sigma2).sqrt())
                    .powf(alpha)
            };
            let mut integral = 0.5 * (f(-half) + f(half));
            for k in 1..n {
                integral += f(-half + k as f64 * hstep);
            }
            integral *= hstep;
            let numeric = (1.0 - integral) / (alpha - 1.0);
            let closed = gaussian_tsallis(array![[sigma2]].view(), alpha).unwrap();
            report(
                &format!("Tsallis σ² = {sigma2}, α = {alpha} vs trapezoid"),
                (closed - numeric).abs(),
                1e-10,
            );
        }
    }
}

/// Bad input is refused with the documented error: t ≤ 0, t ≥ t* (the message names t*), τ ≤ 0,
/// empty τ list, an absurd number of layers (before allocating), non-SPD covariances, α ∉ (0, ∞)∖{1},
/// empty and mismatched points.
#[test]
fn bad_input() {
    let mu = diag_gaussian(&[2.0, 1.0]);
    for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            dae_pushforward(&mu, t),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            continuous_pushforward(&mu, t),
            Err(Error::InvalidParameter { .. })
        ));
    }
    for t in [0.5, 0.7] {
        let err = continuous_pushforward(&mu, t).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { .. }));
        assert!(err.to_string().contains("t* = λ_min(Σ)/2 = 0.5"), "{err}");
        let err = continuous_map(&mu, t, array![[0.0, 0.0]].view()).unwrap_err();
        assert!(err.to_string().contains("0.5"), "{err}");
    }
    assert!(continuous_pushforward(&mu, 0.4999).is_ok());
    for taus in [vec![0.1, 0.0], vec![-0.1], vec![f64::NAN]] {
        assert!(matches!(
            composition(&mu, &taus),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            composition_map(&mu, &taus, array![[0.0, 0.0]].view()),
            Err(Error::InvalidParameter { .. })
        ));
    }
    assert!(matches!(composition(&mu, &[]), Err(Error::Empty { .. })));
    let huge = vec![0.1; 10_000_001];
    assert!(matches!(
        composition(&mu, &huge),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        continuous_map(&mu, 0.1, Array2::<f64>::zeros((0, 2)).view()),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        continuous_map(&mu, 0.1, Array2::<f64>::zeros((3, 3)).view()),
        Err(Error::DimensionMismatch { .. })
    ));
    let not_spd = array![[1.0, 2.0], [2.0, 1.0]];
    assert!(matches!(
        Gaussian::new(array![0.0, 0.0], not_spd.clone()),
        Err(Error::NotSpd { .. })
    ));
    assert!(matches!(
        gaussian_entropy(not_spd.view()),
        Err(Error::NotSpd { .. })
    ));
    assert!(matches!(
        gaussian_tsallis(not_spd.view(), 2.0),
        Err(Error::NotSpd { .. })
    ));
    assert!(matches!(
        spd_sqrt(not_spd.view()),
        Err(Error::NotSpd { .. })
    ));
    for alpha in [1.0, 0.0, -1.0, f64::NAN] {
        assert!(matches!(
            gaussian_tsallis(array![[1.0]].view(), alpha),
            Err(Error::InvalidParameter { .. })
        ));
    }
    assert!(matches!(
        bures_w2(&mu, &diag_gaussian(&[1.0])),
        Err(Error::DimensionMismatch { .. })
    ));
}
