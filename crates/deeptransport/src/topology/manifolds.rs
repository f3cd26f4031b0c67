//! Closed manifolds with known reach (METHODS §9): the fixtures on which an autoencoder's loss is
//! measured against an exact lower bound.
//!
//! **The bound.** For a closed k-manifold `K ⊂ ℝⁿ` with reach τ and continuous `F: ℝⁿ → ℝᵏ`,
//! `G: ℝᵏ → ℝⁿ`: `sup_{x∈K} |G(F(x)) − x| ≥ τ`. If not, every `G(F(x))` lies in the open τ-tube
//! of K, where the nearest-point projection π is continuous, and `x ↦ π(G(F(x)))` is homotopic
//! to the identity (straight segments stay in the tube) yet factors through an open set
//! `U ⊃ F(K)` of ℝᵏ, whose `H_k(U; ℤ/2) = 0` — while `H_k(K; ℤ/2) = ℤ/2`. The bound holds for
//! every closed k-manifold inside K, so for a union of components it is the largest component
//! reach ([`Manifold::sup_error_bound`]), which may exceed the reach of the union
//! ([`Manifold::reach`]). For a circle of radius r it is Borsuk–Ulam's `r`.
//!
//! **Reach** (Federer): `τ = min(1/κ_max, Δ/2)`, κ_max the largest normal curvature and Δ the
//! length of the shortest bottleneck (a chord normal to K at both ends) — Aamari et al. (2019),
//! Thm 3.4.

use ndarray::Array2;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

/// A closed manifold fixture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Manifold {
    /// The circle of this radius in the plane (k = 1, ℝ²).
    Circle {
        /// Radius r.
        radius: f64,
    },
    /// Two interlaced unit circles in ℝ³ (k = 1; Kvalheim & Sontag's example): `A` in the
    /// xy-plane about 0, `B` in the xz-plane about `(1, 0, 0)`; each passes through the other's
    /// centre, so `d(A, B) = 1`.
    LinkedCircles,
    /// The sphere S² of this radius (k = 2, ℝ³).
    Sphere {
        /// Radius r.
        radius: f64,
    },
    /// The ring torus in ℝ³ (k = 2) with major radius R and tube radius ρ < R.
    Torus {
        /// Distance R from the axis to the tube's core circle.
        major: f64,
        /// Tube radius ρ.
        minor: f64,
    },
}

/// Points on a fixture with their intrinsic coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifoldSample {
    /// The points, `n × ambient`.
    pub points: Array2<f64>,
    /// Intrinsic angles `(a, b)` of each point (b = 0 on curves): the circle's angle; on the
    /// linked circles the angle on its own circle; the sphere's polar and azimuthal angles; the
    /// torus' angle about the axis and around the tube.
    pub angles: Vec<[f64; 2]>,
    /// Connected component of each point (0, or 1 on circle B of the linked pair).
    pub component: Vec<usize>,
    /// For a grid: an upper bound `h` on the distance from any point of the manifold to the
    /// nearest grid point (its covering radius); 0 for a random sample.
    pub covering_radius: f64,
}

impl Manifold {
    /// The name used in rows and figures.
    pub fn name(&self) -> &'static str {
        match self {
            Manifold::Circle { .. } => "circle",
            Manifold::LinkedCircles => "linked-circles",
            Manifold::Sphere { .. } => "sphere",
            Manifold::Torus { .. } => "torus",
        }
    }

    /// Intrinsic dimension k (the bottleneck width that forces a loss).
    pub fn dim(&self) -> usize {
        match self {
            Manifold::Circle { .. } | Manifold::LinkedCircles => 1,
            Manifold::Sphere { .. } | Manifold::Torus { .. } => 2,
        }
    }

    /// Ambient dimension n.
    pub fn ambient_dim(&self) -> usize {
        match self {
            Manifold::Circle { .. } => 2,
            _ => 3,
        }
    }

    /// The exact reach τ of the set: circle and sphere `r` (curvature 1/r, antipodal
    /// bottlenecks 2r); linked circles `1/2` (curvature 1, but the circles are 1 apart: the
    /// bottleneck from the origin, on B, to any point of A); ring torus `min(ρ, R − ρ)` (the tube,
    /// curvature 1/ρ and bottleneck 2ρ; the hole, bottleneck 2(R − ρ)).
    pub fn reach(&self) -> f64 {
        match *self {
            Manifold::Circle { radius } | Manifold::Sphere { radius } => radius,
            Manifold::LinkedCircles => 0.5,
            Manifold::Torus { major, minor } => minor.min(major - minor),
        }
    }

    /// The lower bound on `sup_{x∈K} |G(F(x)) − x|` for any continuous autoencoder with a
    /// k-dimensional bottleneck: the largest reach of a connected component (module docs). Equal
    /// to [`reach`](Self::reach) except for the linked circles (1: each circle alone has reach 1).
    pub fn sup_error_bound(&self) -> f64 {
        match self {
            Manifold::LinkedCircles => 1.0,
            m => m.reach(),
        }
    }

    /// The k-dimensional volume: length `2πr`, `4π` (two unit circles), area `4πr²`, `4π²Rρ`.
    pub fn volume(&self) -> f64 {
        match *self {
            Manifold::Circle { radius } => 2.0 * PI * radius,
            Manifold::LinkedCircles => 4.0 * PI,
            Manifold::Sphere { radius } => 4.0 * PI * radius * radius,
            Manifold::Torus { major, minor } => 4.0 * PI * PI * major * minor,
        }
    }

    /// The diameter `max |x − y|` over the set: `2r`; 3 for the linked circles (from `(−1, 0, 0)`
    /// on A to `(2, 0, 0)` on B); `2(R + ρ)` for the torus.
    pub fn diameter(&self) -> f64 {
        match *self {
            Manifold::Circle { radius } | Manifold::Sphere { radius } => 2.0 * radius,
            Manifold::LinkedCircles => 3.0,
            Manifold::Torus { major, minor } => 2.0 * (major + minor),
        }
    }

    /// The typical spacing `(vol/n)^{1/k}` of `n` uniform points.
    pub fn spacing(&self, n: usize) -> f64 {
        (self.volume() / n as f64).powf(1.0 / self.dim() as f64)
    }

    /// Betti numbers `[b₀, b₁]` of the manifold.
    pub fn betti(&self) -> [usize; 2] {
        match self {
            Manifold::Circle { .. } => [1, 1],
            Manifold::LinkedCircles => [2, 2],
            Manifold::Sphere { .. } => [1, 0],
            Manifold::Torus { .. } => [1, 2],
        }
    }

    /// `n` points drawn from the uniform (k-dimensional volume) measure.
    pub fn sample(&self, n: usize, rng: &mut impl Rng) -> ManifoldSample {
        let mut params = Vec::with_capacity(n);
        for _ in 0..n {
            let u: f64 = rng.random::<f64>() * 2.0 * PI;
            params.push(match *self {
                Manifold::Circle { .. } => ([u, 0.0], 0),
                // Equal lengths: each circle with probability ½.
                Manifold::LinkedCircles => ([u, 0.0], usize::from(rng.random::<bool>())),
                Manifold::Sphere { .. } => {
                    let g: [f64; 3] = std::array::from_fn(|_| StandardNormal.sample(rng));
                    let r = (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt();
                    ([(g[2] / r).clamp(-1.0, 1.0).acos(), g[1].atan2(g[0])], 0)
                }
                Manifold::Torus { major, minor } => {
                    // The area element is ρ(R + ρ cos v) du dv: v by rejection.
                    let v = loop {
                        let v: f64 = rng.random::<f64>() * 2.0 * PI;
                        if rng.random::<f64>() * (major + minor) <= major + minor * v.cos() {
                            break v;
                        }
                    };
                    ([u, v], 0)
                }
            });
        }
        self.at(&params, 0.0)
    }

    /// A deterministic grid on the manifold of about `m` points per unit of intrinsic length
    /// along each angle's circle (circles: `m` per circle; sphere: `m` latitude rings × `2m`
    /// meridians; torus: `m` around the tube × `⌈m(R + ρ)/ρ⌉` about the axis), with its covering
    /// radius `h` (so a `L`-Lipschitz error field's supremum on the manifold is at most its grid
    /// maximum `+ L h`).
    pub fn grid(&self, m: usize) -> ManifoldSample {
        let m = m.max(2);
        let step = |k: usize, count: usize| 2.0 * PI * k as f64 / count as f64;
        let (params, h): (Vec<([f64; 2], usize)>, f64) = match *self {
            // The arc between neighbours is 2π r/m; the farthest point is its midpoint.
            Manifold::Circle { radius } => (
                (0..m).map(|k| ([step(k, m), 0.0], 0)).collect(),
                2.0 * radius * (PI / (2.0 * m as f64)).sin(),
            ),
            Manifold::LinkedCircles => (
                (0..2)
                    .flat_map(|c| (0..m).map(move |k| ([step(k, m), 0.0], c)))
                    .collect(),
                2.0 * (PI / (2.0 * m as f64)).sin(),
            ),
            // Rings at polar angles (i + ½)π/m, meridians every π/m: any point is within π/(2m)
            // of a ring along its meridian, then within r π/(2m) along that ring.
            Manifold::Sphere { radius } => (
                (0..m)
                    .flat_map(|i| {
                        (0..2 * m)
                            .map(move |j| ([(i as f64 + 0.5) * PI / m as f64, step(j, 2 * m)], 0))
                    })
                    .collect(),
                radius * PI / m as f64,
            ),
            // Within ρ·π/m_v around the tube, then (R + ρ)·π/m_u about the axis.
            Manifold::Torus { major, minor } => {
                let mv = m;
                let mu = (m as f64 * (major + minor) / minor).ceil() as usize;
                (
                    (0..mu)
                        .flat_map(|i| (0..mv).map(move |j| ([step(i, mu), step(j, mv)], 0)))
                        .collect(),
                    minor * PI / mv as f64 + (major + minor) * PI / mu as f64,
                )
            }
        };
        self.at(&params, h)
    }

    /// The points at these intrinsic coordinates.
    fn at(&self, params: &[([f64; 2], usize)], covering_radius: f64) -> ManifoldSample {
        let n = params.len();
        let mut points = Array2::zeros((n, self.ambient_dim()));
        for (i, &([a, b], c)) in params.iter().enumerate() {
            let p = match *self {
                Manifold::Circle { radius } => [radius * a.cos(), radius * a.sin(), 0.0],
                Manifold::LinkedCircles if c == 0 => [a.cos(), a.sin(), 0.0],
                Manifold::LinkedCircles => [1.0 + a.cos(), 0.0, a.sin()],
                Manifold::Sphere { radius } => [
                    radius * a.sin() * b.cos(),
                    radius * a.sin() * b.sin(),
                    radius * a.cos(),
                ],
                Manifold::Torus { major, minor } => {
                    let w = major + minor * b.cos();
                    [w * a.cos(), w * a.sin(), minor * b.sin()]
                }
            };
            for (k, v) in points.row_mut(i).iter_mut().enumerate() {
                *v = p[k];
            }
        }
        ManifoldSample {
            points,
            angles: params.iter().map(|p| p.0).collect(),
            component: params.iter().map(|p| p.1).collect(),
            covering_radius,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The reach is at most the distance from a point of the set to the nearest point of the
    /// medial axis, and every sample point's distance to the set's known medial points is at
    /// least τ; the bottleneck that attains it is found on a fine grid.
    #[test]
    fn linked_circles_are_one_apart() {
        let g = Manifold::LinkedCircles.grid(2000);
        let (a, b): (Vec<usize>, Vec<usize>) =
            (0..g.points.nrows()).partition(|&i| g.component[i] == 0);
        let mut dmin = f64::INFINITY;
        for &i in a.iter().step_by(7) {
            for &j in &b {
                let d = (&g.points.row(i) - &g.points.row(j))
                    .mapv(|v| v * v)
                    .sum()
                    .sqrt();
                dmin = dmin.min(d);
            }
        }
        assert!((dmin - 1.0).abs() < 1e-12, "{dmin}");
    }

    #[test]
    fn samples_lie_on_the_manifolds() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for m in [
            Manifold::Circle { radius: 2.0 },
            Manifold::Sphere { radius: 1.5 },
            Manifold::Torus {
                major: 2.5,
                minor: 1.0,
            },
        ] {
            let s = m.sample(500, &mut rng);
            for p in s.points.outer_iter() {
                let r = match m {
                    Manifold::Torus { major, .. } => {
                        let w = (p[0] * p[0] + p[1] * p[1]).sqrt() - major;
                        (w * w + p[2] * p[2]).sqrt()
                    }
                    _ => p.mapv(|v| v * v).sum().sqrt(),
                };
                let want = match m {
                    Manifold::Circle { radius } | Manifold::Sphere { radius } => radius,
                    Manifold::Torus { minor, .. } => minor,
                    _ => unreachable!(),
                };
                assert!((r - want).abs() < 1e-12);
            }
        }
    }
}
