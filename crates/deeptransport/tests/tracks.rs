//! The tracks module against the oracles of METHODS §7, as property tests, plus invariances,
//! conventions and errors.

use deeptransport::flow::Trajectory;
use deeptransport::tracks::{TrackOptions, TrackScorer, score, track_distance};
use ndarray::{Array2, Axis, array};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

fn traj(layers: Vec<Array2<f64>>) -> Trajectory {
    let t = (0..layers.len()).map(|k| k as f64).collect();
    Trajectory::from_layers(layers, t).unwrap()
}

fn all(t: &Trajectory) -> deeptransport::tracks::TrackScores {
    score(t, 0, t.len_times() - 1, TrackOptions::default()).unwrap()
}

/// A random SPD matrix `QΛQᵀ` in d = 2 with eigenvalues in [0.3, 3].
fn spd(seed: u64) -> Array2<f64> {
    let g = normal(1, 3, seed);
    let th = g[[0, 0]];
    let (l1, l2) = (
        0.3 + 2.7 * g[[0, 1]].abs().min(1.0),
        0.3 + 2.7 * g[[0, 2]].abs().min(1.0),
    );
    let q = array![[th.cos(), -th.sin()], [th.sin(), th.cos()]];
    q.dot(&Array2::from_diag(&array![l1, l2])).dot(&q.t())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A constant-velocity track is a straight line: LSS = 1 (to rounding, 1e-12), whatever its
    /// speed, direction and number of steps.
    #[test]
    fn constant_velocity_tracks_have_lss_one(seed in 0u64..1000, m in 1usize..12, speed in 1e-3f64..1e3) {
        let x = normal(20, 5, seed);
        let v = normal(20, 5, seed + 1) * speed;
        let t = traj((0..=m).map(|k| &x + &(&v * k as f64)).collect());
        let s = all(&t);
        for l in s.lss.iter().flatten() {
            prop_assert!((l - 1.0).abs() < 1e-12, "LSS {l}");
        }
        prop_assert_eq!(s.lss_undefined, 0);
    }

    /// Two steps turning by θ: LSS = 2/|u₁ + u₂| = 1/cos(θ/2), independent of the step lengths.
    #[test]
    fn a_turn_by_theta_has_lss_one_over_cos_half_theta(theta in 0.0f64..3.0, a in 0.1f64..10.0, b in 0.1f64..10.0) {
        let p0 = array![[0.0, 0.0]];
        let p1 = array![[a, 0.0]];
        let p2 = array![[a + b * theta.cos(), b * theta.sin()]];
        let s = all(&traj(vec![p0, p1, p2]));
        let want = 1.0 / (theta / 2.0).cos();
        prop_assert!((s.lss[0].unwrap() - want).abs() < 1e-12 * want, "{:?} vs {want}", s.lss[0]);
    }

    /// x ↦ Ax + b with A SPD is the gradient of a convex function, hence the OT map of any sample:
    /// OTS = 1 and cost ratio 1; its straight interpolation (1 − s)x + s(Ax + b) is a W₂
    /// geodesic: geodesic ratio and action ratio 1 (to the exact solver's rounding, 1e-9).
    #[test]
    fn spd_affine_maps_are_optimal_and_their_interpolations_geodesic(seed in 0u64..1000, m in 1usize..6) {
        let x = normal(60, 2, seed);
        let a = spd(seed + 7);
        let y = x.dot(&a) + array![[0.5, -1.0]];
        let s = all(&traj(vec![x.clone(), y.clone()]));
        prop_assert_eq!(s.ots, 1.0);
        prop_assert!((s.ots_cost_ratio - 1.0).abs() < 1e-9, "{}", s.ots_cost_ratio);
        let layers = (0..=m).map(|k| {
            let sk = k as f64 / m as f64;
            &x * (1.0 - sk) + &y * sk
        }).collect();
        let g = all(&traj(layers));
        prop_assert_eq!(g.ots, 1.0);
        prop_assert!((g.geodesic_ratio - 1.0).abs() < 1e-9, "geodesic ratio {}", g.geodesic_ratio);
        prop_assert!((g.action_ratio - 1.0).abs() < 1e-9, "action ratio {}", g.action_ratio);
        prop_assert!(g.lss.iter().all(|l| (l.unwrap() - 1.0).abs() < 1e-12));
    }

    /// Permuting the inputs consistently in every layer, or rotating and translating every layer
    /// by the same rigid motion, changes no score (per-input scores move with their input).
    #[test]
    fn scores_are_invariant_to_input_order_and_rigid_motions(seed in 0u64..1000) {
        let layers: Vec<Array2<f64>> = (0..4).map(|k| normal(40, 3, seed * 10 + k)).collect();
        let base = all(&traj(layers.clone()));
        let perm: Vec<usize> = (0..40).map(|i| (i * 17 + 5) % 40).collect();
        let permuted = all(&traj(layers.iter().map(|l| l.select(Axis(0), &perm)).collect()));
        for (k, &i) in perm.iter().enumerate() {
            prop_assert!((permuted.lss[k].unwrap() - base.lss[i].unwrap()).abs() < 1e-12);
            prop_assert_eq!(permuted.fixed_point[k], base.fixed_point[i]);
        }
        let (c, sn) = (0.6f64, 0.8f64);
        let r = array![[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]];
        let moved = all(&traj(layers.iter().map(|l| l.dot(&r) + 3.0).collect()));
        for other in [&permuted, &moved] {
            prop_assert_eq!(other.ots, base.ots);
            prop_assert!((other.lss_mean.unwrap() - base.lss_mean.unwrap()).abs() < 1e-12);
            prop_assert!((other.action_ratio - base.action_ratio).abs() < 1e-9 * base.action_ratio);
            for (a, b) in other.w2_steps.iter().zip(&base.w2_steps) {
                prop_assert!((a - b).abs() < 1e-9 * b);
            }
        }
    }
}

#[test]
fn a_rotation_of_an_isotropic_sample_fixes_almost_no_input() {
    // The OT map between a sample and its rotation by 90° is close to the identity-on-the-measure,
    // not the rotation: OTS → 0 as n grows (here n = 400: a handful of coincidences at most).
    let x = normal(400, 2, 3);
    let r = array![[0.0, -1.0], [1.0, 0.0]];
    let s = all(&traj(vec![x.clone(), x.dot(&r)]));
    assert!(s.ots < 0.05, "OTS {}", s.ots);
    assert!(s.ots_cost_ratio < 0.2, "cost ratio {}", s.ots_cost_ratio);
}

#[test]
fn random_directions_in_high_dimension_give_lss_near_root_m() {
    // m i.i.d. uniform unit steps in d = 4000: |Σu|² = m + Σ_{k≠l} ⟨u_k, u_l⟩ ≈ m (± m·√(m/d)),
    // so LSS ≈ √m within a few per cent.
    let m = 16;
    let mut layers = vec![Array2::zeros((3, 4000))];
    for k in 0..m {
        layers.push(&layers[k] + &normal(3, 4000, 100 + k as u64));
    }
    let s = all(&traj(layers));
    for l in s.lss.iter().flatten() {
        assert!((l / 4.0 - 1.0).abs() < 0.05, "LSS {l} vs √16 = 4");
    }
}

#[test]
fn zero_steps_are_dropped_and_motionless_tracks_are_undefined() {
    let x = array![[0.0, 0.0], [1.0, 1.0]];
    let y = array![[1.0, 0.0], [1.0, 1.0]];
    let z = array![[1.0, 1.0], [1.0, 1.0]];
    // Input 0: a step, a zero step, a turn by 90°: LSS over its two non-zero steps = √2.
    let s = all(&traj(vec![x.clone(), y.clone(), y.clone(), z]));
    assert!((s.lss[0].unwrap() - 2f64.sqrt()).abs() < 1e-15);
    assert_eq!(s.lss[1], None);
    assert_eq!(s.lss_undefined, 1);
    assert_eq!(s.lss_mean, s.lss[0]);
    assert_eq!(s.path_length[1], 0.0);
    // A network that moves nothing: every ratio is 1 by convention, LSS undefined everywhere.
    let still = all(&traj(vec![x.clone(), x.clone(), x]));
    assert_eq!(
        (
            still.ots,
            still.ots_cost_ratio,
            still.geodesic_ratio,
            still.action_ratio
        ),
        (1.0, 1.0, 1.0, 1.0)
    );
    assert_eq!((still.lss_undefined, still.lss_mean), (2, None));
}

#[test]
fn outliers_near_the_largest_doubles_are_scored_exactly() {
    // Coordinates of 10²⁰⁰: squared distances overflow f64, the scores must not.
    let x = normal(30, 2, 9) * 1e200;
    let a = spd(4);
    let y = x.dot(&a);
    let mid = (&x + &y) * 0.5;
    let s = all(&traj(vec![x, mid, y]));
    assert_eq!(s.ots, 1.0);
    assert!((s.action_ratio - 1.0).abs() < 1e-9, "{}", s.action_ratio);
    assert!(
        (s.geodesic_ratio - 1.0).abs() < 1e-9,
        "{}",
        s.geodesic_ratio
    );
    assert!((s.ots_cost_ratio - 1.0).abs() < 1e-9);
    assert!(s.lss.iter().all(|l| (l.unwrap() - 1.0).abs() < 1e-12));
    assert!(s.w2_end_to_end.is_finite() && s.w2_end_to_end > 1e199);
}

#[test]
fn subsampling_uses_the_same_seeded_inputs_at_every_layer() {
    let x = normal(500, 2, 11);
    let y = x.dot(&spd(12));
    let t = traj(vec![x, y]);
    let s = score(
        &t,
        0,
        1,
        TrackOptions {
            max_samples: 100,
            seed: 5,
        },
    )
    .unwrap();
    assert_eq!(s.ots_n, 100);
    assert_eq!(s.fixed_point.iter().flatten().count(), 100);
    assert_eq!(s.ots, 1.0);
    assert_eq!(
        s,
        score(
            &t,
            0,
            1,
            TrackOptions {
                max_samples: 100,
                seed: 5
            }
        )
        .unwrap()
    );
}

#[test]
fn layers_of_different_widths_are_zero_padded() {
    let x = normal(10, 2, 13);
    let wide = ndarray::concatenate![Axis(1), x, Array2::<f64>::zeros((10, 3))];
    let mut s = TrackScorer::new(x.view(), TrackOptions::default()).unwrap();
    s.push(wide.view()).unwrap();
    let r = s.finish().unwrap();
    assert_eq!(r.widths, vec![2, 5]);
    assert_eq!(r.lss_undefined, 10);
    assert_eq!(r.w2_steps, vec![0.0]);
}

#[test]
fn misaligned_non_finite_and_single_layers_are_errors_naming_the_layer() {
    let x = normal(10, 2, 14);
    let mut s = TrackScorer::new(x.view(), TrackOptions::default()).unwrap();
    let e = s.push(normal(9, 2, 15).view()).unwrap_err().to_string();
    assert!(
        e.contains("layer 2") && e.contains("10") && e.contains('9'),
        "{e}"
    );
    let mut bad = normal(10, 2, 16);
    bad[[6, 1]] = f64::NAN;
    let e = s.push(bad.view()).unwrap_err().to_string();
    assert!(
        e.contains("layer 2") && e.contains("row 7") && e.contains("column 2"),
        "{e}"
    );
    let e = s.finish().unwrap_err().to_string();
    assert!(e.contains("two layers"), "{e}");
}

#[test]
fn track_distance_and_the_geodesic_bound() {
    // Two inputs that approach along straight tracks: x_a: (0, 0) → (4, 0), x_b: (0, 4) → (4, 2).
    // Their distance 4 − 2s is least at the end: d = 2; the bound |x_a − x_b||f(x_a) − f(x_b)| /
    // √(|x_a − x_b|² + |f(x_a) − f(x_b)|²) = 4·2/√20 holds below it.
    let x = array![[0.0, 0.0], [0.0, 4.0]];
    let y = array![[4.0, 0.0], [4.0, 2.0]];
    let t = traj(
        (0..=10)
            .map(|k| &x * (1.0 - k as f64 / 10.0) + &y * (k as f64 / 10.0))
            .collect(),
    );
    let (d, bound) = track_distance(&t, 0, 1);
    assert!((d - 2.0).abs() < 1e-12, "{d}");
    assert!((bound - 8.0 / 20f64.sqrt()).abs() < 1e-12, "{bound}");
    assert!(d >= bound);
}
