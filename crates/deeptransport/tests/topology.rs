//! The autoencoder-topology module (METHODS §9) against closed forms: hand-built autoencoders of
//! a circle and a sphere whose supremum error and exceptional fraction are known exactly, the
//! reach bound on them, `P(e ≥ ε)` monotone in ε, the fixtures' grids and samples, the bad set's
//! pieces, and the Betti numbers of the fixtures.

use deeptransport::kernel::farthest::farthest_points;
use deeptransport::topology::{
    self, Exceedance, Manifold, bad_set, errors, exceptional_fraction, summarize,
};
use ndarray::{Array2, array};
use proptest::prelude::*;
use rand::SeedableRng;
use std::f64::consts::PI;

fn circle_grid(r: f64, m: usize) -> (Vec<f64>, Array2<f64>) {
    let g = Manifold::Circle { radius: r }.grid(m);
    (g.angles.iter().map(|a| a[0]).collect(), g.points)
}

/// Borsuk–Ulam, tight: the encoder `F(x) = x₁` and the decoder `G(s) = (s, 0)` reconstruct the
/// circle of radius r with error `|x₂|`, whose supremum is exactly `r = τ` (at θ = π/2, a grid
/// point when 4 | m): the bound cannot be improved.
#[test]
fn projection_autoencoder_attains_the_reach_bound() {
    let r = 1.7;
    let (theta, x) = circle_grid(r, 4000);
    let xhat = Array2::from_shape_fn(x.dim(), |(i, j)| if j == 0 { x[[i, 0]] } else { 0.0 });
    let e = errors(x.view(), xhat.view(), "x", "xhat").unwrap();
    for (k, &t) in theta.iter().enumerate() {
        assert!((e[k] - r * t.sin().abs()).abs() <= 4.0 * f64::EPSILON * r);
    }
    let s = summarize(&e);
    let bound = Manifold::Circle { radius: r }.sup_error_bound();
    assert!((s.max - bound).abs() <= 2.0 * f64::EPSILON * r, "{}", s.max);
    // P(|r sin θ| ≥ ε) = 1 − (2/π) asin(ε/r) on the uniform circle; the grid's fraction is within
    // 4/m of it (each of the four arc ends moves the count by at most one point).
    for eps in [0.1, 0.5, 1.0, 1.6] {
        let want = 1.0 - 2.0 / PI * (eps / r).asin();
        assert!((exceptional_fraction(&e, eps) - want).abs() <= 4.0 / 4000.0);
    }
}

/// A continuous "angle cut": `F(θ) = 2πθ/(2π − δ)` on `[0, 2π − δ]`, then back from 2π to 0 on
/// the last arc of length δ; `G(s) = r(cos s, sin s)`. The error is `2r|sin((F(θ) − θ)/2)|`:
/// at most `2r sin(δ/2)` outside the return arc, and on it `F − θ` sweeps `[−2π, δ]` linearly, so
/// the supremum is `2r` and `P(e ≥ ε) = (2π − 4a)/(2π/δ + 1)/(2π)` with `a = asin(ε/2r)`, for
/// `2r sin(δ/2) < ε`.
#[test]
fn steep_return_encoder_fails_on_a_short_arc() {
    let (r, delta, m) = (1.0, 0.2, 200_000);
    let (theta, x) = circle_grid(r, m);
    let f = |t: f64| {
        if t <= 2.0 * PI - delta {
            2.0 * PI * t / (2.0 * PI - delta)
        } else {
            2.0 * PI * (2.0 * PI - t) / delta
        }
    };
    let mut xhat = Array2::zeros(x.dim());
    for (k, &t) in theta.iter().enumerate() {
        xhat[[k, 0]] = r * f(t).cos();
        xhat[[k, 1]] = r * f(t).sin();
    }
    let e = errors(x.view(), xhat.view(), "x", "xhat").unwrap();
    let s = summarize(&e);
    // The grid's supremum: 2r up to the grid step in F − θ, (2π/δ + 1)·2π/m, through the sine.
    let step = (2.0 * PI / delta + 1.0) * 2.0 * PI / m as f64;
    assert!(s.max <= 2.0 * r && s.max >= 2.0 * r * (step / 2.0).cos() - 1e-12);
    assert!(s.max >= Manifold::Circle { radius: r }.sup_error_bound());
    for eps in [0.25, 0.5, 1.0, 1.9] {
        assert!(2.0 * r * (delta / 2.0).sin() < eps);
        let a = (eps / (2.0 * r)).asin();
        let want = (2.0 * PI - 4.0 * a) / (2.0 * PI / delta + 1.0) / (2.0 * PI);
        let got = exceptional_fraction(&e, eps);
        assert!(
            (got - want).abs() <= 2.0 / m as f64,
            "ε {eps}: {got} vs {want}"
        );
    }
}

/// The sphere with the encoder `F(x) = (x₁, x₂)` and `G(s) = (s₁, s₂, 0)`: error `|x₃|`, supremum
/// `r` at the poles, off the grid; the grid maximum is within `(L + 1) h` of it (L = 1).
#[test]
fn sphere_projection_obeys_the_lipschitz_slack() {
    let m = Manifold::Sphere { radius: 2.0 };
    let g = m.grid(60);
    let xhat = Array2::from_shape_fn(
        g.points.dim(),
        |(i, j)| {
            if j < 2 { g.points[[i, j]] } else { 0.0 }
        },
    );
    let e = errors(g.points.view(), xhat.view(), "x", "xhat").unwrap();
    let sup = summarize(&e).max;
    let bound = m.sup_error_bound();
    assert!(sup < bound, "the poles are not grid points");
    assert!(sup >= bound - 2.0 * g.covering_radius);
    assert!((sup - 2.0 * (PI / 120.0).cos()).abs() < 1e-12);
}

/// Every point of each fixture lies within the grid's covering radius of a grid point.
#[test]
fn grids_cover_their_manifolds() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for (m, size) in [
        (Manifold::Circle { radius: 1.3 }, 50),
        (Manifold::LinkedCircles, 40),
        (Manifold::Sphere { radius: 1.0 }, 12),
        (
            Manifold::Torus {
                major: 2.5,
                minor: 1.0,
            },
            10,
        ),
    ] {
        let g = m.grid(size);
        let s = m.sample(3000, &mut rng);
        let mut worst = 0.0f64;
        for p in s.points.outer_iter() {
            let d = g
                .points
                .outer_iter()
                .map(|q| (&p - &q).mapv(|v| v * v).sum().sqrt())
                .fold(f64::INFINITY, f64::min);
            worst = worst.max(d);
        }
        assert!(
            worst <= g.covering_radius,
            "{}: {worst} > {}",
            m.name(),
            g.covering_radius
        );
        // And the bound is not loose by more than a factor 4 (it is a useful h).
        assert!(worst >= g.covering_radius / 4.0, "{}: {worst}", m.name());
    }
}

/// The torus sample is uniform in area: the outer half (cos v > 0) carries
/// `(πR + 2ρ)/(2πR)` of it, not ½ (4 standard errors).
#[test]
fn torus_sample_is_area_uniform() {
    let (big, small) = (2.5, 1.0);
    let m = Manifold::Torus {
        major: big,
        minor: small,
    };
    let n = 40_000;
    let s = m.sample(n, &mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
    let outer = s.angles.iter().filter(|a| a[1].cos() > 0.0).count() as f64 / n as f64;
    let want = (PI * big + 2.0 * small) / (2.0 * PI * big);
    let se = (want * (1.0 - want) / n as f64).sqrt();
    assert!((outer - want).abs() < 4.0 * se, "{outer} vs {want}");
    assert!((m.volume() - 4.0 * PI * PI * big * small).abs() < 1e-12);
}

/// The reach of the ring torus is `min(ρ, R − ρ)`: every point of the set is at least that far
/// from its medial axis (the core circle and the z-axis), with equality attained.
#[test]
fn torus_reach_is_the_distance_to_its_medial_axis() {
    for (big, small) in [(2.5, 1.0), (1.5, 1.0)] {
        let m = Manifold::Torus {
            major: big,
            minor: small,
        };
        let g = m.grid(64);
        let mut d = f64::INFINITY;
        for p in g.points.outer_iter() {
            let rho = (p[0] * p[0] + p[1] * p[1]).sqrt();
            let to_core = ((rho - big).powi(2) + p[2] * p[2]).sqrt();
            d = d.min(to_core).min(rho);
        }
        assert!((d - m.reach()).abs() < 1e-9, "{d} vs {}", m.reach());
    }
}

proptest! {
    /// `P(e ≥ ε)` is non-increasing in ε, equals the count, and the curve's points agree.
    #[test]
    fn exceedance_is_monotone(
        e in prop::collection::vec(0.0f64..10.0, 1..200),
        eps in prop::collection::vec(-1.0f64..11.0, 2..20),
    ) {
        let mut eps = eps;
        eps.sort_by(f64::total_cmp);
        let c = Exceedance::new(&e);
        for w in eps.windows(2) {
            prop_assert!(c.at(w[0]) >= c.at(w[1]));
        }
        for &t in &eps {
            let count = e.iter().filter(|&&v| v >= t).count() as f64 / e.len() as f64;
            prop_assert_eq!(c.at(t), count);
            prop_assert_eq!(exceptional_fraction(&e, t), count);
        }
        for (x, p) in c.points(50) {
            prop_assert_eq!(p, c.at(x));
        }
    }

    /// The summary's quantiles lie between the extremes, in order, and the mean and RMS bracket
    /// each other (mean ≤ rms ≤ max).
    #[test]
    fn summary_is_consistent(e in prop::collection::vec(0.0f64..1e3, 1..300)) {
        let s = summarize(&e);
        let min = e.iter().copied().fold(f64::INFINITY, f64::min);
        prop_assert!(s.quantiles[0] >= min && s.quantiles[2] <= s.max);
        prop_assert!(s.quantiles[0] <= s.quantiles[1] && s.quantiles[1] <= s.quantiles[2]);
        prop_assert!(s.mean <= s.rms * (1.0 + 1e-12) && s.rms <= s.max * (1.0 + 1e-12));
    }
}

/// Errors that are large on two separate arcs of the circle form two pieces; the share of the
/// squared error is the ratio of the sums.
#[test]
fn bad_set_counts_its_pieces() {
    let (theta, x) = circle_grid(1.0, 1000);
    let e: Vec<f64> = theta
        .iter()
        .map(|&t| {
            if (1.0..1.2).contains(&t) || (4.0..4.1).contains(&t) {
                2.0
            } else {
                0.01
            }
        })
        .collect();
    let b = bad_set(x.view(), &e, 0.5, 0.05, 2000).unwrap();
    assert_eq!(b.components, 2);
    let nb = b.indices.len() as f64;
    assert_eq!(b.fraction, nb / 1000.0);
    let want = nb * 4.0 / (nb * 4.0 + (1000.0 - nb) * 1e-4);
    assert!((b.error_share - want).abs() < 1e-12);
    // A linking distance larger than the gap between the arcs joins them.
    assert_eq!(bad_set(x.view(), &e, 0.5, 3.0, 2000).unwrap().components, 1);
    assert_eq!(
        bad_set(x.view(), &e, 5.0, 0.05, 2000).unwrap().components,
        0
    );
}

/// Persistent Betti numbers at 10 % of the diameter recover the fixtures' closed forms.
#[test]
fn betti_numbers_of_the_fixtures() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for (m, n) in [
        (Manifold::Circle { radius: 1.0 }, 200),
        (Manifold::LinkedCircles, 300),
        // 2δ of a max–min net must stay below 10 % of the diameter: δ ≈ 0.07 at 1000 points.
        (Manifold::Sphere { radius: 1.0 }, 1000),
        (
            Manifold::Torus {
                major: 2.5,
                minor: 1.0,
            },
            900,
        ),
    ] {
        let s = m.sample(10 * n, &mut rng).points;
        let (rows, _) = farthest_points(s.view(), n);
        let s = s.select(ndarray::Axis(0), &rows);
        assert_eq!(
            topology::betti(s.view(), 0.1).unwrap(),
            m.betti(),
            "{}",
            m.name()
        );
    }
    // A segment has no loop; two far clusters are two components.
    let seg = Array2::from_shape_fn((50, 2), |(i, j)| if j == 0 { i as f64 } else { 0.0 });
    assert_eq!(topology::betti(seg.view(), 0.1).unwrap(), [1, 0]);
    let two = array![[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]];
    assert_eq!(topology::betti(two.view(), 0.1).unwrap(), [2, 0]);
}

/// Bad input: mismatched shapes name the reconstruction, non-finite entries their row and
/// column, an empty field is refused.
#[test]
fn errors_are_validated() {
    let x = array![[0.0, 1.0], [2.0, 3.0]];
    let short = array![[0.0, 1.0]];
    let msg = errors(x.view(), short.view(), "x.csv", "xhat.csv")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("xhat.csv"), "{msg}");
    let nan = array![[0.0, 1.0], [2.0, f64::NAN]];
    let msg = errors(x.view(), nan.view(), "x.csv", "xhat.csv")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("xhat.csv") && msg.contains("row 2") && msg.contains("column 2"),
        "{msg}"
    );
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(errors(empty.view(), empty.view(), "x", "y").is_err());
}
