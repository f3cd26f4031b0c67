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
use super::{LANES, PairKernel, Prepared, finish_row, fold_lanes};
use ndarray::ArrayView2;
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

/// One query's online softmax, one running maximum per lane: `max_l`, `Σ e^{ℓ − max_l}` and
/// `Σ e^{ℓ − max_l} x_k` over the data that fell in lane `l`.
#[derive(Clone, Copy)]
struct Lanes<S, const D: usize> {
    max: S,
    sum: S,
    acc: [S; D],
}

impl<S: F64x8, const D: usize> Lanes<S, D> {
    /// No data seen: `f64::MIN` rather than `−∞` as the max, so that `max − new` is never
    /// `−∞ − (−∞)` = NaN; a lane whose log-weights are all `−∞` keeps it and adds exactly 0.
    #[inline(always)]
    fn empty() -> Self {
        Lanes {
            max: S::splat(f64::MIN),
            sum: S::splat(0.0),
            acc: [S::splat(0.0); D],
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

    /// Adds the weights `e = e^{ℓ − max}` of one data vector with coordinates `x`.
    #[inline(always)]
    fn accumulate(&mut self, e: S, x: &[S; D]) {
        self.sum = self.sum.add(e);
        for (a, &xk) in self.acc.iter_mut().zip(x) {
            *a = e.mul_add(xk, *a);
        }
    }

    /// `log Z` and the mean: the lanes rescaled to the largest max, then folded in a fixed order.
    #[inline(always)]
    fn finish(&self, lse: &mut f64, mean: &mut [f64]) {
        let max = self.max.to_array();
        let top = max.iter().fold(f64::MIN, |a, &b| a.max(b));
        if top == f64::MIN {
            finish_row(f64::NEG_INFINITY, 0.0, &[0.0; D], lse, mean);
            return;
        }
        let s = self.max.sub(S::splat(top)).exp_nonpositive();
        let total = fold_lanes(&self.sum.mul(s).to_array());
        let acc: [f64; D] = from_fn(|k| fold_lanes(&self.acc[k].mul(s).to_array()));
        finish_row(top, total, &acc, lse, mean);
    }
}

/// The tiled reduction for one block of (centred) queries if the CPU has AVX-512 or AVX2 + FMA;
/// `false` (nothing written) otherwise, or for a kernel or dimension this path does not serve.
pub(super) fn block(
    p: &Prepared,
    queries: ArrayView2<f64>,
    kernel: PairKernel,
    lse: &mut [f64],
    mean: &mut [f64],
) -> bool {
    if p.d > MAX_DIM {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(p, queries, kernel, lse, mean) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { avx2(p, queries, kernel, lse, mean) };
        }
    }
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512(
    p: &Prepared,
    queries: ArrayView2<f64>,
    kernel: PairKernel,
    lse: &mut [f64],
    mean: &mut [f64],
) -> bool {
    by_kernel::<Avx512, 6>(p, queries, kernel, lse, mean)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2(
    p: &Prepared,
    queries: ArrayView2<f64>,
    kernel: PairKernel,
    lse: &mut [f64],
    mean: &mut [f64],
) -> bool {
    // Sixteen ymm registers: two queries per tile keep the accumulators out of memory.
    by_kernel::<Avx2, 2>(p, queries, kernel, lse, mean)
}

/// One monomorphised loop per kernel and dimension, so that no match runs inside the pair loop.
#[inline(always)]
fn by_kernel<S: F64x8, const R: usize>(
    p: &Prepared,
    queries: ArrayView2<f64>,
    kernel: PairKernel,
    lse: &mut [f64],
    mean: &mut [f64],
) -> bool {
    macro_rules! dims {
        ($cost:expr) => {
            match p.d {
                1 => run::<S, _, 1, R>(p, queries, $cost, lse, mean),
                2 => run::<S, _, 2, R>(p, queries, $cost, lse, mean),
                3 => run::<S, _, 3, R>(p, queries, $cost, lse, mean),
                _ => return false,
            }
        };
    }
    match kernel {
        PairKernel::Gaussian { inv_two_t } => dims!(Gaussian(inv_two_t)),
        PairKernel::Laplace { inv_b } => dims!(Laplace(inv_b)),
        PairKernel::Cube { half_width } => dims!(Cube(half_width)),
        // `ln_1p` has no vector form here: the chunked path serves Student noise.
        PairKernel::Student { .. } => return false,
    }
    true
}

#[inline(always)]
fn run<S: F64x8, K: Cost, const D: usize, const R: usize>(
    p: &Prepared,
    queries: ArrayView2<f64>,
    cost: K,
    lse: &mut [f64],
    mean: &mut [f64],
) {
    let q: Vec<[f64; D]> = queries
        .rows()
        .into_iter()
        .map(|r| from_fn(|k| r[k]))
        .collect();
    let mut states = vec![Lanes::<S, D>::empty(); q.len()];
    for start in (0..p.padded).step_by(CHUNK) {
        let range = start..p.padded.min(start + CHUNK);
        for (qt, st) in q.chunks(R).zip(states.chunks_mut(R)) {
            match (qt.try_into(), st.try_into()) {
                (Ok(qt), Ok(st)) => tile::<S, K, D, R>(p, qt, st, range.clone(), cost),
                _ => {
                    for (qq, s) in qt.iter().zip(st) {
                        let s = std::array::from_mut(s);
                        tile::<S, K, D, 1>(p, &[*qq], s, range.clone(), cost);
                    }
                }
            }
        }
    }
    for ((s, l), row) in states.iter().zip(lse).zip(mean.chunks_mut(D)) {
        s.finish(l, row);
    }
}

/// `R` queries against the data points `range` (a multiple of [`LANES`] long).
#[inline(always)]
fn tile<S: F64x8, K: Cost, const D: usize, const R: usize>(
    p: &Prepared,
    q: &[[f64; D]; R],
    states: &mut [Lanes<S, D>; R],
    range: std::ops::Range<usize>,
    cost: K,
) {
    // Locals, not the caller's slice: LLVM keeps them in registers only if nothing may alias them.
    let mut local = *states;
    let qv: [[S; D]; R] = from_fn(|r| from_fn(|k| S::splat(q[r][k])));
    let coords: [&[f64]; D] = from_fn(|k| &p.by_coord[k * p.padded..][range.clone()]);
    let log_w = &p.log_w[range];
    for (v, lw) in log_w.chunks_exact(LANES).enumerate() {
        let x: [S; D] = from_fn(|k| S::load(&coords[k][v * LANES..]));
        let lw = S::load(lw);
        // Costs, then one test for all R queries, then R independent exponentials: no branch
        // between the R dependency chains, so the core overlaps them.
        let ell: [S; R] = from_fn(|r| {
            let mut c = S::splat(0.0);
            for k in 0..D {
                c = cost.fold(c, qv[r][k].sub(x[k]));
            }
            cost.log_weight(c, lw)
        });
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
            local[r].accumulate(e, &x);
        }
    }
    *states = local;
}
