//! Semi-discrete OT in any dimension by quasi-Monte-Carlo cell masses and Adam (METHODS §8; the
//! reference code's algorithm, pyOMT, made exact per iteration and fast).
//!
//! The source is represented by `N` Sobol points (the `sobol` crate, Joe–Kuo parameters, a
//! seeded random shift modulo 1; `Φ⁻¹` per coordinate for the normal source), so that
//! `μ̂(W_i(h)) = #{s : T_h(x_s) = y_i} / N` and the gradient of the energy is `μ̂(W_i) − ν_i`.
//! Adam (β₁ = 0.9, β₂ = 0.999, bias-corrected) steps on `h`, re-centred to mean zero after each
//! step. When the error `max_i |μ̂_i − ν_i|/ν_i` has not improved for [`PATIENCE`] steps the sample
//! count doubles (the next `N` points of the same sequence) up to a memory cap, then the step
//! size halves; the best `h` seen (for the current `N`) is returned.
//!
//! **The assignment `T_h(x_s) = argmax_i ⟨x_s, y_i⟩ + h_i` of every sample at every step** is the
//! `O(N·n·d)` part. It is done by the kernel ([`crate::kernel::nearest::smallest_shifted`]: the
//! smallest `|x − y_i|² − v_i` with `v_i = |y_i|² + 2h_i` is the largest score), but not at every
//! step: a scan keeps each sample's [`CANDIDATES`] best targets and the value `f_s` of the last
//! one. When `h` moves from the scan's `h⁰`, no other target can overtake while
//! `min_c (r_sc − 2(h_c − h⁰_c)) < f_s − 2·max_i (h_i − h⁰_i)`, so the step reads the exact
//! argmax from the candidates in `O(N·k)`; only samples that fail the test are scanned again.
//! The result is the exact argmax of every sample at every step (ties: the smaller index), as a
//! full scan would give, at a fraction of the cost.

use super::{SdotOptions, Source, max_relative_error};
use crate::error::{Error, Result};
use crate::kernel::nearest::{smallest_shifted, sq_distance};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Candidate targets kept per sample.
pub const CANDIDATES: usize = 8;
/// Steps without improvement before the sample count doubles (or the step size halves; after
/// ten halvings at the largest sample count the solver stops, not converged).
pub const PATIENCE: usize = 40;
/// Initial number of samples.
pub const INITIAL_SAMPLES: usize = 1 << 14;
/// Memory for the samples and their candidates.
const SAMPLE_BYTES: usize = 1 << 29;
/// Samples per parallel task (fixed, so sums do not depend on the thread count).
const CHUNK: usize = 4096;
/// Scan snapshots kept before a full rescan.
const MAX_SNAPSHOTS: usize = 8;

/// The QMC solution.
#[derive(Debug, Clone)]
pub struct QmcResult {
    /// The best potential found (mean zero).
    pub h: Array1<f64>,
    /// `μ̂(W_i(h))` on the final sample set.
    pub masses: Array1<f64>,
    /// Adam steps made.
    pub iterations: usize,
    /// `(1/N) Σ_s |x_s − T_h(x_s)|²`.
    pub transport_cost: f64,
    /// Samples of the final estimate.
    pub samples: usize,
}

/// Source samples from a shifted Sobol sequence (the first point, the origin, skipped).
pub struct SobolSamples {
    seq: sobol::Sobol<f64>,
    shift: Vec<f64>,
    source: Source,
    d: usize,
}

impl SobolSamples {
    /// A sequence in dimension `d` (`1 ≤ d ≤ 1000`, the Joe–Kuo table), shifted by a seeded
    /// uniform vector modulo 1.
    pub fn new(d: usize, source: Source, seed: u64) -> Result<Self> {
        if d == 0 || d > 1000 {
            return Err(Error::InvalidParameter {
                name: "dimension".into(),
                value: d.to_string(),
                reason: "quasi-Monte-Carlo sampling supports 1 to 1000 dimensions".into(),
            });
        }
        let params = sobol::params::JoeKuoD6::standard();
        let mut seq = sobol::Sobol::<f64>::new(d, &params);
        seq.next();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shift = (0..d).map(|_| rng.random::<f64>()).collect();
        Ok(SobolSamples {
            seq,
            shift,
            source,
            d,
        })
    }

    /// The next `m` points of the source, `m × d`.
    pub fn take(&mut self, m: usize) -> Array2<f64> {
        let mut out = Array2::zeros((m, self.d));
        for mut row in out.rows_mut() {
            let p = self.seq.next().unwrap_or_else(|| vec![0.5; self.d]);
            for ((o, u), s) in row.iter_mut().zip(p).zip(&self.shift) {
                let v = u + s;
                *o = if v >= 1.0 { v - 1.0 } else { v };
            }
        }
        let source = self.source;
        out.as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(CHUNK)
            .for_each(|c| {
                for v in c {
                    *v = match source {
                        Source::Cube => *v - 0.5,
                        // Keep u inside (0, 1): the shifted point can land on 0.
                        Source::Normal => {
                            super::one_d::normal_quantile(v.clamp(f64::EPSILON, 1.0 - f64::EPSILON))
                        }
                    }
                }
            });
        out
    }
}

/// Candidate lists of every sample and the scans they came from.
struct Candidates {
    k: usize,
    cols: Vec<u32>,
    vals: Vec<f64>,
    floor: Vec<f64>,
    snap: Vec<u16>,
    snaps: Vec<Array1<f64>>,
}

/// `v_i = |y_i|² + 2h_i`.
fn shifts(y: ArrayView2<f64>, norms: &[f64], h: ArrayView1<f64>) -> Vec<f64> {
    (0..y.nrows()).map(|i| norms[i] + 2.0 * h[i]).collect()
}

impl Candidates {
    fn scan(x: ArrayView2<f64>, y: ArrayView2<f64>, norms: &[f64], h: ArrayView1<f64>) -> Self {
        let n = y.nrows();
        let k = CANDIDATES.min(n);
        let s = smallest_shifted(x, y, &shifts(y, norms, h), k);
        let floor = (0..x.nrows())
            .map(|r| {
                if k < n {
                    s.row(r).1[k - 1]
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        Candidates {
            k,
            cols: s.cols,
            vals: s.values,
            floor,
            snap: vec![0; x.nrows()],
            snaps: vec![h.to_owned()],
        }
    }

    /// The exact argmax of every sample for `h`, rescanning the samples whose candidates no
    /// longer certify it (module docs).
    fn assign(
        &mut self,
        x: ArrayView2<f64>,
        y: ArrayView2<f64>,
        norms: &[f64],
        h: ArrayView1<f64>,
    ) -> Vec<u32> {
        let n = y.nrows();
        // Per snapshot: 2·max_i (h_i − h⁰_i), the most any non-candidate can have gained.
        let gain: Vec<f64> = self
            .snaps
            .iter()
            .map(|h0| {
                2.0 * h
                    .iter()
                    .zip(h0)
                    .map(|(a, b)| a - b)
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let k = self.k;
        let mut labels = vec![0u32; x.nrows()];
        let failed: Vec<usize> = labels
            .par_chunks_mut(CHUNK)
            .enumerate()
            .flat_map_iter(|(c, lab)| {
                let mut bad = Vec::new();
                for (o, l) in lab.iter_mut().enumerate() {
                    let s = c * CHUNK + o;
                    let h0 = &self.snaps[self.snap[s] as usize];
                    let (mut best, mut arg) = (f64::INFINITY, u32::MAX);
                    for q in s * k..(s + 1) * k {
                        let j = self.cols[q];
                        let r = self.vals[q] - 2.0 * (h[j as usize] - h0[j as usize]);
                        if r < best || (r == best && j < arg) {
                            best = r;
                            arg = j;
                        }
                    }
                    *l = arg;
                    if k < n && best >= self.floor[s] - gain[self.snap[s] as usize] {
                        bad.push(s);
                    }
                }
                bad
            })
            .collect();
        if failed.is_empty() {
            return labels;
        }
        if self.snaps.len() >= MAX_SNAPSHOTS || failed.len() * 4 > x.nrows() {
            *self = Candidates::scan(x, y, norms, h);
            return (0..x.nrows()).map(|s| self.cols[s * k]).collect();
        }
        let sub = x.select(Axis(0), &failed);
        let s = smallest_shifted(sub.view(), y, &shifts(y, norms, h), k);
        let id = self.snaps.len() as u16;
        self.snaps.push(h.to_owned());
        for (r, &i) in failed.iter().enumerate() {
            let (cols, vals) = s.row(r);
            self.cols[i * k..(i + 1) * k].copy_from_slice(cols);
            self.vals[i * k..(i + 1) * k].copy_from_slice(vals);
            self.floor[i] = vals[k - 1];
            self.snap[i] = id;
            labels[i] = cols[0];
        }
        labels
    }
}

/// Cell masses `#{s : label_s = i} / N`.
fn masses(labels: &[u32], n: usize) -> Array1<f64> {
    let mut m = Array1::zeros(n);
    for &l in labels {
        m[l as usize] += 1.0;
    }
    m / labels.len() as f64
}

/// The QMC cell masses `μ̂(W_i(h))` of a fixed sample set, for one `h` after another: every
/// sample's exact cell from cached candidates, rescanning only the samples they no longer
/// certify (module docs).
pub struct CellCounter {
    x: Array2<f64>,
    y: Array2<f64>,
    norms: Vec<f64>,
    cand: Candidates,
}

impl CellCounter {
    /// Samples `x` (`N × d`) and targets `y` (`n × d`), with a first scan at `h`.
    pub fn new(x: Array2<f64>, y: ArrayView2<f64>, h: ArrayView1<f64>) -> Self {
        let y = y.as_standard_layout().into_owned();
        let zero = vec![0.0; y.ncols()];
        let norms: Vec<f64> = y
            .rows()
            .into_iter()
            .map(|r| sq_distance(r.as_slice().expect("standard layout"), &zero))
            .collect();
        let cand = Candidates::scan(x.view(), y.view(), &norms, h);
        CellCounter { x, y, norms, cand }
    }

    /// Samples held.
    pub fn samples(&self) -> usize {
        self.x.nrows()
    }

    /// The cell `argmax_i ⟨x_s, y_i⟩ + h_i` of every sample (ties: the smaller index).
    pub fn labels(&mut self, h: ArrayView1<f64>) -> Vec<u32> {
        self.cand
            .assign(self.x.view(), self.y.view(), &self.norms, h)
    }

    /// `μ̂(W_i(h)) = #{s in W_i} / N`.
    pub fn masses(&mut self, h: ArrayView1<f64>) -> Array1<f64> {
        masses(&self.labels(h), self.y.nrows())
    }

    /// The same masses by a full scan of every sample against every target (no cache): the
    /// reference the cached path must equal, and the per-step cost without it.
    pub fn masses_full_scan(&self, h: ArrayView1<f64>) -> Array1<f64> {
        let s = smallest_shifted(
            self.x.view(),
            self.y.view(),
            &shifts(self.y.view(), &self.norms, h),
            1,
        );
        masses(&s.cols, self.y.nrows())
    }

    /// Appends samples (a full scan at `h`).
    pub fn extend(&mut self, more: ArrayView2<f64>, h: ArrayView1<f64>) {
        let x = ndarray::concatenate(Axis(0), &[self.x.view(), more.view()]).expect("same width");
        self.x = x;
        self.cand = Candidates::scan(self.x.view(), self.y.view(), &self.norms, h);
    }

    /// `(1/N) Σ_s |x_s − T_h(x_s)|²`, summed in fixed chunks (the same bits on any thread
    /// count).
    pub fn transport_cost(&mut self, h: ArrayView1<f64>) -> f64 {
        let labels = self.labels(h);
        let (x, y) = (&self.x, &self.y);
        let parts: Vec<f64> = labels
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, lab)| {
                lab.iter()
                    .enumerate()
                    .map(|(o, &l)| {
                        sq_distance(
                            x.row(c * CHUNK + o).as_slice().expect("standard layout"),
                            y.row(l as usize).as_slice().expect("standard layout"),
                        )
                    })
                    .sum::<f64>()
            })
            .collect();
        parts.iter().sum::<f64>() / x.nrows() as f64
    }
}

/// Adam on the potential (β₁ = 0.9, β₂ = 0.999, bias-corrected), re-centring `h` to mean zero
/// after each step.
#[derive(Debug, Clone)]
pub struct Adam {
    m1: Array1<f64>,
    m2: Array1<f64>,
    t: i32,
}

impl Adam {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-12;

    /// Fresh moments for `n` coordinates.
    pub fn new(n: usize) -> Self {
        Adam {
            m1: Array1::zeros(n),
            m2: Array1::zeros(n),
            t: 0,
        }
    }

    /// One step `h ← h − lr·m̂₁/(√m̂₂ + ε)` along the gradient `g = μ̂ − ν`, then `h ← h − mean h`.
    pub fn step(&mut self, h: &mut Array1<f64>, g: &Array1<f64>, lr: f64) {
        self.t += 1;
        self.m1 = &self.m1 * Self::B1 + g * (1.0 - Self::B1);
        self.m2 = &self.m2 * Self::B2 + &g.mapv(|v| v * v) * (1.0 - Self::B2);
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        *h -= &((&self.m1 / c1) / ((&self.m2 / c2).mapv(f64::sqrt) + Self::EPS) * lr);
        let mean = h.mean().expect("n ≥ 1");
        *h -= mean;
    }
}

/// The initial step size: a hundredth of `max_i |y_i − ȳ|` (Adam moves each `h_i` by about the
/// step size; the scores `⟨x, y_i⟩` spread by about that much over a unit-scale source).
pub fn initial_step(y: ArrayView2<f64>) -> f64 {
    let mean = y.mean_axis(Axis(0)).expect("n ≥ 1");
    let spread = y
        .rows()
        .into_iter()
        .map(|r| (&r - &mean).mapv(|v| v * v).sum().sqrt())
        .fold(0.0f64, f64::max);
    1e-2 * spread.max(f64::MIN_POSITIVE)
}

/// Solves by QMC and Adam (module docs). `y` distinct targets (`n × d`), `nu` positive summing to
/// 1. Errors: `d > 1000` ([`Error::InvalidParameter`]).
pub fn solve_qmc(
    y: ArrayView2<f64>,
    nu: ArrayView1<f64>,
    source: Source,
    opts: &SdotOptions,
) -> Result<QmcResult> {
    let (n, d) = y.dim();
    let per_sample = 8 * d + 12 * CANDIDATES.min(n) + 10;
    // The largest power of two of samples that fits the memory budget.
    let cap = (SAMPLE_BYTES / per_sample).max(1);
    let max_samples =
        (1usize << (usize::BITS - 1 - cap.leading_zeros())).clamp(INITIAL_SAMPLES, 1 << 21);
    let mut sequence = SobolSamples::new(d, source, opts.seed)?;
    let mut h = Array1::<f64>::zeros(n);
    let mut cells = CellCounter::new(sequence.take(INITIAL_SAMPLES.min(max_samples)), y, h.view());
    let first_lr = initial_step(y);
    let mut lr = first_lr;
    let mut adam = Adam::new(n);
    let mut mass = cells.masses(h.view());
    let mut best = (max_relative_error(mass.view(), nu), h.clone(), mass.clone());
    let (mut stall, mut iterations) = (0usize, 0usize);
    // Ten halvings at the largest sample count without progress: the QMC estimate's resolution
    // is reached, more steps cannot lower the error.
    while best.0 > opts.tol && iterations < opts.max_iter && lr > first_lr / 1024.0 {
        adam.step(&mut h, &(&mass - &nu), lr);
        iterations += 1;
        mass = cells.masses(h.view());
        let err = max_relative_error(mass.view(), nu);
        if err < best.0 {
            if err < best.0 * (1.0 - 1e-3) {
                stall = 0;
            }
            best = (err, h.clone(), mass.clone());
        } else {
            stall += 1;
        }
        if stall >= PATIENCE {
            stall = 0;
            if cells.samples() < max_samples {
                // More resolution: the next N points of the sequence; start again from the best h.
                h = best.1.clone();
                cells.extend(sequence.take(cells.samples()).view(), h.view());
                mass = cells.masses(h.view());
                best = (max_relative_error(mass.view(), nu), h.clone(), mass.clone());
            } else {
                lr *= 0.5;
            }
        }
    }
    let (_, h, mass) = best;
    let transport_cost = cells.transport_cost(h.view());
    Ok(QmcResult {
        h,
        masses: mass,
        iterations,
        transport_cost,
        samples: cells.samples(),
    })
}
