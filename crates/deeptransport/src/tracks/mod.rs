//! Tracks of a network (METHODS §7; Gai & Zhang, seed 002): how a network moves its inputs,
//! scored per input by the line-shape score and per layer range by optimal-transport quantities.
//!
//! For inputs `i = 1..n` with representations `x_i⁽ᴵ⁾, …, x_i⁽ᴶ⁾` over the scored layers
//! (`m = J − I` steps `Δ_ℓ x_i = x_i⁽ˡ⁾ − x_i⁽ˡ⁻¹⁾`, layers of different widths zero-padded):
//!
//! - **line-shape score** (unit-step form) `LSS_i = m_i / |Σ_ℓ Δ_ℓ x_i / |Δ_ℓ x_i||` ≥ 1 over the
//!   `m_i` non-zero steps (zero steps dropped; no non-zero step: undefined; an exactly reversing
//!   track, `Σ u = 0`: `+∞`); also the path length `Σ_ℓ |Δ_ℓ x_i|` and the chord `|x_i⁽ᴶ⁾ − x_i⁽ᴵ⁾|`;
//! - **optimal-transport score** `OTS = #{i : σ*(i) = i}/n` for the exact optimal assignment `σ*`
//!   between `{x_i⁽ᴵ⁾}` and `{x_i⁽ᴶ⁾}` (uniform weights, cost `|x − y|²`), and the **cost ratio**
//!   `W₂²(μ_I, μ_J) / ((1/n) Σ_i |x_i⁽ᴶ⁾ − x_i⁽ᴵ⁾|²)` ∈ [0, 1];
//! - **geodesic quantities**: `W₂(μ_ℓ₋₁, μ_ℓ)` per step, `W₂(μ_I, μ_J)`, the geodesic ratio
//!   `Σ_ℓ W₂(μ_ℓ₋₁, μ_ℓ) / W₂(μ_I, μ_J)` ≥ 1, the action `A = m Σ_ℓ (1/n) Σ_i |Δ_ℓ x_i|²` and the
//!   action ratio `A / W₂²(μ_I, μ_J)` ≥ 1, with equality iff the tracks are straight constant-speed
//!   segments of the OT map (a W₂ geodesic).
//!
//! The OT quantities use at most [`TrackOptions::max_samples`] inputs (a seeded subsample, the same
//! one at every layer). Ratios of `0/0` (a network that moves nothing) are 1: the identity is the
//! optimal map and a constant track is a geodesic.
//!
//! [`TrackScorer`] takes the layers one at a time and keeps only the first layer, the previous
//! one and per-input running sums, so a stack of activations larger than memory can be scored
//! from disk.

use crate::error::{Error, Result};
use crate::flow::Trajectory;
use crate::wasserstein::{Plan, uniform_ot};
use ndarray::{Array2, ArrayView2, Axis, s};
use rand::SeedableRng;

/// Options of [`TrackScorer`] and [`score`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrackOptions {
    /// Inputs used by the optimal-transport quantities (OTS, W₂ steps, action): all of them when
    /// `n ≤ max_samples`, else a uniformly random subset of this size drawn from `seed`.
    pub max_samples: usize,
    /// Seed of that subset.
    pub seed: u64,
}

impl Default for TrackOptions {
    fn default() -> Self {
        TrackOptions {
            max_samples: 10_000,
            seed: 0,
        }
    }
}

/// Scores of the tracks over one layer range.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackScores {
    /// Inputs `n`.
    pub n: usize,
    /// Layers scored, `m + 1`.
    pub layers: usize,
    /// The width of each scored layer.
    pub widths: Vec<usize>,
    /// `LSS_i` per input; `None` when the track has no non-zero step.
    pub lss: Vec<Option<f64>>,
    /// `Σ_ℓ |Δ_ℓ x_i|` per input.
    pub path_length: Vec<f64>,
    /// `|x_i⁽ᴶ⁾ − x_i⁽ᴵ⁾|` per input.
    pub chord: Vec<f64>,
    /// Per input: whether the optimal assignment fixes it (`σ*(i) = i`); `None` outside the OT
    /// subsample.
    pub fixed_point: Vec<Option<bool>>,
    /// Mean of the defined `LSS_i` (`None` when none is defined).
    pub lss_mean: Option<f64>,
    /// Median of the defined `LSS_i` (the mean of the two middle ones for an even count).
    pub lss_median: Option<f64>,
    /// Tracks with no non-zero step.
    pub lss_undefined: usize,
    /// `#{i : σ*(i) = i} / ots_n`.
    pub ots: f64,
    /// `W₂²(μ_I, μ_J) / mean_i |x_i⁽ᴶ⁾ − x_i⁽ᴵ⁾|²` on the OT subsample.
    pub ots_cost_ratio: f64,
    /// The size of the OT subsample.
    pub ots_n: usize,
    /// `W₂(μ_ℓ₋₁, μ_ℓ)`, `m` values.
    pub w2_steps: Vec<f64>,
    /// `W₂(μ_I, μ_J)`.
    pub w2_end_to_end: f64,
    /// `Σ_ℓ W₂(μ_ℓ₋₁, μ_ℓ) / W₂(μ_I, μ_J)`.
    pub geodesic_ratio: f64,
    /// `A = m Σ_ℓ mean_i |Δ_ℓ x_i|²` on the OT subsample.
    pub action: f64,
    /// `A / W₂²(μ_I, μ_J)`.
    pub action_ratio: f64,
}

/// `|v|`, scaled by the largest entry so that no square overflows or underflows (coordinates
/// near `10¹⁵⁴` or `10⁻¹⁶⁰` keep their full precision).
fn norm(v: &[f64]) -> f64 {
    let big = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if big == 0.0 || !big.is_finite() {
        return big;
    }
    big * v.iter().map(|x| (x / big) * (x / big)).sum::<f64>().sqrt()
}

/// A sum of squares `Σ x_k²` kept as `scale² · ssq` (LAPACK's `lassq`), so that sums of squared
/// distances between points near `10²⁰⁰` neither overflow nor lose precision.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SumSq {
    scale: f64,
    ssq: f64,
}

impl SumSq {
    const ZERO: SumSq = SumSq {
        scale: 0.0,
        ssq: 0.0,
    };

    /// Adds `x²` (`x ≥ 0` finite).
    fn add(&mut self, x: f64) {
        if x == 0.0 {
            return;
        }
        if x > self.scale {
            self.ssq = 1.0 + self.ssq * (self.scale / x) * (self.scale / x);
            self.scale = x;
        } else {
            self.ssq += (x / self.scale) * (x / self.scale);
        }
    }

    /// `(self / other)`, computed without forming either (`0/0 = 1`).
    fn ratio(self, other: SumSq) -> f64 {
        if self.ssq == 0.0 && other.ssq == 0.0 {
            return 1.0;
        }
        (self.scale / other.scale) * (self.scale / other.scale) * (self.ssq / other.ssq)
    }

    /// `Σ x_k²` (`+∞` past the largest double).
    fn value(self) -> f64 {
        self.scale * self.scale * self.ssq
    }
}

/// The exact OT between two uniform clouds, solved on both divided by the power of two `s` just
/// above their largest coordinate (exact, so the assignment is unchanged, and no squared distance
/// overflows); returns `W₂` (scaled back), `W₂²` as a [`SumSq`], and the plan.
fn scaled_ot(
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    what: &str,
) -> Result<(f64, SumSq, Option<Plan>)> {
    let big = a.iter().chain(b.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
    let s = if big == 0.0 {
        1.0
    } else {
        2f64.powi(big.log2().ceil() as i32)
    };
    let r = uniform_ot((&a / s).view(), (&b / s).view(), what)?;
    let cost = r.cost.max(0.0);
    Ok((
        s * cost.sqrt(),
        SumSq {
            scale: s,
            ssq: cost,
        },
        r.plan,
    ))
}

/// `a / b` with `0/0 = 1`.
fn ratio(a: f64, b: f64) -> f64 {
    if a == 0.0 && b == 0.0 { 1.0 } else { a / b }
}

/// The tracks' scores accumulated layer by layer: [`TrackScorer::new`] with the first scored
/// layer, [`TrackScorer::push`] for each next one, [`TrackScorer::finish`]. Memory: three
/// `n × width` arrays (the first layer, the previous one, the running sum of unit steps) plus the
/// OT subsample, whatever the number of layers.
#[derive(Debug, Clone)]
pub struct TrackScorer {
    widths: Vec<usize>,
    first: Array2<f64>,
    prev: Array2<f64>,
    unit_sum: Array2<f64>,
    nonzero_steps: Vec<u32>,
    path: Vec<f64>,
    /// Row indices of the OT subsample, increasing.
    sample: Vec<usize>,
    w2_steps: Vec<f64>,
    /// `Σ_ℓ Σ_{i ∈ sample} |Δ_ℓ x_i|²`.
    sq_steps: SumSq,
}

/// `Error::NonFinite` naming the layer.
fn check_layer(what: &str, x: ArrayView2<f64>) -> Result<()> {
    crate::error::check_finite(what, x)
}

/// `a` widened to `width` columns by zero padding.
fn pad(a: ArrayView2<f64>, width: usize) -> Array2<f64> {
    let mut out = Array2::zeros((a.nrows(), width));
    out.slice_mut(s![.., ..a.ncols()]).assign(&a);
    out
}

impl TrackScorer {
    /// Starts with the first scored layer `x⁽ᴵ⁾` (`n × d_I`, finite, `n ≥ 1`).
    pub fn new(first: ArrayView2<f64>, opts: TrackOptions) -> Result<Self> {
        if first.nrows() == 0 || first.ncols() == 0 {
            return Err(Error::Empty {
                what: "layer 1 (no inputs or zero width)".into(),
            });
        }
        if opts.max_samples == 0 {
            return Err(Error::InvalidParameter {
                name: "max samples".into(),
                value: "0".into(),
                reason: "the OT quantities need at least one input".into(),
            });
        }
        check_layer("layer 1", first)?;
        let n = first.nrows();
        let sample = if n <= opts.max_samples {
            (0..n).collect()
        } else {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
            let mut idx = rand::seq::index::sample(&mut rng, n, opts.max_samples).into_vec();
            idx.sort_unstable();
            idx
        };
        Ok(TrackScorer {
            widths: vec![first.ncols()],
            first: first.to_owned(),
            prev: first.to_owned(),
            unit_sum: Array2::zeros(first.dim()),
            nonzero_steps: vec![0; n],
            path: vec![0.0; n],
            sample,
            w2_steps: Vec::new(),
            sq_steps: SumSq::ZERO,
        })
    }

    /// The number of inputs `n`.
    pub fn n(&self) -> usize {
        self.first.nrows()
    }

    /// Widens the stored arrays to `width` columns (zero padding), when a layer is wider.
    fn widen(&mut self, width: usize) {
        if width > self.first.ncols() {
            self.first = pad(self.first.view(), width);
            self.prev = pad(self.prev.view(), width);
            self.unit_sum = pad(self.unit_sum.view(), width);
        }
    }

    /// Adds the next layer `x⁽ˡ⁾` (`n × d_ℓ`, the same inputs in the same order, finite): updates
    /// every input's unit-step sum and path length, and solves `W₂(μ_ℓ₋₁, μ_ℓ)` on the subsample.
    /// Cost `O(n·d)` plus one exact OT of the subsample.
    pub fn push(&mut self, layer: ArrayView2<f64>) -> Result<()> {
        let k = self.widths.len() + 1;
        if layer.nrows() != self.n() {
            return Err(Error::DimensionMismatch {
                what: format!("inputs (rows) of layer {k}; layer 1 has {}", self.n()),
                expected: self.n(),
                got: layer.nrows(),
            });
        }
        if layer.ncols() == 0 {
            return Err(Error::Empty {
                what: format!("layer {k} (zero width)"),
            });
        }
        check_layer(&format!("layer {k}"), layer)?;
        self.widen(layer.ncols());
        let width = self.first.ncols();
        let cur = pad(layer, width);
        let mut step = vec![0.0; width];
        let mut next_sample = self.sample.iter().peekable();
        for i in 0..self.n() {
            for (s, (a, b)) in step.iter_mut().zip(cur.row(i).iter().zip(self.prev.row(i))) {
                *s = a - b;
            }
            let len = norm(&step);
            if !len.is_finite() {
                return Err(Error::InvalidParameter {
                    name: format!("layer {k}, row {}", i + 1),
                    value: "a step longer than the largest double".into(),
                    reason: "coordinates this large (beyond ~1e307) cannot be scored".into(),
                });
            }
            if next_sample.peek() == Some(&&i) {
                next_sample.next();
                self.sq_steps.add(len);
            }
            if len > 0.0 {
                self.nonzero_steps[i] += 1;
                self.path[i] += len;
                for (u, s) in self.unit_sum.row_mut(i).iter_mut().zip(&step) {
                    *u += s / len;
                }
            }
        }
        let a = self.prev.select(Axis(0), &self.sample);
        let b = cur.select(Axis(0), &self.sample);
        let (w2, _, _) = scaled_ot(a.view(), b.view(), &format!("the step to layer {k}"))?;
        self.w2_steps.push(w2);
        self.prev = cur;
        self.widths.push(layer.ncols());
        Ok(())
    }

    /// The scores, after at least one [`push`](TrackScorer::push). Solves the end-to-end optimal
    /// assignment on the subsample.
    pub fn finish(self) -> Result<TrackScores> {
        let m = self.w2_steps.len();
        if m == 0 {
            return Err(Error::InvalidParameter {
                name: "layers".into(),
                value: "1".into(),
                reason: "a track needs at least two layers (one step)".into(),
            });
        }
        let n = self.n();
        let lss: Vec<Option<f64>> = (0..n)
            .map(|i| {
                (self.nonzero_steps[i] > 0).then(|| {
                    self.nonzero_steps[i] as f64
                        / norm(self.unit_sum.row(i).as_slice().expect("standard layout"))
                })
            })
            .collect();
        let chord: Vec<f64> = (0..n)
            .map(|i| {
                let d: Vec<f64> = self
                    .prev
                    .row(i)
                    .iter()
                    .zip(self.first.row(i))
                    .map(|(a, b)| a - b)
                    .collect();
                norm(&d)
            })
            .collect();
        let mut defined: Vec<f64> = lss.iter().flatten().copied().collect();
        defined.sort_by(f64::total_cmp);
        let lss_undefined = n - defined.len();
        let lss_mean =
            (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
        let lss_median = (!defined.is_empty()).then(|| {
            let h = defined.len() / 2;
            if defined.len() % 2 == 1 {
                defined[h]
            } else {
                0.5 * (defined[h - 1] + defined[h])
            }
        });

        let a = self.first.select(Axis(0), &self.sample);
        let b = self.prev.select(Axis(0), &self.sample);
        let (w2_end_to_end, w2sq, plan) =
            scaled_ot(a.view(), b.view(), "the end-to-end assignment")?;
        let ns = self.sample.len();
        let Some(Plan::Sparse { rows, cols, mass }) = plan else {
            return Err(Error::NotConverged(
                "the exact solver returned no sparse plan".into(),
            ));
        };
        let mut fixed_in_sample = vec![false; ns];
        for ((&r, &c), &w) in rows.iter().zip(&cols).zip(&mass) {
            if r == c && w > 0.0 {
                fixed_in_sample[r] = true;
            }
        }
        let mut fixed_point = vec![None; n];
        for (k, &i) in self.sample.iter().enumerate() {
            fixed_point[i] = Some(fixed_in_sample[k]);
        }
        let ots = fixed_in_sample.iter().filter(|&&f| f).count() as f64 / ns as f64;
        // W₂² and the sums of squares below are all "Σ over the subsample" up to the common 1/ns.
        let w2sq_sum = SumSq {
            scale: w2sq.scale * (ns as f64).sqrt(),
            ssq: w2sq.ssq,
        };
        let mut chords = SumSq::ZERO;
        self.sample.iter().for_each(|&i| chords.add(chord[i]));
        let mut action = self.sq_steps;
        action.ssq *= m as f64;
        Ok(TrackScores {
            n,
            layers: m + 1,
            widths: self.widths,
            lss,
            path_length: self.path,
            chord,
            fixed_point,
            lss_mean,
            lss_median,
            lss_undefined,
            ots,
            ots_cost_ratio: w2sq_sum.ratio(chords).min(1.0),
            ots_n: ns,
            geodesic_ratio: ratio(self.w2_steps.iter().sum(), w2_end_to_end),
            w2_steps: self.w2_steps,
            w2_end_to_end,
            action: action.value() / ns as f64,
            action_ratio: action.ratio(w2sq_sum),
        })
    }
}

/// The scores of the slices `from..=to` of a trajectory ([`TrackScorer`] over them).
pub fn score(traj: &Trajectory, from: usize, to: usize, opts: TrackOptions) -> Result<TrackScores> {
    if from >= to || to >= traj.len_times() {
        return Err(Error::InvalidParameter {
            name: "layer range".into(),
            value: format!("{from}..{to}"),
            reason: format!(
                "needs from < to < {} (the number of layers)",
                traj.len_times()
            ),
        });
    }
    let mut s = TrackScorer::new(traj.at(from), opts)?;
    for k in from + 1..=to {
        s.push(traj.at(k))?;
    }
    s.finish()
}

/// The track distance of inputs `a` and `b`, `d = min_ℓ |x_a⁽ˡ⁾ − x_b⁽ˡ⁾|`, and the slides' lower
/// bound for a geodesic network `|x_a − x_b|·|f(x_a) − f(x_b)| / √(|x_a − x_b|² + |f(x_a) − f(x_b)|²)`
/// (first and last slice; 0 when both distances are 0). Panics if `a` or `b` is out of range.
pub fn track_distance(traj: &Trajectory, a: usize, b: usize) -> (f64, f64) {
    let dist = |k: usize| {
        let d: Vec<f64> = traj
            .at(k)
            .row(a)
            .iter()
            .zip(traj.at(k).row(b))
            .map(|(p, q)| p - q)
            .collect();
        norm(&d)
    };
    let d = (0..traj.len_times())
        .map(dist)
        .fold(f64::INFINITY, f64::min);
    let (p, q) = (dist(0), dist(traj.len_times() - 1));
    let h = norm(&[p, q]);
    let bound = if h == 0.0 { 0.0 } else { p * (q / h) };
    (d, bound)
}
