//! The register-tiled direct path for low dimension (`d ≤ 3`) on AVX-512 or AVX2: the hot loop of
//! Φ_t, deep DAEs and the smoothed-data flow on 1-, 2- and 3-D data.
//!
//! The same reduction as the parent module's direct path, fused into one pass: for each vector
//! of [`LANES`] data points and `R` queries at once, the pair cost, the exponential and the
//! accumulations happen in registers ([`F64x8`]). Nothing is written to a chunk buffer and read
//! back, each data vector loaded serves `R` queries, and the `R` exponentials are independent
//! dependency chains that the core overlaps.
//!
//! Why one running max per *lane* instead of per query: the online softmax must rescale what it
//! has accumulated whenever the maximum rises. Per lane, the maximum rises only at a record of
//! that lane's sequence — about `log(N / LANES)` times for data in no particular order — so the
//! rescaling is a rarely taken branch and the common path is compare, exponential, accumulate.
//! At the end the lanes are rescaled to their common maximum and folded in a fixed order, so the
//! result does not depend on the thread count (every query is reduced by one thread, over the data
//! in a fixed order).

#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::simd::F64x8;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512};
use super::{LANES, PairKernel, finish_row, fold_lanes};
use std::array::from_fn;

/// Data points per chunk: every tile of a block streams the same chunk, which stays in L1/L2
/// (`CHUNK · (d + 1) · 8` bytes, 64 KiB at `d = 3`).
const CHUNK: usize = 2048;
/// The largest dimension served by this path (the accumulators must stay in registers).
pub(super) const MAX_DIM: usize = 3;

/// A pair cost on vectors: how one coordinate difference folds into the cost, and how the cost
/// becomes the log-weight `ℓ = log ν_t(y − x) + log w`.
trait Cost: Copy {
    fn fold<S: F64x8>(self, acc: S, z: S) -> S;
    fn log_weight<S: F64x8>(self, cost: S, log_w: S) -> S;
}

/// Gaussian: `ℓ = −|z|²/2t + log w`.
#[derive(Clone, Copy)]
struct Gaussian(f64);
impl Cost for Gaussian {
    #[inline(always)]
    fn fold<S: F64x8>(self, acc: S, z: S) -> S {
        z.mul_add(z, acc)
    }
    #[inline(always)]
    fn log_weight<S: F64x8>(self, cost: S, log_w: S) -> S {
        cost.mul_add(S::splat(-self.0), log_w)
    }
}

/// Laplace: `ℓ = −|z|₁/b + log w`.
#[derive(Clone, Copy)]
struct Laplace(f64);
impl Cost for Laplace {
    #[inline(always)]
    fn fold<S: F64x8>(self, acc: S, z: S) -> S {
        acc.add(z.abs())
    }
    #[inline(always)]
    fn log_weight<S: F64x8>(self, cost: S, log_w: S) -> S {
        cost.mul_add(S::splat(-self.0), log_w)
    }
}

/// Uniform on the cube: `ℓ = log w` if `|z|_∞ ≤ a`, `−∞` otherwise.
#[derive(Clone, Copy)]
struct Cube(f64);
impl Cost for Cube {
    #[inline(always)]
    fn fold<S: F64x8>(self, acc: S, z: S) -> S {
        acc.max(z.abs())
    }
    #[inline(always)]
    fn log_weight<S: F64x8>(self, cost: S, log_w: S) -> S {
        cost.select_le(S::splat(self.0), log_w, S::splat(f64::NEG_INFINITY))
    }
}

/// The data side of a reduction: coordinate-major coordinates (coordinate `k` of point `i` at
/// `k·padded + i`) and log-weights, both padded to a multiple of [`LANES`] with `log w = −∞`.
pub(super) struct Source<'a> {
    pub by_coord: &'a [f64],
    pub padded: usize,
    pub d: usize,
    pub log_w: &'a [f64],
}

/// What is accumulated besides the normaliser, and where it goes (one row per query).
pub(super) enum Output<'a> {
    /// The softmax-weighted mean of the data coordinates, `d` per query (the DAE).
    Mean(&'a mut [f64]),
    /// The softmax-weighted mean of the pair cost, one per query (Sinkhorn's row cost).
    MeanCost(&'a mut [f64]),
    /// Nothing: the log-normaliser alone (the Sinkhorn update).
    Nothing,
}

/// One query's online softmax, one running maximum per lane: `max_l`, `Σ e^{ℓ − max_l}` and
/// `Σ e^{ℓ − max_l} v_p` over the data that fell in lane `l`, for `P` payload values `v_p` per
/// pair (the data coordinates, the pair cost, or none).
#[derive(Clone, Copy)]
struct Lanes<S, const P: usize> {
    max: S,
    sum: S,
    acc: [S; P],
}

impl<S: F64x8, const P: usize> Lanes<S, P> {
    /// No data seen: `f64::MIN` rather than `−∞` as the max, so that `max − new` is never
    /// `−∞ − (−∞)` = NaN; a lane whose log-weights are all `−∞` keeps it and adds exactly 0.
    #[inline(always)]
    fn empty() -> Self {
        Lanes {
            max: S::splat(f64::MIN),
            sum: S::splat(0.0),
            acc: [S::splat(0.0); P],
        }
    }

    /// Raises each lane's max to `ℓ` where `ℓ` exceeds it and rescales that lane's sums by
    /// `e^{old − new}` (exactly 1 for the lanes that keep their max).
    #[inline(always)]
    fn raise(&mut self, ell: S) {
        let new = self.max.max(ell);
        let s = self.max.sub(new).exp_nonpositive();
        self.max = new;
        self.sum = self.sum.mul(s);
        for a in &mut self.acc {
            *a = a.mul(s);
        }
    }

    /// Adds the weights `e = e^{ℓ − max}` of one data vector with payload `v`.
    #[inline(always)]
    fn accumulate(&mut self, e: S, v: &[S; P]) {
        self.sum = self.sum.add(e);
        for (a, &vp) in self.acc.iter_mut().zip(v) {
            *a = e.mul_add(vp, *a);
        }
    }

    /// `(log Z, Σ/Z)` of every payload value, or `None` if no lane got any mass: the lanes
    /// rescaled to the largest max, then folded in a fixed order.
    #[inline(always)]
    fn finish(&self) -> Option<(f64, f64, [f64; P])> {
        let top = self.max.to_array().iter().fold(f64::MIN, |a, &b| a.max(b));
        if top == f64::MIN {
            return None;
        }
        let s = self.max.sub(S::splat(top)).exp_nonpositive();
        let total = fold_lanes(&self.sum.mul(s).to_array());
        let acc = from_fn(|p| fold_lanes(&self.acc[p].mul(s).to_array()));
        Some((top, total, acc))
    }
}

/// The tiled reduction of the queries (row-major, `d` per row) against `src` if the CPU has
/// AVX-512 or AVX2 + FMA: `lse_j = log Σ_i w_i e^{ℓ(y_j, x_i)}` and `out`. Returns `false`
/// (nothing written) without those units, for `d > MAX_DIM`, for Student noise (no vector
/// `ln_1p` here), or for a mean cost under a non-Gaussian kernel.
pub(super) fn block(
    src: &Source,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    if src.d > MAX_DIM || src.d == 0 {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(src, queries, kernel, lse, out) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { avx2(src, queries, kernel, lse, out) };
        }
    }
    let _ = (queries, kernel, lse, out);
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512(
    src: &Source,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    // Four queries per tile (measured: 2, 6 and 8 are no faster, and 6 does not divide blocks).
    by_kernel::<Avx512, 4>(src, queries, kernel, lse, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2(
    src: &Source,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    // Sixteen ymm registers: two queries per tile keep the accumulators out of memory.
    by_kernel::<Avx2, 2>(src, queries, kernel, lse, out)
}

/// One monomorphised loop per kernel, dimension and output, so that no match runs inside the
/// pair loop.
#[inline(always)]
fn by_kernel<S: F64x8, const R: usize>(
    src: &Source,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    macro_rules! dims {
        ($cost:expr, $out:expr, $p:literal, $payload:expr) => {
            match src.d {
                1 => run::<S, _, 1, R, $p>(src, queries, $cost, lse, $out, $payload),
                2 => run::<S, _, 2, R, $p>(src, queries, $cost, lse, $out, $payload),
                3 => run::<S, _, 3, R, $p>(src, queries, $cost, lse, $out, $payload),
                _ => return false,
            }
        };
    }
    // The DAE's payload is the data coordinates, one per dimension.
    macro_rules! mean {
        ($cost:expr, $mean:expr) => {
            match src.d {
                1 => run::<S, _, 1, R, 1>(src, queries, $cost, lse, $mean, |_, x| *x),
                2 => run::<S, _, 2, R, 2>(src, queries, $cost, lse, $mean, |_, x| *x),
                3 => run::<S, _, 3, R, 3>(src, queries, $cost, lse, $mean, |_, x| *x),
                _ => return false,
            }
        };
    }
    match (kernel, out) {
        (PairKernel::Student { .. }, _) => return false,
        (PairKernel::Gaussian { inv_two_t }, Output::Mean(m)) => mean!(Gaussian(inv_two_t), m),
        (PairKernel::Laplace { inv_b }, Output::Mean(m)) => mean!(Laplace(inv_b), m),
        (PairKernel::Cube { half_width }, Output::Mean(m)) => mean!(Cube(half_width), m),
        (PairKernel::Gaussian { inv_two_t }, Output::MeanCost(m)) => {
            dims!(Gaussian(inv_two_t), m, 1, |c, _| [c])
        }
        (PairKernel::Gaussian { inv_two_t }, Output::Nothing) => {
            dims!(Gaussian(inv_two_t), &mut [], 0, |_, _| [])
        }
        _ => return false,
    }
    true
}

/// The reduction for every query: data in chunks, queries in tiles of `R` within a chunk, then
/// each query's lanes folded. Writes `lse` and `P` payload means per query; a query without mass
/// gets `lse = −∞` and NaN means.
#[inline(always)]
fn run<S: F64x8, K: Cost, const D: usize, const R: usize, const P: usize>(
    src: &Source,
    queries: &[f64],
    cost: K,
    lse: &mut [f64],
    out: &mut [f64],
    payload: impl Fn(S, &[S; D]) -> [S; P] + Copy,
) {
    let q: Vec<[f64; D]> = queries.chunks_exact(D).map(|r| from_fn(|k| r[k])).collect();
    let mut states = vec![Lanes::<S, P>::empty(); q.len()];
    for start in (0..src.padded).step_by(CHUNK) {
        let range = start..src.padded.min(start + CHUNK);
        for (qt, st) in q.chunks(R).zip(states.chunks_mut(R)) {
            match (qt.try_into(), st.try_into()) {
                (Ok(qt), Ok(st)) => {
                    tile::<S, K, D, R, P>(src, qt, st, range.clone(), cost, payload)
                }
                _ => {
                    for (qq, s) in qt.iter().zip(st) {
                        let s = std::array::from_mut(s);
                        tile::<S, K, D, 1, P>(src, &[*qq], s, range.clone(), cost, payload);
                    }
                }
            }
        }
    }
    for (j, s) in states.iter().enumerate() {
        let row = &mut out[j * P..(j + 1) * P];
        match s.finish() {
            Some((max, total, acc)) => finish_row(max, total, &acc, &mut lse[j], row),
            None => finish_row(f64::NEG_INFINITY, 0.0, &[0.0; P], &mut lse[j], row),
        }
    }
}

/// `R` queries against the data points `range` (a multiple of [`LANES`] long).
#[inline(always)]
fn tile<S: F64x8, K: Cost, const D: usize, const R: usize, const P: usize>(
    src: &Source,
    q: &[[f64; D]; R],
    states: &mut [Lanes<S, P>; R],
    range: std::ops::Range<usize>,
    cost: K,
    payload: impl Fn(S, &[S; D]) -> [S; P] + Copy,
) {
    // Locals, not the caller's slice: LLVM keeps them in registers only if nothing may alias them.
    let mut local = *states;
    let qv: [[S; D]; R] = from_fn(|r| from_fn(|k| S::splat(q[r][k])));
    let coords: [&[f64]; D] = from_fn(|k| &src.by_coord[k * src.padded..][range.clone()]);
    let log_w = &src.log_w[range];
    for (v, lw) in log_w.chunks_exact(LANES).enumerate() {
        let x: [S; D] = from_fn(|k| S::load(&coords[k][v * LANES..]));
        let lw = S::load(lw);
        // Costs, then one test for all R queries, then R independent exponentials: no branch
        // between the R dependency chains, so the core overlaps them.
        let c: [S; R] = from_fn(|r| {
            let mut c = S::splat(0.0);
            for k in 0..D {
                c = cost.fold(c, qv[r][k].sub(x[k]));
            }
            c
        });
        let ell: [S; R] = from_fn(|r| cost.log_weight(c[r], lw));
        let mut raised = false;
        for r in 0..R {
            raised |= ell[r].any_gt(local[r].max);
        }
        if raised {
            for r in 0..R {
                local[r].raise(ell[r]);
            }
        }
        for r in 0..R {
            let e = ell[r].sub(local[r].max).exp_nonpositive();
            local[r].accumulate(e, &payload(c[r], &x));
        }
    }
    *states = local;
}
