//! Generation from a solved semi-discrete map, and the AE-OT extended map (METHODS §8).
//!
//! The OT map `T_h(x) = y_{argmax_i ⟨x, y_i⟩ + h_i}` sends source samples to target points only:
//! every cell receives its mass (no mode collapse) but nothing new is generated. The *extended*
//! map interpolates between the targets of adjacent cells near their common boundary — but only
//! where the supporting planes `⟨x, y_i⟩ + h_i` and `⟨x, y_j⟩ + h_j` of the Brenier potential meet at
//! a dihedral angle below a threshold,
//!
//! ```text
//! θ_ij = arccos⟨n_i, n_j⟩,   n_i = (y_i, −1)/|(y_i, −1)|,
//! ```
//!
//! never across a large angle, which marks the singular set of the OT map (a gap between modes):
//! so no mode mixture. For a sample `x` in cell `i` whose runner-up is `j` (the second largest
//! score), with score gap `g = s_i(x) − s_j(x) ≥ 0`, its distance to the boundary hyperplane is
//! `δ = g / |y_i − y_j|`; within a band of half-width `ρ` (half a typical cell width,
//! `ρ = ½·w·n^{−1/d}` with `w = 1` for the cube and `w = √12` for the normal source, the widths of
//! equal-variance cubes) the sample is mapped to
//!
//! ```text
//! T̃(x) = (1 − λ) y_i + λ y_j,   λ = ½ (1 − δ/ρ)  when θ_ij < max angle,  else  T̃(x) = y_i,
//! ```
//!
//! which is ½ on the boundary from both sides: continuous across every boundary below the angle
//! threshold (up to junctions of three or more cells, where only the runner-up is used).

use super::{Sdot, Source};
use crate::error::{Error, Result};
use crate::kernel::nearest::{smallest_shifted, sq_distance};
use ndarray::{Array2, ArrayView1, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// Generated points and how each was made.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The source samples, `m × d`.
    pub source_points: Array2<f64>,
    /// Their images, `m × d`.
    pub points: Array2<f64>,
    /// The cell (merged target row) of each sample.
    pub cell: Vec<usize>,
    /// `λ` of each sample (0: the target itself).
    pub lambda: Vec<f64>,
}

impl Generated {
    /// The fraction of samples mapped off the targets (`λ > 0`).
    pub fn interpolated_fraction(&self) -> f64 {
        self.lambda.iter().filter(|&&l| l > 0.0).count() as f64 / self.lambda.len().max(1) as f64
    }
}

/// The dihedral angle `θ_ij = arccos⟨n_i, n_j⟩` between the supporting planes of targets `y_i` and
/// `y_j`, `n = (y, −1)/|(y, −1)|` (radians, in `[0, π/2)`).
pub fn dihedral_angle(yi: ArrayView1<f64>, yj: ArrayView1<f64>) -> f64 {
    let ni = (yi.dot(&yi) + 1.0).sqrt();
    let nj = (yj.dot(&yj) + 1.0).sqrt();
    // From the chord |n_i − n_j| = 2 sin(θ/2): it keeps its digits for nearly parallel planes,
    // where the arccos of a cosine near 1 would not.
    let chord2: f64 = yi
        .iter()
        .zip(yj)
        .map(|(a, b)| (a / ni - b / nj).powi(2))
        .sum::<f64>()
        + (1.0 / ni - 1.0 / nj).powi(2);
    2.0 * (0.5 * chord2.sqrt()).min(1.0).asin()
}

/// Draws `m` seeded samples of the source.
pub fn source_samples(source: Source, m: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match source {
        Source::Cube => {
            let u = Uniform::new(-0.5, 0.5).expect("a valid interval");
            Array2::from_shape_simple_fn((m, d), || u.sample(&mut rng))
        }
        Source::Normal => Array2::from_shape_simple_fn((m, d), || StandardNormal.sample(&mut rng)),
    }
}

/// Generates `m` points from `m` seeded source samples through the extended map with threshold
/// `max_angle` (radians; `0`: the OT map itself, every point a target row). Errors: `max_angle`
/// negative or not finite ([`Error::InvalidParameter`]).
pub fn generate(s: &Sdot, m: usize, max_angle: f64, seed: u64) -> Result<Generated> {
    if !(max_angle.is_finite() && max_angle >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "max-angle".into(),
            value: format!("{max_angle:e}"),
            reason: "the angle threshold must be a finite number of radians ≥ 0".into(),
        });
    }
    let (n, d) = s.targets.dim();
    let y = s.targets.as_standard_layout();
    let x = source_samples(s.source, m, d, seed);
    let v: Vec<f64> = (0..n)
        .map(|i| {
            let r = y.row(i);
            sq_distance(r.as_slice().expect("standard layout"), &vec![0.0; d]) + 2.0 * s.h[i]
        })
        .collect();
    let top = smallest_shifted(x.view(), y.view(), &v, 2);
    let width = match s.source {
        Source::Cube => 1.0,
        Source::Normal => 12f64.sqrt(),
    };
    let rho = 0.5 * width * (n as f64).powf(-1.0 / d as f64);
    let mut points = Array2::zeros((m, d));
    let mut cell = Vec::with_capacity(m);
    let mut lambda = Vec::with_capacity(m);
    for (k, mut out) in points.axis_iter_mut(Axis(0)).enumerate() {
        let (cols, vals) = top.row(k);
        let i = cols[0] as usize;
        cell.push(i);
        let mut l = 0.0;
        if max_angle > 0.0 && cols.len() > 1 {
            let j = cols[1] as usize;
            // Scores s = (|x|² − r)/2, so the gap is (r_j − r_i)/2.
            let gap = 0.5 * (vals[1] - vals[0]);
            let dist = gap
                / sq_distance(
                    y.row(i).as_slice().expect("standard layout"),
                    y.row(j).as_slice().expect("standard layout"),
                )
                .sqrt();
            if dist < rho && dihedral_angle(y.row(i), y.row(j)) < max_angle {
                l = 0.5 * (1.0 - dist / rho);
                out.assign(&(&y.row(i) * (1.0 - l) + &y.row(j) * l));
            }
        }
        if l == 0.0 {
            out.assign(&y.row(i));
        }
        lambda.push(l);
    }
    Ok(Generated {
        source_points: x,
        points,
        cell,
        lambda,
    })
}
