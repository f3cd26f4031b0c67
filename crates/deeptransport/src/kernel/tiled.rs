//! The register-tiled direct path for low dimension (`d ≤ 8`) on AVX-512 or AVX2: the hot loop of
//! Φ_t, deep DAEs, the smoothed-data flow and Sinkhorn's log-sum-exps in dimensions 1 to 8.
//!
//! The same reduction as the parent module's direct path, fused into one pass: for each vector
//! of data points (eight `f64` or sixteen `f32` lanes) and `R` queries at once, the pair cost,
//! the exponential and the accumulations happen in registers ([`Vector`]). The loop is written
//! once, generic over the vector type; [`block`] runs it in `f64`, [`block_f32`] in `f32`. Nothing is written to a chunk buffer and read
//! back, each data vector loaded serves `R` queries, and the `R` exponentials are independent
//! dependency chains that the core overlaps.
//!
//! Why one running max per *lane* instead of per query: the online softmax must rescale what it
//! has accumulated whenever the maximum rises. Per lane, the maximum rises only at a record of
//! that lane's sequence — about `log(N / lanes)` times for data in no particular order — so the
//! rescaling is a rarely taken branch and the common path is compare, exponential, accumulate.
//! At the end the lanes are rescaled to their common maximum and folded in a fixed order, so the
//! result does not depend on the thread count (every query is reduced by one thread, over the data
//! in a fixed order).
//!
//! In `f32` the lane sums only ever hold one chunk of data ([`CHUNK`] / 16 = 128 terms per lane):
//! after every chunk they are folded into `f64` lane totals ([`Totals`]) and restarted, so the
//! rounding error of the sums is that of 128-term `f32` sums, `≤ 128·2⁻²⁴` relative, whatever `N`.

use super::portable::{Portable, PortableF32};
use super::simd::Vector;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx2F32, Avx512, Avx512F32};
use super::simd_path::SimdPath;
#[cfg(target_arch = "x86_64")]
use super::simd_path::{has_avx2, has_avx512};
use super::{PairKernel, exp_nonpositive, finish_row, fold_lanes};
use std::array::from_fn;

/// Data points per chunk: every tile of a block streams the same chunk, which stays in L1/L2
/// (`CHUNK · (d + 1) · 8` bytes, 64 KiB at `d = 3`, half that in `f32`). A multiple of every
/// lane count; in `f32` it also bounds the length of the `f32` sums (module docs).
pub(super) const CHUNK: usize = 2048;
/// The lane count of the `f32` vectors: the `f32` data must be padded to a multiple of it.
pub(super) const LANES_F32: usize = 16;
/// The largest dimension served by this path (the accumulators must stay in registers).
pub(super) const MAX_DIM: usize = 8;

/// A pair cost on vectors: how one coordinate difference folds into the cost, and how the cost
/// becomes the log-weight `ℓ = log ν_t(y − x) + log w`.
trait Cost: Copy {
    fn fold<S: Vector>(self, acc: S, z: S) -> S;
    fn log_weight<S: Vector>(self, cost: S, log_w: S) -> S;
}

/// Gaussian: `ℓ = −|z|²/2t + log w`.
#[derive(Clone, Copy)]
struct Gaussian(f64);
impl Cost for Gaussian {
    #[inline(always)]
    fn fold<S: Vector>(self, acc: S, z: S) -> S {
        z.mul_add(z, acc)
    }
    #[inline(always)]
    fn log_weight<S: Vector>(self, cost: S, log_w: S) -> S {
        cost.mul_add(S::splat(-self.0), log_w)
    }
}

/// Laplace: `ℓ = −|z|₁/b + log w`.
#[derive(Clone, Copy)]
struct Laplace(f64);
impl Cost for Laplace {
    #[inline(always)]
    fn fold<S: Vector>(self, acc: S, z: S) -> S {
        acc.add(z.abs())
    }
    #[inline(always)]
    fn log_weight<S: Vector>(self, cost: S, log_w: S) -> S {
        cost.mul_add(S::splat(-self.0), log_w)
    }
}

/// Uniform on the cube: `ℓ = log w` if `|z|_∞ ≤ a`, `−∞` otherwise.
#[derive(Clone, Copy)]
struct Cube(f64);
impl Cost for Cube {
    #[inline(always)]
    fn fold<S: Vector>(self, acc: S, z: S) -> S {
        acc.max(z.abs())
    }
    #[inline(always)]
    fn log_weight<S: Vector>(self, cost: S, log_w: S) -> S {
        cost.select_le(S::splat(self.0), log_w, S::splat(f64::NEG_INFINITY))
    }
}

/// The data side of a reduction: coordinate-major coordinates (coordinate `k` of point `i` at
/// `k·padded + i`) and log-weights, both padded to a multiple of the lane count (8 in `f64`,
/// [`LANES_F32`] in `f32`) with `log w = −∞`.
pub(super) struct Source<'a, T = f64> {
    pub by_coord: &'a [T],
    pub padded: usize,
    pub d: usize,
    pub log_w: &'a [T],
}

/// What is accumulated besides the normaliser, and where it goes (one row per query).
pub(super) enum Output<'a> {
    /// The softmax-weighted mean `Σ s_i x_i` of the data, `d` per query (the DAE's `Φ`).
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

impl<S: Vector, const P: usize> Lanes<S, P> {
    /// No data seen: the lowest finite value rather than `−∞` as the max, so that `max − new` is
    /// never `−∞ − (−∞)` = NaN; a lane whose log-weights are all `−∞` keeps it and adds exactly 0.
    #[inline(always)]
    fn empty() -> Self {
        Lanes {
            max: S::splat(S::LOWEST),
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
        let top = self
            .max
            .to_f64()
            .as_ref()
            .iter()
            .fold(S::LOWEST, |a, &b| a.max(b));
        if top == S::LOWEST {
            return None;
        }
        let s = self.max.sub(S::splat(top)).exp_nonpositive();
        let total = fold(self.sum.mul(s).to_f64().as_ref());
        let mut acc = [0.0; P];
        for p in 0..P {
            acc[p] = fold(self.acc[p].mul(s).to_f64().as_ref());
        }
        Some((top, total, acc))
    }
}

/// The lanes folded in a fixed order: groups of eight as the parent's `fold_lanes` (so the `f64`
/// path keeps its summation order), then the groups left to right.
fn fold(a: &[f64]) -> f64 {
    a.chunks_exact(8)
        .map(|c| fold_lanes(c.try_into().expect("chunks of eight")))
        .reduce(|x, y| x + y)
        .unwrap_or(0.0)
}

/// One query's lane state in `f64` across chunks, for narrow (`f32`) vectors: per lane the
/// running max (an `f32` value, exact in `f64`) and the `f64` sums, under that max, of the `f32`
/// chunk sums folded in so far.
#[derive(Clone, Copy)]
struct Totals<W, const P: usize> {
    max: W,
    sum: W,
    acc: [W; P],
}

impl<W: Copy + Default + AsRef<[f64]> + AsMut<[f64]>, const P: usize> Totals<W, P> {
    /// No data seen. Plain arrays, not vector operations: this runs outside the
    /// `#[target_feature]` functions, where a vector intrinsic would be an out-of-line call.
    fn empty(lowest: f64) -> Self {
        let mut max = W::default();
        max.as_mut().fill(lowest);
        Totals {
            max,
            sum: W::default(),
            acc: [W::default(); P],
        }
    }

    /// Adds one chunk's lane sums (in `f32`, under the lane maxima `lanes.max`, which never fall)
    /// and restarts them from zero, keeping the maxima.
    #[inline(always)]
    fn absorb<S: Vector<Wide = W>>(&mut self, lanes: &mut Lanes<S, P>) {
        let (max, sum) = (lanes.max.to_f64(), lanes.sum.to_f64());
        let mut acc = [sum; P];
        for p in 0..P {
            acc[p] = lanes.acc[p].to_f64();
        }
        for l in 0..S::LANES {
            let new = max.as_ref()[l];
            let old = &mut self.max.as_mut()[l];
            if new > *old {
                // The chunk raised this lane's max: what was folded before is rescaled (in f64).
                let s = exp_nonpositive(*old - new);
                *old = new;
                self.sum.as_mut()[l] *= s;
                for a in &mut self.acc {
                    a.as_mut()[l] *= s;
                }
            }
            self.sum.as_mut()[l] += sum.as_ref()[l];
            for (a, c) in self.acc.iter_mut().zip(&acc) {
                a.as_mut()[l] += c.as_ref()[l];
            }
        }
        lanes.sum = S::splat(0.0);
        lanes.acc = [S::splat(0.0); P];
    }

    /// As [`Lanes::finish`], in `f64`.
    fn finish(&self, lowest: f64) -> Option<(f64, f64, [f64; P])> {
        let max = self.max.as_ref();
        let top = max.iter().fold(lowest, |a, &b| a.max(b));
        if top == lowest {
            return None;
        }
        let folded = |v: &W| {
            let mut v = *v;
            for (x, m) in v.as_mut().iter_mut().zip(max) {
                *x *= exp_nonpositive(m - top);
            }
            fold(v.as_ref())
        };
        let total = folded(&self.sum);
        let acc = from_fn(|p| folded(&self.acc[p]));
        Some((top, total, acc))
    }
}

/// The tiled reduction of the queries (row-major, `d` per row) against `src` on `path`:
/// `lse_j = log Σ_i w_i e^{ℓ(y_j, x_i)}` and `out`. Returns `false` (nothing written) on the
/// `scalar` path (or one this CPU lacks), for `d > MAX_DIM`, for Student noise (no vector `ln_1p`
/// here), or for a mean cost under a non-Gaussian kernel.
pub(super) fn block(
    path: SimdPath,
    src: &Source,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    return dispatch::<Avx512, Avx2, Portable>(path, src, queries, kernel, lse, out);
    #[cfg(not(target_arch = "x86_64"))]
    return dispatch::<Portable, Portable, Portable>(path, src, queries, kernel, lse, out);
}

/// [`block`] in `f32` (coordinates, costs, exponentials and 128-term lane sums in `f32`, lane
/// totals in `f64`; see the module docs): the Gaussian softmax mean, `d ≤ MAX_DIM`, `src` padded
/// to a multiple of [`LANES_F32`]. Returns `false` (nothing written) on the `scalar` path, or for
/// `d = 0` or `d > MAX_DIM`.
pub(super) fn block_f32(
    path: SimdPath,
    src: &Source<f32>,
    queries: &[f64],
    inv_two_t: f64,
    lse: &mut [f64],
    mean: &mut [f64],
) -> bool {
    let (kernel, out) = (PairKernel::Gaussian { inv_two_t }, Output::Mean(mean));
    #[cfg(target_arch = "x86_64")]
    return dispatch::<Avx512F32, Avx2F32, PortableF32>(path, src, queries, kernel, lse, out);
    #[cfg(not(target_arch = "x86_64"))]
    return dispatch::<PortableF32, PortableF32, PortableF32>(path, src, queries, kernel, lse, out);
}

/// The loop on `path` with the AVX-512 vector `W`, the AVX2 vector `N` or the portable vector `P`
/// (same lane type; off x86-64 all three are `P`); `false` on the scalar path, on a path this CPU
/// lacks (never chosen: see [`SimdPath`]), or for a dimension this path does not serve.
fn dispatch<W: Vector, N: Vector<Scalar = W::Scalar>, P: Vector<Scalar = W::Scalar>>(
    path: SimdPath,
    src: &Source<W::Scalar>,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    if src.d > MAX_DIM || src.d == 0 {
        return false;
    }
    match path {
        // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked by the guard).
        #[cfg(target_arch = "x86_64")]
        SimdPath::Avx512 if has_avx512() => unsafe { avx512::<W>(src, queries, kernel, lse, out) },
        // SAFETY: the CPU supports AVX2 and FMA (checked by the guard).
        #[cfg(target_arch = "x86_64")]
        SimdPath::Avx2 if has_avx2() => unsafe { avx2::<N>(src, queries, kernel, lse, out) },
        SimdPath::Portable => portable::<P>(src, queries, kernel, lse, out),
        _ => false,
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512<S: Vector>(
    src: &Source<S::Scalar>,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    // Four queries per tile at every d (measured in f64 at d = 2: 2, 6 and 8 are no faster, and 6
    // does not divide blocks; at d = 4 and 8, four beat two by 4 % and 7 %).
    by_kernel::<S, 4, 4>(src, queries, kernel, lse, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2<S: Vector>(
    src: &Source<S::Scalar>,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    // Four queries per tile up to d = 3, one beyond. The loop is bound by the two floating-point
    // ports, not by registers: at d = 2 one, two and four queries per tile measured the same
    // (0.29 s for Φ_t N = M = 20 000 before the cheaper exponential); four is what BENCHMARKS.md ran.
    by_kernel::<S, 4, 1>(src, queries, kernel, lse, out)
}

/// The baseline target's loop (no `#[target_feature]`): NEON on aarch64, SSE2 on x86-64.
#[inline(never)]
fn portable<S: Vector>(
    src: &Source<S::Scalar>,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    by_kernel::<S, 2, 1>(src, queries, kernel, lse, out)
}

/// One monomorphised loop per kernel, dimension and output, so that no match runs inside the
/// pair loop.
#[inline(always)]
fn by_kernel<S: Vector, const R: usize, const RW: usize>(
    src: &Source<S::Scalar>,
    queries: &[f64],
    kernel: PairKernel,
    lse: &mut [f64],
    out: Output,
) -> bool {
    // R queries per tile up to d = 3, RW from d = 4 on (where a tile's accumulators grow with d).
    macro_rules! dims {
        ($cost:expr, $out:expr, $p:literal, $payload:expr) => {
            match src.d {
                1 => run::<S, _, 1, R, $p>(src, queries, $cost, lse, $out, $payload),
                2 => run::<S, _, 2, R, $p>(src, queries, $cost, lse, $out, $payload),
                3 => run::<S, _, 3, R, $p>(src, queries, $cost, lse, $out, $payload),
                4 => run::<S, _, 4, RW, $p>(src, queries, $cost, lse, $out, $payload),
                5 => run::<S, _, 5, RW, $p>(src, queries, $cost, lse, $out, $payload),
                6 => run::<S, _, 6, RW, $p>(src, queries, $cost, lse, $out, $payload),
                7 => run::<S, _, 7, RW, $p>(src, queries, $cost, lse, $out, $payload),
                8 => run::<S, _, 8, RW, $p>(src, queries, $cost, lse, $out, $payload),
                _ => return false,
            }
        };
    }
    // The DAE's payload is the data point `x` itself, one value per dimension (see [`tile`]).
    macro_rules! mean {
        ($cost:expr, $mean:expr) => {
            match src.d {
                1 => run::<S, _, 1, R, 1>(src, queries, $cost, lse, $mean, |_, x| *x),
                2 => run::<S, _, 2, R, 2>(src, queries, $cost, lse, $mean, |_, x| *x),
                3 => run::<S, _, 3, R, 3>(src, queries, $cost, lse, $mean, |_, x| *x),
                4 => run::<S, _, 4, RW, 4>(src, queries, $cost, lse, $mean, |_, x| *x),
                5 => run::<S, _, 5, RW, 5>(src, queries, $cost, lse, $mean, |_, x| *x),
                6 => run::<S, _, 6, RW, 6>(src, queries, $cost, lse, $mean, |_, x| *x),
                7 => run::<S, _, 7, RW, 7>(src, queries, $cost, lse, $mean, |_, x| *x),
                8 => run::<S, _, 8, RW, 8>(src, queries, $cost, lse, $mean, |_, x| *x),
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
/// each query's lanes folded. Writes `lse` and `P` payload means per query (for [`Output::Mean`]
/// the posterior mean `Φ`); a query without mass
/// gets `lse = −∞` and NaN means.
#[inline(always)]
fn run<S: Vector, K: Cost, const D: usize, const R: usize, const P: usize>(
    src: &Source<S::Scalar>,
    queries: &[f64],
    cost: K,
    lse: &mut [f64],
    out: &mut [f64],
    payload: impl Fn(S, &[S; D]) -> [S; P] + Copy,
) {
    let q: Vec<[f64; D]> = queries.chunks_exact(D).map(|r| from_fn(|k| r[k])).collect();
    let mut states = vec![Lanes::<S, P>::empty(); q.len()];
    // Only narrow vectors fold their chunk sums into f64 totals (empty, hence skipped, in f64).
    let mut totals =
        vec![Totals::<S::Wide, P>::empty(S::LOWEST); if S::NARROW { q.len() } else { 0 }];
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
        for (t, s) in totals.iter_mut().zip(&mut states) {
            t.absorb(s);
        }
    }
    for (j, s) in states.iter().enumerate() {
        let row = &mut out[j * P..(j + 1) * P];
        let finished = if S::NARROW {
            totals[j].finish(S::LOWEST)
        } else {
            s.finish()
        };
        match finished {
            Some((max, total, acc)) => finish_row(max, total, &acc, &mut lse[j], row),
            None => finish_row(f64::NEG_INFINITY, 0.0, &[0.0; P], &mut lse[j], row),
        }
    }
}

/// `R` queries against the data points `range` (a multiple of the lane count long).
#[inline(always)]
fn tile<S: Vector, K: Cost, const D: usize, const R: usize, const P: usize>(
    src: &Source<S::Scalar>,
    q: &[[f64; D]; R],
    states: &mut [Lanes<S, P>; R],
    range: std::ops::Range<usize>,
    cost: K,
    payload: impl Fn(S, &[S; D]) -> [S; P] + Copy,
) {
    // Locals, not the caller's slice: LLVM keeps them in registers only if nothing may alias them.
    let mut local = *states;
    // Plain loops, not `array::from_fn`: its closures are not always inlined, and a vector
    // intrinsic called outside the `#[target_feature]` function runs as a function call (this
    // made d = 3 fourteen times slower than d = 2).
    let mut qv = [[S::splat(0.0); D]; R];
    for r in 0..R {
        for k in 0..D {
            qv[r][k] = S::splat(q[r][k]);
        }
    }
    let coords: [&[S::Scalar]; D] = from_fn(|k| &src.by_coord[k * src.padded..][range.clone()]);
    let log_w = &src.log_w[range];
    for (v, lw) in log_w.chunks_exact(S::LANES).enumerate() {
        let mut x = [S::splat(0.0); D];
        for k in 0..D {
            x[k] = S::load(&coords[k][v * S::LANES..]);
        }
        let lw = S::load(lw);
        // The cost folds the differences `x − y` of raw coordinates, exact to one rounding
        // whatever the other points are (no centre an outlier could move).
        let mut c = [S::splat(0.0); R];
        for r in 0..R {
            for k in 0..D {
                c[r] = cost.fold(c[r], x[k].sub(qv[r][k]));
            }
        }
        let mut ell = c;
        for r in 0..R {
            ell[r] = cost.log_weight(c[r], lw);
        }
        // The exponents `ℓ − max`, then one test for all R queries, then R independent
        // exponentials: no branch between the R dependency chains, so the core overlaps them.
        let mut arg = ell;
        for r in 0..R {
            arg[r] = ell[r].sub(local[r].max);
        }
        if S::any_positive(&arg) {
            for r in 0..R {
                local[r].raise(ell[r]);
                arg[r] = ell[r].sub(local[r].max);
            }
        }
        for r in 0..R {
            let e = arg[r].exp_nonpositive();
            local[r].accumulate(e, &payload(c[r], &x));
        }
    }
    *states = local;
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Coordinate-major data padded to a multiple of 16 (both lane counts) with `log w = −∞`.
    fn padded<T: Copy + Default>(x: &[[f64; 2]], conv: impl Fn(f64) -> T, ninf: T) -> [Vec<T>; 2] {
        let padded = x.len().div_ceil(16) * 16;
        let mut by_coord = vec![T::default(); 2 * padded];
        let mut log_w = vec![ninf; padded];
        for (i, p) in x.iter().enumerate() {
            by_coord[i] = conv(p[0]);
            by_coord[padded + i] = conv(p[1]);
            log_w[i] = conv(-(x.len() as f64).ln());
        }
        [by_coord, log_w]
    }

    /// The AVX2 variants (which this test machine may not pick by itself) against the AVX-512
    /// ones, Gaussian softmax mean of 3001 points of `[−1, 1]²` (two chunks and a tail), t = 0.5,
    /// 37 queries in the box: `f64` within `10⁻¹²` of each other (their exponentials differ by
    /// an ulp or two), each `f32` variant within `7·10⁻⁴` of `f64` (the bound of
    /// `softmax_mean_f32` here: `Λ ≤ 8`, `Z ≤ 2√2`, `R ≤ 1.1` give `ε ≤ 880u`,
    /// `4Zε + 2γR < 7·10⁻⁴`).
    #[test]
    fn avx2_variants_agree_with_avx512() {
        let (has_avx512, has_avx2) = (
            std::is_x86_feature_detected!("avx512f"),
            std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
        );
        if !(has_avx512 && has_avx2) {
            return;
        }
        let n = 3001;
        let x: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let a = i as f64 * 0.618_033_988_749_895;
                [(a.fract() * 2.0) - 1.0, ((a * 7.3).sin())]
            })
            .collect();
        let q: Vec<f64> = (0..37 * 2).map(|k| ((k as f64) * 0.37).sin()).collect();
        let kernel = PairKernel::Gaussian { inv_two_t: 1.0 };
        let [c64, w64] = padded(&x, |v| v, f64::NEG_INFINITY);
        let [c32, w32] = padded(&x, |v| v as f32, f32::NEG_INFINITY);
        let padded = c64.len() / 2;
        let s64 = Source {
            by_coord: &c64,
            padded,
            d: 2,
            log_w: &w64,
        };
        let s32 = Source {
            by_coord: &c32,
            padded,
            d: 2,
            log_w: &w32,
        };
        let mut lse = [vec![0.0; 37], vec![0.0; 37], vec![0.0; 37], vec![0.0; 37]];
        let mut mean = [vec![0.0; 74], vec![0.0; 74], vec![0.0; 74], vec![0.0; 74]];
        let [l0, l1, l2, l3] = &mut lse;
        let [m0, m1, m2, m3] = &mut mean;
        // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked above).
        unsafe {
            assert!(avx512::<Avx512>(&s64, &q, kernel, l0, Output::Mean(m0)));
            assert!(avx2::<Avx2>(&s64, &q, kernel, l1, Output::Mean(m1)));
            assert!(avx512::<Avx512F32>(&s32, &q, kernel, l2, Output::Mean(m2)));
            assert!(avx2::<Avx2F32>(&s32, &q, kernel, l3, Output::Mean(m3)));
        }
        let diff = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        };
        assert!(diff(m0, m1) <= 1e-12, "f64: {}", diff(m0, m1));
        assert!(diff(m0, m2) <= 7e-4, "avx512 f32: {}", diff(m0, m2));
        assert!(diff(m0, m3) <= 7e-4, "avx2 f32: {}", diff(m0, m3));
    }
}
