//! Streaming log-sum-exp reductions for entropic optimal transport (the Sinkhorn "geometry").
//!
//! For queries `x_i` (`n × d`), data `y_j` (`m × d`), log-weights `h_j` and `ε > 0`, with the
//! squared-Euclidean cost `C_ij = |x_i − y_j|²`:
//!
//! ```text
//! L_i       = log Σ_j exp(h_j − C_ij / ε)                       (lse)
//! softmin_i = −ε L_i                                            (the Sinkhorn / c-transform update)
//! c̄_i      = Σ_j C_ij exp(h_j − C_ij/ε) / Σ_j exp(h_j − C_ij/ε)  (the mean cost under row i)
//! ```
//!
//! With `h_j = log b_j + g_j/ε` the softmin is the log-domain Sinkhorn update
//! `f_i = −ε log Σ_j b_j exp((g_j − C_ij)/ε)` (Peyré & Cuturi 2019, Remark 4.23). Each row is one
//! streaming pass over the data in chunks with a running maximum (online log-sum-exp), so neither
//! the `n × m` cost matrix nor `exp(−C/ε)` is ever formed: `ε = 10⁻⁴` on unit-scale data, where
//! `exp(−C/ε)` underflows to 0 for almost every pair, is as accurate as `ε = 1`.
//!
//! **Layout and vectorisation**: for `d ≤ 8` the rows go through the parent's register-tiled loop
//! (`tiled`: four rows at a time, one running max per lane) on every SIMD path but `scalar`.
//! Otherwise, as in the parent module's chunked direct path: the data are
//! stored coordinate-major and padded to a multiple of [`LANES`] with atoms of log-weight `−∞`
//! (they add exactly `+0`); sums are kept in `LANES` interleaved partial sums and folded in a fixed
//! order; the exponentials are the branch-free [`exp_nonpositive`], so the pair loop vectorises,
//! compiled for AVX-512, AVX2+FMA and the baseline, the one of the SIMD path chosen at run time
//! (the parent's `widest!`). Both are bit-identical for any thread count; the two paths differ from each
//! other in the last bits (fused multiply-adds, a different exponential).
//!
//! [`GibbsKernel`] is the cached alternative for problems whose `n × m` kernel fits in memory: the
//! stabilised `K_ij = exp((f⁰_i + g⁰_j − C_ij)/ε)` built once (one exponential per entry), then
//! products `K v` and `Kᵀ u` (fixed blocks and fixed order too).
//!
//! **Determinism**: rows are processed in parallel over fixed blocks of [`ROW_BLOCK`] rows, each
//! row by one thread over the data in a fixed order: bit-identical for any thread count.
//!
//! **Cost**: `O(n·m·d)` time and `O((n + m)·d)` memory per call. Accuracy: every `L_i` is a sum of
//! positive terms after the max shift, so the relative error of `Σ` is `≤ m·u` (`u = 2⁻⁵³`) and
//! the absolute error of `L_i` is `≈ m·u` plus the rounding of the exponent arguments,
//! `≈ u·(|h_j| + C_ij/ε)`.

use super::{SimdPath, exp_nonpositive, simd_path};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Data points per streamed chunk: a chunk's costs and exponents (2 × 4 KiB) stay in L1.
const CHUNK: usize = 512;
/// Vectors of exponentials evaluated per step of the exponential loop.
const UNROLL: usize = 4;
/// Rows per parallel task: small enough that two cores stay balanced at n = 500, large enough to
/// amortise scheduling (a row at m = 2000 costs a few microseconds).
pub const ROW_BLOCK: usize = 16;
/// Accumulator lanes (8 doubles = one AVX-512 register, two AVX2 registers): fixed, so that the
/// summation order — hence the result — does not depend on the vector width.
pub const LANES: usize = 8;

/// A point cloud prepared for the reductions: row-major (for queries) and coordinate-major,
/// zero-padded to a multiple of [`LANES`] (for data).
#[derive(Debug, Clone)]
pub struct Cloud {
    n: usize,
    padded: usize,
    d: usize,
    by_row: Vec<f64>,
    by_coord: Vec<f64>,
}

impl Cloud {
    /// Copies `points` (`n × d`, any layout) into both layouts; `O(n·d)`.
    pub fn new(points: ArrayView2<f64>) -> Self {
        let (n, d) = points.dim();
        let padded = n.div_ceil(LANES) * LANES;
        let mut by_row = Vec::with_capacity(n * d);
        let mut by_coord = vec![0.0; d * padded];
        for (i, row) in points.rows().into_iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                by_row.push(v);
                by_coord[k * padded + i] = v;
            }
        }
        Cloud {
            n,
            padded,
            d,
            by_row,
            by_coord,
        }
    }

    /// The number of points `n`.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the cloud has no point.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Point `i` as a slice of `d` coordinates.
    pub fn point(&self, i: usize) -> &[f64] {
        &self.by_row[i * self.d..(i + 1) * self.d]
    }

    /// `h` copied into a buffer of the padded length, `−∞` on the padding.
    fn pad(&self, h: &[f64]) -> Vec<f64> {
        let mut p = vec![f64::NEG_INFINITY; self.padded];
        p[..self.n].copy_from_slice(h);
        p
    }
}

fn check_shapes(x: &Cloud, y: &Cloud, h: &[f64], out: usize) {
    assert_eq!(x.d, y.d, "lse: query and data dimensions differ");
    assert_eq!(h.len(), y.n, "lse: one log-weight per data point");
    assert_eq!(out, x.n, "lse: one output per query");
}

/// The Sinkhorn update (module docs): `out_i = −ε log Σ_j exp(h_j − |x_i − y_j|²/ε)` for every
/// query `x_i`. `out_i = +∞` where every `h_j = −∞`.
///
/// Requires `ε > 0`, `x.dim() == y.dim()`, `h.len() == y.len()`, `out.len() == x.len()` (panics
/// otherwise: callers validate user input first). Cost `O(n·m·d)`.
pub fn softmin(x: &Cloud, y: &Cloud, h: &[f64], eps: f64, out: &mut [f64]) {
    check_shapes(x, y, h, out.len());
    let h = y.pad(h);
    let inv_eps = 1.0 / eps;
    let path = simd_path();
    out.par_chunks_mut(ROW_BLOCK)
        .enumerate()
        .for_each(|(b, out_b)| {
            let mut none: [f64; 0] = [];
            rows::<false>(path, x, b * ROW_BLOCK, y, &h, inv_eps, out_b, &mut none);
            for v in out_b.iter_mut() {
                *v *= -eps;
            }
        });
}

/// The log-sum-exp `lse_i = log Σ_j exp(h_j − C_ij/ε)` and the mean cost
/// `mean_cost_i = Σ_j C_ij exp(h_j − C_ij/ε) / Σ_j exp(h_j − C_ij/ε)` of every query (module
/// docs): with `u_i = log a_i + f_i/ε` and `h_j = log b_j + g_j/ε`, the row mass of the entropic
/// plan is `exp(u_i + lse_i)` and its row cost `Σ_j P_ij C_ij = exp(u_i + lse_i)·mean_cost_i`.
/// Where every `h_j = −∞`, `lse_i = −∞` and `mean_cost_i = 0`.
///
/// Same requirements and cost as [`softmin`]; the mean cost is a convex combination of the `C_ij`
/// (relative error `≤ m·u`).
pub fn lse_with_mean_cost(
    x: &Cloud,
    y: &Cloud,
    h: &[f64],
    eps: f64,
    lse: &mut [f64],
    mean_cost: &mut [f64],
) {
    check_shapes(x, y, h, lse.len());
    assert_eq!(mean_cost.len(), x.n, "lse: one mean cost per query");
    let h = y.pad(h);
    let inv_eps = 1.0 / eps;
    let path = simd_path();
    lse.par_chunks_mut(ROW_BLOCK)
        .zip(mean_cost.par_chunks_mut(ROW_BLOCK))
        .enumerate()
        .for_each(|(b, (lse_b, cost_b))| {
            rows::<true>(path, x, b * ROW_BLOCK, y, &h, inv_eps, lse_b, cost_b);
        });
}

/// The dense matrix `P_ij = exp(u_i + h_j − |x_i − y_j|²/ε)` (`n × m`), e.g. the entropic plan with
/// `u_i = log a_i + f_i/ε`, `h_j = log b_j + g_j/ε`. Exponentials by the correctly rounded-to-1-ulp
/// `f64::exp` (this runs once per solve, not per iteration). Cost `O(n·m·d)` time, `8·n·m` bytes.
pub fn dense_exp(x: &Cloud, y: &Cloud, u: &[f64], h: &[f64], eps: f64) -> Array2<f64> {
    check_shapes(x, y, h, u.len());
    let (n, m, d) = (x.n, y.n, x.d);
    let inv_eps = 1.0 / eps;
    let mut out = vec![0.0; n * m];
    if m > 0 {
        out.par_chunks_mut(m).enumerate().for_each(|(i, row)| {
            let q = x.point(i);
            for (j, p) in row.iter_mut().enumerate() {
                let mut c = 0.0;
                for k in 0..d {
                    let z = q[k] - y.by_coord[k * y.padded + j];
                    c += z * z;
                }
                *p = (u[i] + h[j] - c * inv_eps).exp();
            }
        });
    }
    Array2::from_shape_vec((n, m), out).expect("n × m")
}

/// Rows `first..first + lse.len()` of the reduction, written to `lse` (and `mean_cost` when
/// `COST`), on the SIMD path `path` (the tiled loop, else the parent's `widest!`).
fn rows<const COST: bool>(
    path: SimdPath,
    x: &Cloud,
    first: usize,
    y: &Cloud,
    h: &[f64],
    inv_eps: f64,
    lse: &mut [f64],
    mean_cost: &mut [f64],
) {
    let src = super::tiled::Source {
        by_coord: &y.by_coord,
        padded: y.padded,
        d: y.d,
        log_w: h,
    };
    let queries = &x.by_row[first * x.d..(first + lse.len()) * x.d];
    let kernel = super::PairKernel::Gaussian { inv_two_t: inv_eps };
    let out = if COST {
        super::tiled::Output::MeanCost(&mut *mean_cost)
    } else {
        super::tiled::Output::Nothing
    };
    if super::tiled::block(path, &src, queries, kernel, lse, out) {
        if COST {
            // This module's convention for a row without mass: mean cost 0, not NaN.
            for (c, l) in mean_cost.iter_mut().zip(lse.iter()) {
                if *l == f64::NEG_INFINITY {
                    *c = 0.0;
                }
            }
        }
        return;
    }
    if COST {
        widest!(path, rows_body::<true>(x: &Cloud, first: usize, y: &Cloud, h: &[f64], inv_eps: f64, lse: &mut [f64], mean_cost: &mut [f64]) -> ())
    } else {
        widest!(path, rows_body::<false>(x: &Cloud, first: usize, y: &Cloud, h: &[f64], inv_eps: f64, lse: &mut [f64], mean_cost: &mut [f64]) -> ())
    }
}

fn fold_lanes(a: &[f64; LANES]) -> f64 {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

/// The streaming body: per query, per chunk of data, (1) the costs `C_ij`, (2) the exponents
/// `h_j − C_ij/ε` and their lane maximum, (3) if the chunk raises the running maximum, rescale the
/// lane sums, (4) `exp(exponent − max)` added to the lane sums (and `× C_ij` to the cost sums).
#[inline(always)]
fn rows_body<const COST: bool>(
    x: &Cloud,
    first: usize,
    y: &Cloud,
    h: &[f64],
    inv_eps: f64,
    lse: &mut [f64],
    mean_cost: &mut [f64],
) {
    let d = y.d;
    let pad = y.padded;
    let mut cost = [0.0; CHUNK];
    let mut ell = [0.0; CHUNK];
    for t in 0..lse.len() {
        let q = x.point(first + t);
        let mut max = f64::NEG_INFINITY;
        let mut sum = [0.0; LANES];
        let mut csum = [0.0; LANES];
        for start in (0..pad).step_by(CHUNK) {
            let len = CHUNK.min(pad - start);
            let cost = &mut cost[..len];
            let ell = &mut ell[..len];
            // (1) C_ij, coordinate by coordinate over contiguous data.
            let y0 = &y.by_coord[start..start + len];
            for (c, &v) in cost.iter_mut().zip(y0) {
                let z = q[0] - v;
                *c = z * z;
            }
            for k in 1..d {
                let yk = &y.by_coord[k * pad + start..k * pad + start + len];
                let qk = q[k];
                for (c, &v) in cost.iter_mut().zip(yk) {
                    let z = qk - v;
                    *c += z * z;
                }
            }
            // (2) exponents and their lane maximum.
            let hs = &h[start..start + len];
            let mut lmax = [f64::NEG_INFINITY; LANES];
            for ((e, c), hh) in ell
                .chunks_exact_mut(LANES)
                .zip(cost.chunks_exact(LANES))
                .zip(hs.chunks_exact(LANES))
            {
                for l in 0..LANES {
                    e[l] = hh[l] - c[l] * inv_eps;
                    lmax[l] = if e[l] > lmax[l] { e[l] } else { lmax[l] };
                }
            }
            let chunk_max = lmax.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            if chunk_max == f64::NEG_INFINITY {
                // No mass in this chunk (padding or zero weights): it adds exactly 0.
                continue;
            }
            // (3) a new maximum rescales what was accumulated under the old one.
            if chunk_max > max {
                let s = exp_nonpositive(max - chunk_max);
                max = chunk_max;
                sum.iter_mut().for_each(|v| *v *= s);
                if COST {
                    csum.iter_mut().for_each(|v| *v *= s);
                }
            }
            // (4) the shifted exponentials, all arguments ≤ 0.
            let m = max;
            if COST {
                for (e, c) in ell.chunks_exact(LANES).zip(cost.chunks_exact(LANES)) {
                    for l in 0..LANES {
                        let w = exp_nonpositive(e[l] - m);
                        sum[l] += w;
                        csum[l] += w * c[l];
                    }
                }
            } else {
                // Four vectors of exponentials per step: the degree-13 Horner chain is latency
                // bound, and four independent chains keep the FMA ports busy. The lane sums still
                // receive the terms in index order (bit-identical to one vector per step).
                let mut groups = ell.chunks_exact(UNROLL * LANES);
                for e in &mut groups {
                    let mut w = [0.0; UNROLL * LANES];
                    for l in 0..UNROLL * LANES {
                        w[l] = exp_nonpositive(e[l] - m);
                    }
                    for u in 0..UNROLL {
                        for l in 0..LANES {
                            sum[l] += w[u * LANES + l];
                        }
                    }
                }
                for e in groups.remainder().chunks_exact(LANES) {
                    for l in 0..LANES {
                        sum[l] += exp_nonpositive(e[l] - m);
                    }
                }
            }
        }
        let total = fold_lanes(&sum);
        if max == f64::NEG_INFINITY || total == 0.0 {
            lse[t] = f64::NEG_INFINITY;
            if COST {
                mean_cost[t] = 0.0;
            }
        } else {
            lse[t] = max + total.ln();
            if COST {
                mean_cost[t] = fold_lanes(&csum) / total;
            }
        }
    }
}

/// A cached, stabilised Gibbs kernel `K_ij = exp((f⁰_i + g⁰_j − |x_i − y_j|²)/ε)` (row-major
/// `n × m`) for kernel-domain Sinkhorn sweeps between absorptions (Schmitzer 2019, §3.3): with it
/// one update is a matrix–vector product, `2` flops per entry instead of one exponential.
/// `f⁰` is shifted per row so that every exponent is `≤ 0` (the row's largest entry is 1): entries
/// below `e^{−745}` of their row's maximum underflow to 0, a relative change `< 10⁻³²³` of any row
/// sum. Memory `8·n·m` bytes.
#[derive(Debug, Clone)]
pub struct GibbsKernel {
    /// `n × m` entries, row-major.
    pub k: Vec<f64>,
    /// Rows `n`.
    pub n: usize,
    /// Columns `m`.
    pub m: usize,
    /// The row reference potentials `f⁰` (after the per-row shift).
    pub f0: Vec<f64>,
    /// The column reference potentials `g⁰`.
    pub g0: Vec<f64>,
    /// The `ε` it was built for.
    pub eps: f64,
}

impl GibbsKernel {
    /// Builds the kernel around the reference potentials `(f0, g0)`: `O(n·m·d)` time, one
    /// exponential per entry (the vectorised [`exp_nonpositive`]).
    pub fn new(x: &Cloud, y: &Cloud, f0: &[f64], g0: &[f64], eps: f64) -> Self {
        assert_eq!(x.d, y.d, "gibbs: dimensions differ");
        assert_eq!(f0.len(), x.n, "gibbs: one f0 per row");
        assert_eq!(g0.len(), y.n, "gibbs: one g0 per column");
        let (n, m, d) = (x.n, y.n, x.d);
        let inv_eps = 1.0 / eps;
        let g_scaled: Vec<f64> = g0.iter().map(|g| g * inv_eps).collect();
        let mut k = vec![0.0; n * m];
        let mut shift = vec![0.0; n];
        let path = simd_path();
        k.par_chunks_mut(m.max(1))
            .zip(shift.par_iter_mut())
            .enumerate()
            .for_each(|(i, (row, r))| {
                gibbs_row(
                    path,
                    x.point(i),
                    y,
                    &g_scaled,
                    f0[i] * inv_eps,
                    inv_eps,
                    d,
                    row,
                    r,
                )
            });
        let f0 = f0.iter().zip(&shift).map(|(f, r)| f - eps * r).collect();
        GibbsKernel {
            k,
            n,
            m,
            f0,
            g0: g0.to_vec(),
            eps,
        }
    }

    /// `out_i = Σ_j K_ij v_j`, parallel over fixed blocks of rows, lane sums folded in a fixed
    /// order (bit-identical for any thread count). `O(n·m)`.
    pub fn matvec(&self, v: &[f64], out: &mut [f64]) {
        assert_eq!(v.len(), self.m, "gibbs: matvec length");
        assert_eq!(out.len(), self.n, "gibbs: matvec output length");
        let (m, path) = (self.m, simd_path());
        out.par_chunks_mut(ROW_BLOCK)
            .enumerate()
            .for_each(|(b, out_b)| {
                for (t, o) in out_b.iter_mut().enumerate() {
                    let i = b * ROW_BLOCK + t;
                    *o = dot(path, &self.k[i * m..(i + 1) * m], v);
                }
            });
    }

    /// `out_j = Σ_i u_i K_ij`, parallel over fixed blocks of columns, each summed over the rows in
    /// index order (bit-identical for any thread count). `O(n·m)`.
    pub fn matvec_t(&self, u: &[f64], out: &mut [f64]) {
        assert_eq!(u.len(), self.n, "gibbs: matvec_t length");
        assert_eq!(out.len(), self.m, "gibbs: matvec_t output length");
        let (m, path) = (self.m, simd_path());
        out.par_chunks_mut(COL_BLOCK)
            .enumerate()
            .for_each(|(b, out_b)| {
                axpy_rows(path, &self.k, m, b * COL_BLOCK, u, out_b);
            });
    }
}

/// Columns per parallel task of [`GibbsKernel::matvec_t`] (a block of 256 doubles stays in L1
/// while all rows stream past it).
const COL_BLOCK: usize = 256;

#[inline(always)]
fn gibbs_row_body(
    q: &[f64],
    y: &Cloud,
    g_scaled: &[f64],
    f_scaled: f64,
    inv_eps: f64,
    d: usize,
    row: &mut [f64],
    shift: &mut f64,
) {
    let m = row.len();
    for (j, r) in row.iter_mut().enumerate() {
        let z = q[0] - y.by_coord[j];
        *r = z * z;
    }
    for k in 1..d {
        let yk = &y.by_coord[k * y.padded..k * y.padded + m];
        for (r, &v) in row.iter_mut().zip(yk) {
            let z = q[k] - v;
            *r += z * z;
        }
    }
    let mut mx = f64::NEG_INFINITY;
    for (r, &g) in row.iter_mut().zip(g_scaled) {
        *r = f_scaled + g - *r * inv_eps;
        mx = if *r > mx { *r } else { mx };
    }
    for r in row.iter_mut() {
        *r = exp_nonpositive(*r - mx);
    }
    *shift = mx;
}

fn gibbs_row(
    path: SimdPath,
    q: &[f64],
    y: &Cloud,
    g_scaled: &[f64],
    f_scaled: f64,
    inv_eps: f64,
    d: usize,
    row: &mut [f64],
    shift: &mut f64,
) {
    widest!(path, gibbs_row_body(q: &[f64], y: &Cloud, g_scaled: &[f64], f_scaled: f64, inv_eps: f64, d: usize, row: &mut [f64], shift: &mut f64) -> ())
}

fn dot(path: SimdPath, a: &[f64], b: &[f64]) -> f64 {
    widest!(path, dot_body(a: &[f64], b: &[f64]) -> f64)
}

fn axpy_rows(path: SimdPath, k: &[f64], m: usize, first: usize, u: &[f64], out: &mut [f64]) {
    widest!(path, axpy_rows_body(k: &[f64], m: usize, first: usize, u: &[f64], out: &mut [f64]) -> ())
}

/// `Σ_j a_j b_j` with [`LANES`] partial sums folded in a fixed order.
#[inline(always)]
fn dot_body(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    fold_lanes(&acc) + tail
}

/// `out[c] = Σ_i u_i K[i, first + c]` over the rows in index order.
#[inline(always)]
fn axpy_rows_body(k: &[f64], m: usize, first: usize, u: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    let w = out.len();
    for (i, &ui) in u.iter().enumerate() {
        let row = &k[i * m + first..i * m + first + w];
        for (o, &v) in out.iter_mut().zip(row) {
            *o += ui * v;
        }
    }
}
