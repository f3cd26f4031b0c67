//! The continuous DAE (Definition 3.1, METHODS §4) and its Dormand–Prince integrator: the ODE
//! against the closed form (12), smoothed data against the equivalent isotropic mixture, the
//! order of DOPRI5 and of its dense output, trajectories reaching the atoms at t* = H/2, the
//! refusal of singular times, and thread-count independence.
//!
//! Set `DEEPTRANSPORT_TEST_REPORT=1` to print each observed error next to its tolerance.

use deeptransport::Error;
use deeptransport::flow::continuous::{
    FlowSource, SmoothedData, continuous_dae, score_at, singular_time,
};
use deeptransport::flow::gaussian;
use deeptransport::flow::ode::{ErrorNorm, OdeOptions, dopri5, dopri5_fixed};
use deeptransport::measure::{Empirical, Gaussian, Mixture};
use ndarray::{Array1, Array2, ArrayView2, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

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

fn normal(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((n, d), || rng.sample::<f64, _>(StandardNormal))
}

fn opts(rtol: f64, atol: f64) -> OdeOptions {
    OdeOptions {
        rtol,
        atol,
        ..OdeOptions::default()
    }
}

/// Largest row-wise |a − b| / max(1, |b|): a relative error that does not blow up where a
/// coordinate crosses zero.
fn max_rel(a: ArrayView2<f64>, b: ArrayView2<f64>) -> f64 {
    a.rows()
        .into_iter()
        .zip(b.rows())
        .map(|(x, y)| {
            let diff = &x - &y;
            diff.dot(&diff).sqrt() / y.dot(&y).sqrt().max(1.0)
        })
        .fold(0.0, f64::max)
}

/// Σ non-diagonal in d = 2 with eigenvalues 1.3 ± √(0.49 + 0.36): t* = λ_min/2 ≈ 0.189.
fn tilted_gaussian() -> Gaussian {
    Gaussian::new(array![0.5, -1.0], array![[2.0, 0.6], [0.6, 0.6]]).unwrap()
}

/// Eq. (12) through the integrator: a one-component mixture takes the ODE path, the Gaussian the
/// closed form; they must agree to 1e-8 relative at rtol = 1e-10 (global error ≈ a few rtol),
/// also at 0.99·t* and 0.999·t*, where the smallest direction has shrunk by √(1 − t/t*) ≈ 0.03
/// and the velocity grows like 1/(t* − t).
#[test]
fn one_component_mixture_ode_matches_the_closed_form_eq12() {
    let g = tilted_gaussian();
    let t_star = gaussian::singular_time(&g);
    let mix = FlowSource::Mixture(Mixture::new(array![1.0], vec![g.clone()]).unwrap());
    assert_eq!(singular_time(&mix).unwrap(), t_star);
    let x0 = &normal(12, 2, 1) * 1.5 + &array![0.5, -1.0];
    let fractions = [0.1, 0.5, 0.9, 0.99, 0.999];
    let times: Vec<f64> = fractions.iter().map(|f| f * t_star).collect();
    let flow = continuous_dae(&mix, x0.view(), &times, &opts(1e-10, 1e-12), &mut |_| {}).unwrap();
    assert!(!flow.closed_form);
    assert!(flow.stats.steps > 0 && flow.stats.rhs_evaluations >= 6 * flow.stats.steps);
    assert_eq!(flow.trajectory.first(), x0.view());
    for (k, &t) in times.iter().enumerate() {
        let exact = gaussian::continuous_map(&g, t, x0.view()).unwrap();
        report(
            &format!("ODE vs eq. 12 at t = {:.3} t*", fractions[k]),
            max_rel(flow.trajectory.at(k + 1), exact.view()),
            1e-8,
        );
    }
    // The Gaussian source itself is the closed form: no steps, the same numbers.
    let gs = FlowSource::Gaussian(g.clone());
    let closed =
        continuous_dae(&gs, x0.view(), &times, &OdeOptions::default(), &mut |_| {}).unwrap();
    assert!(closed.closed_form);
    assert_eq!(closed.stats.steps, 0);
    assert_eq!(closed.stats.rejected_steps, 0);
    assert_eq!(closed.stats.max_error_estimate, 0.0);
    let exact = gaussian::continuous_map(&g, times[2], x0.view()).unwrap();
    assert_eq!(closed.trajectory.at(3), exact.view());
}

/// The score of the Gaussian flow is −(Σ − 2tI)⁻¹(x − m) (eq. 12 differentiated); checked
/// against a direct 2×2 inverse to 1e-12 relative (eigen-decomposition rounding).
#[test]
fn score_is_the_shrunk_gaussian_score() {
    let g = tilted_gaussian();
    let x = normal(5, 2, 2);
    let t = 0.1;
    let s = score_at(&FlowSource::Gaussian(g), t, x.view()).unwrap();
    let (a, b, c) = (2.0 - 2.0 * t, 0.6, 0.6 - 2.0 * t);
    let det = a * c - b * b;
    let inv = array![[c / det, -b / det], [-b / det, a / det]];
    let expected = -(&x - &array![0.5, -1.0]).dot(&inv);
    report(
        "score_at vs −(Σ − 2tI)⁻¹(x − m)",
        max_rel(s.view(), expected.view()),
        1e-12,
    );
}

fn atoms_and_weights(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let x = normal(n, 2, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    let w = Array1::from_shape_simple_fn(n, || 0.2 + rng.random::<f64>());
    (x, w)
}

/// Smoothed data `Σ w_i N(x_i, H I)` is the mixture with components `N(x_i, H I)`: the kernel
/// path and the spectral path compute the same score (to 1e-12, two roundings of one formula)
/// and the same trajectories (to 1e-7 at rtol = 1e-9: each is within a few rtol of the exact
/// flow, and the two step sequences differ only by rounding-level score differences).
#[test]
fn smoothed_data_flow_equals_the_isotropic_mixture_flow() {
    let h = 0.3;
    let (x, w) = atoms_and_weights(25, 3);
    let data = FlowSource::SmoothedData(
        SmoothedData::new(Empirical::weighted(x.clone(), w.clone()).unwrap(), h).unwrap(),
    );
    let comps: Vec<Gaussian> = x
        .rows()
        .into_iter()
        .map(|r| Gaussian::new(r.to_owned(), Array2::eye(2) * h).unwrap())
        .collect();
    let mix = FlowSource::Mixture(Mixture::new(w, comps).unwrap());
    assert!((singular_time(&data).unwrap() - h / 2.0).abs() == 0.0);
    assert!((singular_time(&mix).unwrap() - h / 2.0).abs() < 1e-15);
    let q = &normal(30, 2, 4) * 1.2;
    for t in [0.0, 0.07, 0.14] {
        let a = score_at(&data, t, q.view()).unwrap();
        let b = score_at(&mix, t, q.view()).unwrap();
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let err = (&a - &b).iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale;
        report(&format!("kernel vs spectral score at t = {t}"), err, 1e-12);
    }
    let times = [0.05, 0.1, 0.14];
    let o = opts(1e-9, 1e-11);
    let fa = continuous_dae(&data, q.view(), &times, &o, &mut |_| {}).unwrap();
    let fb = continuous_dae(&mix, q.view(), &times, &o, &mut |_| {}).unwrap();
    for k in 1..=times.len() {
        report(
            &format!(
                "smoothed data vs mixture trajectory at t = {}",
                times[k - 1]
            ),
            max_rel(fa.trajectory.at(k), fb.trajectory.at(k)),
            1e-7,
        );
    }
}

/// y₁' = −(1 + t) y₂, y₂' = (1 + t) y₁: a rotation by θ(t) = t + t²/2, y(t) = (cos θ, sin θ).
fn rotation(t: f64, y: &[f64], dy: &mut [f64]) -> deeptransport::Result<()> {
    dy[0] = -(1.0 + t) * y[1];
    dy[1] = (1.0 + t) * y[0];
    Ok(())
}

fn rotation_exact(t: f64) -> [f64; 2] {
    let th = t + 0.5 * t * t;
    [th.cos(), th.sin()]
}

fn dist(a: &[f64], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Fixed steps: the global error of a 5th-order method falls like h⁵, so halving h divides it
/// by ≈ 32; the observed order log₂(e_h / e_{h/2}) must lie in [4.6, 5.4] (asymptotic range, the
/// errors stay far above rounding: 1e-6 … 1e-10).
#[test]
fn dopri5_fixed_step_global_error_is_fifth_order() {
    let t1 = 2.0;
    let errs: Vec<f64> = [10usize, 20, 40, 80]
        .iter()
        .map(|&n| {
            let y = dopri5_fixed(rotation, 0.0, &[1.0, 0.0], t1, n).unwrap();
            dist(&y, rotation_exact(t1))
        })
        .collect();
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        if std::env::var_os("DEEPTRANSPORT_TEST_REPORT").is_some() {
            eprintln!("fixed-step errors {w:?}: observed order {order:.3}");
        }
        assert!(
            (4.6..=5.4).contains(&order),
            "observed order {order} in {errs:?}"
        );
    }
}

/// Adaptive steps: the global error is proportional to the tolerance (DOPRI5 with local
/// extrapolation: local error ∝ tol^{6/5}, steps ∝ tol^{−1/5}), so tightening rtol = atol by 100
/// must shrink it by a factor in [10, 1000] and keep it below 50·tol. Dense output at 41 times
/// that are not step ends must be as accurate (4th-order interpolant: error O(h⁵) ≈ tol). No
/// RHS evaluation may happen past the final time.
#[test]
fn dopri5_adaptive_error_scales_with_tolerance_and_dense_output_is_accurate() {
    let t1 = 3.0;
    let t_out: Vec<f64> = (1..=41).map(|k| t1 * (k as f64 / 41.0).powf(0.9)).collect();
    let mut worst = Vec::new();
    for tol in [1e-6, 1e-8, 1e-10] {
        let mut t_max = f64::NEG_INFINITY;
        let mut progress = Vec::new();
        let sol = dopri5(
            |t, y, dy| {
                t_max = t_max.max(t);
                rotation(t, y, dy)
            },
            0.0,
            &[1.0, 0.0],
            &t_out,
            &opts(tol, tol),
            &mut |f| progress.push(f),
        )
        .unwrap();
        assert!(t_max <= t1, "RHS evaluated at {t_max} > {t1}");
        assert_eq!(progress.last(), Some(&1.0));
        assert!(progress.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(sol.states.len(), t_out.len());
        assert_eq!(
            sol.stats.rhs_evaluations,
            2 + 6 * (sol.stats.steps + sol.stats.rejected_steps)
        );
        assert!(sol.stats.max_error_estimate > 0.0 && sol.stats.max_error_estimate < 10.0 * tol);
        let err = sol
            .states
            .iter()
            .zip(&t_out)
            .map(|(y, &t)| dist(y, rotation_exact(t)))
            .fold(0.0, f64::max);
        report(
            &format!("DOPRI5 global error incl. dense output, tol {tol:e}"),
            err,
            50.0 * tol,
        );
        worst.push(err);
    }
    for w in worst.windows(2) {
        let ratio = w[0] / w[1];
        assert!(
            (10.0..=1000.0).contains(&ratio),
            "error ratio {ratio} for tol ratio 100"
        );
    }
}

/// Step limits and bad tolerances are errors, not panics or silent garbage.
#[test]
fn dopri5_limits_and_bad_options_are_errors() {
    let mut o = opts(1e-12, 1e-12);
    o.max_steps = 5;
    let e = dopri5(rotation, 0.0, &[1.0, 0.0], &[10.0], &o, &mut |_| {}).unwrap_err();
    assert!(matches!(e, Error::NotConverged(_)), "{e}");
    for bad in [opts(0.0, 1e-8), opts(f64::NAN, 1e-8), opts(1e-8, -1.0)] {
        let e = dopri5(rotation, 0.0, &[1.0, 0.0], &[1.0], &bad, &mut |_| {}).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
    }
    let e = dopri5(
        rotation,
        0.0,
        &[1.0, 0.0],
        &[1.0, 0.5],
        &OdeOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
}

/// As t → H/2 the flow carries each point onto an atom: μ_t = Σ w_i N(x_i, sI), s = H − 2t, and a
/// point attracted by atom a moves like a + √(s/H)(x₀ − a) once the others' responsibility has
/// vanished. Starting from draws of μ₀ (|x₀ − a| ≲ 4√(H d)), at t = 0.4999·H every point must be
/// within 6√s of an atom (√(s/H)·4√(Hd) ≈ 5.7√s in d = 2).
#[test]
fn trajectories_reach_the_atoms_at_the_singular_time() {
    let h = 0.05;
    let atoms = &normal(15, 2, 5) * 2.0;
    let src = FlowSource::SmoothedData(
        SmoothedData::new(Empirical::new(atoms.clone()).unwrap(), h).unwrap(),
    );
    // Draws of μ₀: an atom plus N(0, H I).
    let noise = &normal(40, 2, 6) * h.sqrt();
    let mut q = noise.clone();
    for (i, mut row) in q.rows_mut().into_iter().enumerate() {
        row += &atoms.row(i % atoms.nrows());
    }
    let t = 0.4999 * h;
    let s = h - 2.0 * t;
    let flow = continuous_dae(
        &src,
        q.view(),
        &[0.25 * h, t],
        &opts(1e-8, 1e-10),
        &mut |_| {},
    )
    .unwrap();
    let end = flow.trajectory.last();
    let mut worst: f64 = 0.0;
    for p in end.rows() {
        let nearest = atoms
            .rows()
            .into_iter()
            .map(|a| (&p - &a).dot(&(&p - &a)).sqrt())
            .fold(f64::INFINITY, f64::min);
        worst = worst.max(nearest);
    }
    report(
        "distance to the nearest atom / √(H − 2t)",
        worst / s.sqrt(),
        6.0,
    );
    // In log-time the approach is smooth: few rejected steps, however close t is to t*.
    assert!(
        flow.stats.rejected_steps * 4 <= flow.stats.steps,
        "{:?}",
        flow.stats
    );
    // And the start was far from the atoms on that scale (the test can fail).
    let start_dist = noise
        .rows()
        .into_iter()
        .map(|r| r.dot(&r).sqrt())
        .fold(0.0, f64::max);
    assert!(start_dist > 20.0 * s.sqrt());
}

/// A time at or past t* is refused before any work, with both times in the message.
#[test]
fn times_at_or_past_the_singular_time_are_refused() {
    let g = tilted_gaussian();
    let t_star = gaussian::singular_time(&g);
    let (x, w) = atoms_and_weights(5, 7);
    let sources = [
        FlowSource::Gaussian(g.clone()),
        FlowSource::Mixture(
            Mixture::new(array![0.5, 0.5], vec![g.clone(), Gaussian::standard(2)]).unwrap(),
        ),
        FlowSource::SmoothedData(
            SmoothedData::new(Empirical::weighted(x, w).unwrap(), 0.4).unwrap(),
        ),
    ];
    let q = normal(3, 2, 8);
    for src in &sources {
        let ts = singular_time(src).unwrap();
        for bad in [ts, ts * 1.5] {
            let mut called = false;
            let e = continuous_dae(
                src,
                q.view(),
                &[0.5 * ts, bad],
                &OdeOptions::default(),
                &mut |_| called = true,
            )
            .unwrap_err();
            assert!(!called, "work was done before refusing t = {bad}");
            match &e {
                Error::PastSingularTime {
                    t, singular_time, ..
                } => {
                    assert_eq!((*t, *singular_time), (bad, ts));
                }
                other => panic!("expected PastSingularTime, got {other}"),
            }
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{bad}")) && msg.contains(&format!("{ts}")),
                "{msg}"
            );
        }
        assert!(score_at(src, ts, q.view()).is_err());
    }
    assert_eq!(singular_time(&sources[0]).unwrap(), t_star);
    // Mixture t* = min(λ_min(Σ₁), λ_min(I))/2 = t* of the tilted Gaussian (< 1/2).
    assert_eq!(singular_time(&sources[1]).unwrap(), t_star);
    assert_eq!(singular_time(&sources[2]).unwrap(), 0.2);
    // Negative, NaN or decreasing times and bad bandwidths are invalid parameters.
    for times in [vec![-0.1], vec![f64::NAN], vec![0.1, 0.05]] {
        let e = continuous_dae(
            &sources[1],
            q.view(),
            &times,
            &OdeOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { .. }),
            "{times:?}: {e}"
        );
    }
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = SmoothedData::new(Empirical::new(normal(2, 2, 9)).unwrap(), h).unwrap_err();
        assert!(e.to_string().contains("bandwidth"), "{e}");
    }
}

/// The kernel reduction and the mixture score are reduced per point in a fixed order, and the
/// integrator is serial: 1 and 2 threads give the same bits.
#[test]
fn flows_are_bit_identical_for_one_and_two_threads() {
    let (x, w) = atoms_and_weights(300, 10);
    let data = FlowSource::SmoothedData(
        SmoothedData::new(Empirical::weighted(x, w).unwrap(), 0.2).unwrap(),
    );
    let comps = (0..4)
        .map(|k| {
            let c = k as f64;
            Gaussian::new(array![c, -c], array![[1.0 + 0.1 * c, 0.3], [0.3, 0.8]]).unwrap()
        })
        .collect();
    let mix = FlowSource::Mixture(Mixture::new(array![1.0, 2.0, 3.0, 4.0], comps).unwrap());
    let q = normal(200, 2, 11);
    for src in [&data, &mix] {
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    continuous_dae(
                        src,
                        q.view(),
                        &[0.02, 0.08],
                        &OdeOptions::default(),
                        &mut |_| {},
                    )
                    .unwrap()
                })
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.trajectory, b.trajectory, "{}", src.kind());
        assert_eq!(a.stats, b.stats);
    }
}

/// One atom a smoothed with bandwidth H is N(a, H I), whose flow (12) is
/// x(t) = a + √(1 − 2t/H)(x₀ − a): the kernel path must follow it to 1e-8 relative at
/// rtol = 1e-10 up to t = 0.49999·H, where the points have moved 99.7 % of the way to a.
#[test]
fn single_atom_smoothed_data_follows_the_closed_form() {
    let h = 0.7;
    let a = array![[1.0, -2.0]];
    let src =
        FlowSource::SmoothedData(SmoothedData::new(Empirical::new(a.clone()).unwrap(), h).unwrap());
    let x0 = &normal(10, 2, 12) * 2.0;
    let times = [0.1 * h, 0.4 * h, 0.49 * h, 0.49999 * h];
    let flow = continuous_dae(&src, x0.view(), &times, &opts(1e-10, 1e-12), &mut |_| {}).unwrap();
    for (k, &t) in times.iter().enumerate() {
        let gain = (1.0 - 2.0 * t / h).sqrt();
        let exact = (&x0 - &a) * gain + &a;
        report(
            &format!("one-atom flow vs closed form at t = {:.5} H", t / h),
            max_rel(flow.trajectory.at(k + 1), exact.view()),
            1e-8,
        );
    }
}

/// With the max norm every point of a large system is held to the tolerance: against a
/// reference at rtol = atol = 1e-13, the worst coordinate error at tol = 1e-7 must stay below
/// 20·tol·(1 + |x|) (a global error of a few local tolerances), and the max norm never takes
/// fewer steps than the RMS norm, which averages the error over all n·d = 800 coordinates.
#[test]
fn max_error_norm_holds_every_point_to_the_tolerance() {
    let comps = vec![
        Gaussian::new(array![-1.0, 0.0], array![[0.6, 0.2], [0.2, 0.4]]).unwrap(),
        Gaussian::new(array![1.5, 0.5], array![[0.5, 0.0], [0.0, 0.9]]).unwrap(),
    ];
    let src = FlowSource::Mixture(Mixture::new(array![0.4, 0.6], comps).unwrap());
    let t = 0.95 * singular_time(&src).unwrap();
    let q = &normal(400, 2, 13) * 1.5;
    let with = |tol: f64, norm: ErrorNorm| {
        let o = OdeOptions {
            norm,
            ..opts(tol, tol)
        };
        continuous_dae(&src, q.view(), &[t], &o, &mut |_| {}).unwrap()
    };
    let reference = with(1e-13, ErrorNorm::Max);
    let worst = |f: &deeptransport::flow::continuous::ContinuousFlow| {
        f.trajectory
            .last()
            .iter()
            .zip(reference.trajectory.last().iter())
            .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
            .fold(0.0, f64::max)
    };
    let (max_run, rms_run) = (with(1e-7, ErrorNorm::Max), with(1e-7, ErrorNorm::Rms));
    if std::env::var_os("DEEPTRANSPORT_TEST_REPORT").is_some() {
        eprintln!(
            "worst point error: max norm {:.3e} ({} steps), rms norm {:.3e} ({} steps)",
            worst(&max_run),
            max_run.stats.steps,
            worst(&rms_run),
            rms_run.stats.steps
        );
    }
    report(
        "max-norm worst coordinate error / tol",
        worst(&max_run) / 1e-7,
        20.0,
    );
    assert!(max_run.stats.steps >= rms_run.stats.steps);
}
