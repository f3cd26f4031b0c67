//! The hot path: every `O(N·M·d)` loop of the library lives here.
//!
//! One reduction serves the optimal DAE, deep DAEs (blurring mean shift), mixture flows and
//! entropic OT: for queries `y_j` (`M × d`), data `x_i` (`N × d`) with weights `w_i` and a pairwise
//! log-weight `ℓ(y_j, x_i)`,
//!
//! ```text
//! log Z_j = log Σ_i w_i exp ℓ(y_j, x_i)               (the log-normaliser)
//! Φ_j     = Σ_i w_i exp ℓ(y_j, x_i) x_i / Z_j          (the softmax-weighted mean)
//! ```
//!
//! computed in one streaming pass with a running maximum (online softmax), never forming the
//! `M × N` matrix nor `exp ℓ` itself, so nothing underflows: `t = 10⁻⁶` and `t = 10⁶` both work.
//!
//! **Determinism**: every query is reduced by one thread, over the data in a fixed order with a
//! fixed lane structure, so the result is bit-identical for any thread count. Across machines the
//! last bits may differ: the register-tiled loop uses fused multiply-adds where the CPU has them,
//! and its AVX-512, AVX2 and portable exponentials are different (all within 1 ulp of libm,
//! tested in `simd` and `portable`).
//!
//! **Three loops**: for `d ≤ 8` (except on the `scalar` SIMD path), the register-tiled loop
//! (`tiled`): cost, exponential and accumulation fused in registers for a tile of queries at a
//! time (four on AVX-512, and on AVX2 up to d = 3; two on the portable path), with one running max
//! per lane (Gaussian, Laplace and cube noise, and the Sinkhorn log-sum-exps of [`lse`]), on
//! explicit AVX-512 or AVX2 vectors or on plain arrays the compiler vectorises (NEON on aarch64). Otherwise, in low dimension, the
//! chunked direct loop: the pairwise costs are computed on coordinate-major data in chunks
//! (vectorised over data points by the compiler, for the vector unit of the path). Which
//! implementation runs is the SIMD path ([`simd_path`]): the widest the CPU has, or one forced by
//! `DEEPTRANSPORT_SIMD` or [`set_simd_path`]. For squared-Euclidean costs in dimension ≥
//! [`GEMM_MIN_DIM`],
//! `|x − y|² = |x|² + |y|² − 2⟨x, y⟩` with the inner products as blocked matrix products (faer's
//! GEMM), after centring both clouds on the data's coordinate-wise median.
//!
//! **Precision with outliers** (issue 17): the tiled and direct loops take differences of the raw
//! coordinates, `y − x_i`, exact to one rounding (no centre that an outlier could move), so each
//! log-weight is accurate to `(d + 3)ε` relative whatever the other points are (one point at
//! `10²⁰` used to make the others' means `0.0`). They sum the raw coordinates, `Φ = Σ s_i x_i /
//! Σ s_i`: a convex combination, so `Φ` stays in the box of the points that carry weight up to
//! summation rounding `nε·max|x_i|` over those points, one atom carrying all the mass gives that
//! atom exactly, and a far query costs nothing (summing the displacements `x_i − y` and adding
//! `y` back rounds at the scale of `|y|`, which for a query `10³` away from the data left `Φ`
//! outside the data's box). The GEMM expansion cancels: its error in a cost is at most
//! `β(|ỹ|² + |x̃|²)`, `β = (4d + 48)ε`, for the centred points (the bound of [`nearest`]). For
//! each query and chunk of data the kernel checks that bound times the slope of the log-weight
//! (`1/2t`) against [`GEMM_LOG_WEIGHT_TOLERANCE`], and where it fails (a far query, a chunk
//! holding an outlier) computes that row's costs from direct differences instead. So every
//! log-weight is within `max((d + 3)ε|ℓ|, τ)` of exact.

/// Runs `$body(args)` compiled for AVX-512 or AVX2 + FMA as `$path` says, else for the baseline
/// target (the `portable` and `scalar` paths). Every variant performs the same IEEE operations in
/// the same order (no `mul_add`, no contraction), so the results are bit-identical whichever runs.
macro_rules! widest {
    ($path:expr, $body:ident $(::<$gen:tt>)? ( $($arg:ident : $ty:ty),* ) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512($($arg: $ty),*) -> $ret {
                $body $(::<$gen>)? ($($arg),*)
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($arg: $ty),*) -> $ret {
                $body $(::<$gen>)? ($($arg),*)
            }
            match $path {
                // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked by the guard).
                $crate::kernel::SimdPath::Avx512 if $crate::kernel::simd_path::has_avx512() => {
                    return unsafe { avx512($($arg),*) };
                }
                // SAFETY: the CPU supports AVX2 and FMA (checked by the guard).
                $crate::kernel::SimdPath::Avx2 if $crate::kernel::simd_path::has_avx2() => {
                    return unsafe { avx2($($arg),*) };
                }
                _ => {}
            }
        }
        let _ = $path;
        $body $(::<$gen>)? ($($arg),*)
    }};
}

mod exp;
pub mod farthest;
pub mod knn;
pub mod lse;
pub mod pairwise;
mod portable;
mod simd;
pub mod simd_path;
mod single;
mod tiled;

pub use exp::exp_nonpositive;
pub use simd_path::{SimdPath, set_simd_path, simd_path, with_simd_path};
pub use single::softmax_mean_f32;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;

/// The pairwise log-weight `ℓ(y, x) = log ν_t(y − x) + const` of a noise family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PairKernel {
    /// `ℓ = −|y − x|² / 2t`, stored as `1/2t`.
    Gaussian {
        /// `1 / 2t`.
        inv_two_t: f64,
    },
    /// `ℓ = −|y − x|₁ / b`.
    Laplace {
        /// `1 / b`.
        inv_b: f64,
    },
    /// `ℓ = 0` if `|y − x|_∞ ≤ a`, `−∞` otherwise.
    Cube {
        /// The half-width `a`.
        half_width: f64,
    },
    /// `ℓ = −((ν + d)/2) · log(1 + |y − x|² / (ν s²))`.
    Student {
        /// `(ν + d) / 2`.
        half_nu_plus_d: f64,
        /// `1 / (ν s²)`.
        inv_nu_s2: f64,
    },
}

impl PairKernel {
    fn is_squared_euclidean(self) -> bool {
        matches!(
            self,
            PairKernel::Gaussian { .. } | PairKernel::Student { .. }
        )
    }

    /// `sup |dℓ/dc|` over squared distances `c ≥ 0` for the squared-Euclidean kernels: `1/2t`,
    /// and `((ν + d)/2)/(ν s²)` for Student (at `c = 0`); how much a cost error moves `ℓ`.
    fn squared_cost_slope(self) -> f64 {
        match self {
            PairKernel::Gaussian { inv_two_t } => inv_two_t,
            PairKernel::Student {
                half_nu_plus_d,
                inv_nu_s2,
            } => half_nu_plus_d * inv_nu_s2,
            _ => f64::INFINITY,
        }
    }
}

/// Data points per streamed chunk: a chunk's costs and weights (2 × 4 KiB) stay in L1.
const CHUNK: usize = 512;
/// Queries per parallel task: enough work per task to amortise scheduling, small enough that
/// two cores stay balanced at M = 1000.
const QUERY_BLOCK: usize = 32;
/// Queries per task on the GEMM path: larger blocks make the Gram products efficient.
const GEMM_QUERY_BLOCK: usize = 128;
/// Data points per chunk on the GEMM path (the Gram block is `GEMM_QUERY_BLOCK × GEMM_CHUNK`).
const GEMM_CHUNK: usize = 256;
/// Accumulator lanes: sums are kept in 8 interleaved partial sums so that the loops vectorise
/// on any vector width while the summation order stays fixed (hence bit-identical results).
const LANES: usize = 8;
/// From this dimension on, squared-Euclidean costs go through GEMM (see the module docs) on the
/// AVX-512, AVX2 and scalar paths. Measured (Φ_t, N = M = 20 000, 2 cores, AVX-512): GEMM
/// 0.40–0.46 s from d = 4 to 16; the tiled loop 0.18 s at d = 4 and 0.30 s at d = 8; the chunked
/// loop 1.03 s at d = 12. So d ≤ 8 stays tiled, and the squared-Euclidean costs above it take
/// GEMM. On the AVX2 path the two are level at d = 8 (0.61 s each).
pub const GEMM_MIN_DIM: usize = 9;

/// The GEMM crossover of the portable path: its tiled loop runs on narrow vectors (two `f64` per
/// SSE2 or NEON register, four registers per vector), whose accumulators no longer fit the
/// register file from d = 4 on. Measured with the portable path forced on x86-64 (SSE2), Φ_t
/// N = M = 20 000: GEMM 0.84 s against the tiled 1.01 s at d = 4, 0.92 against 1.29 s at d = 8.
pub const GEMM_MIN_DIM_PORTABLE: usize = 4;

/// The largest error the GEMM path lets its expansion put into a log-weight `ℓ` (module docs);
/// rows whose rounding bound exceeds it get direct differences. `10⁻⁹` moves a softmax weight by
/// at most `2·10⁻⁹` relative, hence the mean by at most `2·10⁻⁹` times the posterior's reach, and
/// keeps GEMM for data of norm up to `~10³` at `t = 1` in `d = 100`.
pub const GEMM_LOG_WEIGHT_TOLERANCE: f64 = 1e-9;

/// The dimension from which squared-Euclidean costs take GEMM on `path` ([`GEMM_MIN_DIM`],
/// [`GEMM_MIN_DIM_PORTABLE`]).
pub fn gemm_min_dim(path: SimdPath) -> usize {
    match path {
        SimdPath::Portable => GEMM_MIN_DIM_PORTABLE,
        _ => GEMM_MIN_DIM,
    }
}

/// The result of [`softmax_mean`]: one log-normaliser and one weighted mean per query.
#[derive(Debug, Clone)]
pub struct SoftmaxMean {
    /// `log Z_j = log Σ_i w_i exp ℓ(y_j, x_i)` (`−∞` where every weight vanishes).
    pub log_normalizer: Array1<f64>,
    /// `Σ_i softmax_ij x_i`, one row per query (NaN rows where `log Z_j = −∞`).
    pub mean: Array2<f64>,
}

/// The streaming softmax reduction over all `M × N` pairs (module docs). `log_weights` are
/// `log w_i` of normalised weights (`None`: uniform `1/N`); `progress` is called with the number
/// of queries finished.
///
/// Cost `O(M·N·d)` time, `O((M + N)·d)` memory. Requires `queries.ncols() == data.ncols()` and
/// `N ≥ 1`; callers validate user input before reaching the kernel.
pub fn softmax_mean(
    queries: ArrayView2<f64>,
    data: ArrayView2<f64>,
    log_weights: Option<ArrayView1<f64>>,
    kernel: PairKernel,
    progress: &(dyn Fn(usize) + Sync),
) -> SoftmaxMean {
    let d = data.ncols();
    assert_eq!(
        queries.ncols(),
        d,
        "kernel: query and data dimensions differ"
    );
    assert!(data.nrows() > 0, "kernel: no data");
    let path = simd_path();
    let use_gemm = d >= gemm_min_dim(path) && kernel.is_squared_euclidean();
    let gemm_centre = use_gemm.then(|| coordinate_median(&[data]));
    let prepared = Prepared::new(data, log_weights, gemm_centre);
    let block = if use_gemm {
        GEMM_QUERY_BLOCK
    } else {
        QUERY_BLOCK
    };
    let slope = kernel.squared_cost_slope();
    let (reduction, _) = by_query_blocks(queries, None, block, progress, |q, lse_b, mean_b| {
        // A squared-Euclidean cost with the log-weight `$lw(|y − x|²)`: GEMM (which writes Φ
        // itself) or the direct loop.
        macro_rules! squared_euclidean {
            ($lw:expr) => {{
                let lw = $lw;
                if use_gemm {
                    gemm_block(path, &prepared, q.view(), lw, slope, lse_b, mean_b);
                    return;
                }
                let cost = |a: f64, z: f64| a + z * z;
                direct_block(path, &prepared, q.view(), cost, lw, lse_b, mean_b)
            }};
        }
        // One monomorphised loop per kernel, so that no match runs inside the pair loop.
        match kernel {
            _ if !use_gemm
                && tiled::block(
                    path,
                    &prepared.source(),
                    q.as_slice().expect("owned, standard layout"),
                    kernel,
                    lse_b,
                    tiled::Output::Mean(mean_b),
                ) => {}
            PairKernel::Gaussian { inv_two_t } => squared_euclidean!(move |c: f64| -c * inv_two_t),
            PairKernel::Student {
                half_nu_plus_d,
                inv_nu_s2,
            } => squared_euclidean!(move |c: f64| -half_nu_plus_d * (c * inv_nu_s2).ln_1p()),
            PairKernel::Laplace { inv_b } => direct_block(
                path,
                &prepared,
                q.view(),
                |a, z| a + z.abs(),
                move |c| -c * inv_b,
                lse_b,
                mean_b,
            ),
            PairKernel::Cube { half_width } => direct_block(
                path,
                &prepared,
                q.view(),
                |a, z| a.max(z.abs()),
                move |c| {
                    if c <= half_width {
                        0.0
                    } else {
                        f64::NEG_INFINITY
                    }
                },
                lse_b,
                mean_b,
            ),
        }
    });
    reduction
}

/// `D²`, the squared diagonal of the clouds' joint bounding box, `Σ_k (max_k − min_k)²`: an upper
/// bound on every `|x_i − y_j|²` (the scale of the exact solver's artificial arcs, of
/// Sinkhorn's first ε, and of the `f32` kernel's overflow check).
pub(crate) fn box_diameter_squared(clouds: &[ArrayView2<f64>]) -> f64 {
    (0..clouds[0].ncols())
        .map(|k| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &v in clouds.iter().flat_map(|c| c.column(k)) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            (hi - lo) * (hi - lo)
        })
        .sum()
}

/// The coordinate-wise median of the rows of all `clouds` together: a centre that a few far
/// outliers do not move (the mean moves by `outlier / n`).
pub(crate) fn coordinate_median(clouds: &[ArrayView2<f64>]) -> Vec<f64> {
    let mut col = Vec::with_capacity(clouds.iter().map(|c| c.nrows()).sum());
    (0..clouds[0].ncols())
        .map(|k| {
            col.clear();
            col.extend(clouds.iter().flat_map(|c| c.column(k).into_iter().copied()));
            let mid = col.len() / 2;
            *col.select_nth_unstable_by(mid, f64::total_cmp).1
        })
        .collect()
}

/// `centre` added to every row of `means` (rows of `centre.len()` values): means computed on
/// points centred on `centre`, moved back.
fn add_centre(means: &mut [f64], centre: &[f64]) {
    for row in means.chunks_mut(centre.len()) {
        row.iter_mut().zip(centre).for_each(|(m, c)| *m += c);
    }
}

/// The shared frame of [`softmax_mean`] and [`softmax_mean_f32`]: the queries in fixed blocks of
/// `block` rows, in parallel (one thread per block, so results do not depend on the thread
/// count); each block centred on `centre` (if any) and handed to `reduce` with its `log Z` and
/// mean rows; then the means moved back by `centre` and `progress` told. Returns the reduction
/// and what `reduce` returned for every block.
fn by_query_blocks<R: Send>(
    queries: ArrayView2<f64>,
    centre: Option<&Array1<f64>>,
    block: usize,
    progress: &(dyn Fn(usize) + Sync),
    reduce: impl Fn(&Array2<f64>, &mut [f64], &mut [f64]) -> R + Sync,
) -> (SoftmaxMean, Vec<R>) {
    let (m, d) = queries.dim();
    let mut lse = vec![0.0; m];
    let mut mean = vec![0.0; m * d];
    let results = lse
        .par_chunks_mut(block)
        .zip(mean.par_chunks_mut(block * d))
        .enumerate()
        .map(|(b, (lse_b, mean_b))| {
            let rows = b * block..b * block + lse_b.len();
            let mut q = queries.slice(ndarray::s![rows, ..]).to_owned();
            if let Some(centre) = centre {
                q -= centre;
            }
            let r = reduce(&q, lse_b, mean_b);
            if let Some(centre) = centre {
                add_centre(mean_b, centre.as_slice().expect("a standard-layout vector"));
            }
            progress(lse_b.len());
            r
        })
        .collect();
    let reduction = SoftmaxMean {
        log_normalizer: Array1::from(lse),
        mean: Array2::from_shape_vec((m, d), mean).expect("m × d"),
    };
    (reduction, results)
}

/// The data in the two layouts the paths want, padded to a multiple of [`LANES`] with atoms of
/// weight zero (`log w = −∞`), which add exactly `+0` to every sum.
struct Prepared {
    padded: usize,
    d: usize,
    /// Coordinate-major raw coordinates: coordinate `k` of atom `i` at `k·padded + i` (direct
    /// and tiled paths, and the GEMM path's direct rows).
    by_coord: Vec<f64>,
    /// GEMM path only: the centre `c` (the coordinate-wise median of the data), the centred atoms
    /// `x̃ = x − c` row-major `padded × d`, `|x̃_i|²`, and the largest `|x̃_i|²` of every chunk of
    /// [`GEMM_CHUNK`] atoms (for the rounding bound of the expansion).
    centre: Vec<f64>,
    by_row: Vec<f64>,
    norms: Vec<f64>,
    chunk_norms: Vec<f64>,
    /// `log w_i` including the `−log N` of uniform weights, `−∞` on padding.
    log_w: Vec<f64>,
}

impl Prepared {
    fn new(
        data: ArrayView2<f64>,
        log_weights: Option<ArrayView1<f64>>,
        gemm_centre: Option<Vec<f64>>,
    ) -> Self {
        let (n, d) = data.dim();
        let padded = n.div_ceil(LANES) * LANES;
        let mut by_coord = vec![0.0; d * padded];
        let mut log_w = vec![f64::NEG_INFINITY; padded];
        let uniform = -(n as f64).ln();
        for i in 0..n {
            for k in 0..d {
                by_coord[k * padded + i] = data[[i, k]];
            }
            log_w[i] = log_weights.map_or(uniform, |w| w[i]);
        }
        let centre = gemm_centre.unwrap_or_default();
        let (mut by_row, mut norms) = (Vec::new(), Vec::new());
        if !centre.is_empty() {
            by_row = vec![0.0; padded * d];
            norms = vec![0.0; padded];
            for i in 0..n {
                let row = &mut by_row[i * d..(i + 1) * d];
                for (k, v) in row.iter_mut().enumerate() {
                    *v = data[[i, k]] - centre[k];
                }
                norms[i] = row.iter().map(|v| v * v).sum();
            }
        }
        let chunk_norms = norms
            .chunks(GEMM_CHUNK)
            .map(|c| c.iter().copied().fold(0.0, f64::max))
            .collect();
        Prepared {
            padded,
            d,
            by_coord,
            centre,
            by_row,
            norms,
            chunk_norms,
            log_w,
        }
    }
}

impl Prepared {
    fn source(&self) -> tiled::Source<'_> {
        tiled::Source {
            by_coord: &self.by_coord,
            padded: self.padded,
            d: self.d,
            log_w: &self.log_w,
        }
    }
}

/// Running state of one query's online softmax: the max `m`, and lane sums of `e^{ℓ − m}` and of
/// `e^{ℓ − m} x_k`.
struct Online {
    max: f64,
    sum: [f64; LANES],
    acc: Vec<[f64; LANES]>,
}

impl Online {
    fn new(d: usize) -> Self {
        Online {
            max: f64::NEG_INFINITY,
            sum: [0.0; LANES],
            acc: vec![[0.0; LANES]; d],
        }
    }

    /// Writes `log Z` and the mean; lanes are folded in a fixed order.
    fn finish(&self, lse: &mut f64, mean: &mut [f64]) {
        let total = fold_lanes(&self.sum);
        let acc: Vec<f64> = self.acc.iter().map(fold_lanes).collect();
        finish_row(self.max, total, &acc, lse, mean);
    }
}

/// `log Z = m + log Σ` and the mean `acc / Σ`; a query whose weights all vanish gets `−∞` and NaN.
fn finish_row(max: f64, total: f64, acc: &[f64], lse: &mut f64, mean: &mut [f64]) {
    if max == f64::NEG_INFINITY || total == 0.0 {
        *lse = f64::NEG_INFINITY;
        mean.fill(f64::NAN);
        return;
    }
    *lse = max + total.ln();
    for (m, a) in mean.iter_mut().zip(acc) {
        *m = a / total;
    }
}

fn fold_lanes(a: &[f64; LANES]) -> f64 {
    ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

fn lane_max(v: &[f64]) -> f64 {
    let mut m = [f64::NEG_INFINITY; LANES];
    for c in v.chunks_exact(LANES) {
        for l in 0..LANES {
            m[l] = if c[l] > m[l] { c[l] } else { m[l] };
        }
    }
    m.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b))
}

/// Raises a running max to `new_max` and returns the factor `e^{old − new}` that rescales what was
/// accumulated under the old one.
#[inline(always)]
fn raise_max(max: &mut f64, new_max: f64) -> f64 {
    let scale = exp_nonpositive(*max - new_max);
    *max = new_max;
    scale
}

/// Turns a chunk of log-weights `ℓ` (length a multiple of [`LANES`]) into `e^{ℓ − m}` in place,
/// raising the running max `m` first if the chunk exceeds it, and adds them to the lane sums.
/// Returns the factor by which everything accumulated before must be rescaled (`None`: the chunk
/// carries no mass and was zeroed).
#[inline(always)]
fn exponentiate(ell: &mut [f64], max: &mut f64, sum: &mut [f64; LANES]) -> Option<f64> {
    let chunk_max = lane_max(ell);
    if chunk_max == f64::NEG_INFINITY {
        ell.fill(0.0);
        return None;
    }
    let scale = if chunk_max > *max {
        let s = raise_max(max, chunk_max);
        sum.iter_mut().for_each(|v| *v *= s);
        s
    } else {
        1.0
    };
    let m = *max;
    for c in ell.chunks_exact_mut(LANES) {
        for l in 0..LANES {
            c[l] = exp_nonpositive(c[l] - m);
            sum[l] += c[l];
        }
    }
    Some(scale)
}

/// Direct path: per query, stream the data in chunks; `combine` folds one coordinate difference
/// into the pair cost, `log_weight` turns the cost into `ℓ`. Writes `Φ = Σ s_i x_i` (module
/// docs: the differences of raw coordinates are exact to one rounding).
#[inline(always)]
fn direct_block_body(
    p: &Prepared,
    queries: ArrayView2<f64>,
    combine: impl Fn(f64, f64) -> f64 + Copy,
    log_weight: impl Fn(f64) -> f64 + Copy,
    lse: &mut [f64],
    mean: &mut [f64],
) {
    let d = p.d;
    let mut ell = vec![0.0; CHUNK];
    for (j, q) in queries.rows().into_iter().enumerate() {
        let mut st = Online::new(d);
        for start in (0..p.padded).step_by(CHUNK) {
            let len = CHUNK.min(p.padded - start);
            let ell = &mut ell[..len];
            ell.fill(0.0);
            for k in 0..d {
                let xk = &p.by_coord[k * p.padded + start..][..len];
                let yk = q[k];
                for (c, &x) in ell.iter_mut().zip(xk) {
                    *c = combine(*c, yk - x);
                }
            }
            for (c, &lw) in ell.iter_mut().zip(&p.log_w[start..start + len]) {
                *c = log_weight(*c) + lw;
            }
            let Some(scale) = exponentiate(ell, &mut st.max, &mut st.sum) else {
                continue;
            };
            for (k, acc_k) in st.acc.iter_mut().enumerate() {
                // A local copy: LLVM cannot prove the heap-held lanes don't alias `ell`.
                let mut acc = *acc_k;
                if scale != 1.0 {
                    acc.iter_mut().for_each(|v| *v *= scale);
                }
                let xk = &p.by_coord[k * p.padded + start..][..len];
                for (c, x) in ell.chunks_exact(LANES).zip(xk.chunks_exact(LANES)) {
                    for l in 0..LANES {
                        acc[l] += c[l] * x[l];
                    }
                }
                *acc_k = acc;
            }
        }
        st.finish(&mut lse[j], &mut mean[j * d..(j + 1) * d]);
    }
}

/// GEMM path for squared-Euclidean costs (Gaussian and Student noise) in high dimension: per
/// chunk, the Gram block `Q̃ X̃ᵀ` and the weighted sum `P X̃` are matrix products on the points
/// centred on the data's median. A row (query × chunk) whose expansion error bound
/// `β(|ỹ|² + max|x̃|²)·slope` exceeds [`GEMM_LOG_WEIGHT_TOLERANCE`] gets its costs from direct
/// differences of the raw coordinates instead (module docs). Writes `Φ` itself.
#[inline(always)]
fn gemm_block_body(
    p: &Prepared,
    q: ArrayView2<f64>,
    log_weight: impl Fn(f64) -> f64 + Copy,
    slope: f64,
    lse: &mut [f64],
    mean: &mut [f64],
) {
    use faer::{Accum, MatMut, MatRef, Par};
    let (mq, d) = q.dim();
    let mut qs = q.as_standard_layout().into_owned();
    for mut row in qs.rows_mut() {
        row.iter_mut().zip(&p.centre).for_each(|(v, c)| *v -= c);
    }
    let qs = qs.as_slice().expect("standard layout");
    let qn: Vec<f64> = qs
        .chunks(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    // The rounding bound of the centred expansion (see `nearest`), scaled to log-weights.
    let beta = (4 * d + 48) as f64 * f64::EPSILON * slope;
    let q_mat = MatRef::from_row_major_slice(qs, mq, d);
    let mut gram = vec![0.0; mq * GEMM_CHUNK];
    let mut acc = vec![0.0; mq * d];
    let mut max = vec![f64::NEG_INFINITY; mq];
    let mut sum = vec![[0.0; LANES]; mq];
    for (chunk, start) in (0..p.padded).step_by(GEMM_CHUNK).enumerate() {
        let len = GEMM_CHUNK.min(p.padded - start);
        let x_mat = MatRef::from_row_major_slice(&p.by_row[start * d..(start + len) * d], len, d);
        let g = &mut gram[..mq * len];
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(g, mq, len),
            Accum::Replace,
            q_mat,
            x_mat.transpose(),
            1.0,
            Par::Seq,
        );
        for j in 0..mq {
            let row = &mut g[j * len..(j + 1) * len];
            if beta * (qn[j] + p.chunk_norms[chunk]) <= GEMM_LOG_WEIGHT_TOLERANCE {
                let qn_j = qn[j];
                for (v, &xn) in row.iter_mut().zip(&p.norms[start..start + len]) {
                    // Rounding can push a tiny squared distance below zero; it is ≥ 0 exactly.
                    let c = qn_j + xn - 2.0 * *v;
                    *v = if c > 0.0 { c } else { 0.0 };
                }
            } else {
                direct_squared_costs(p, q.row(j), start, row);
            }
            for (v, &lw) in row.iter_mut().zip(&p.log_w[start..start + len]) {
                *v = log_weight(*v) + lw;
            }
            // Locals, not the heap vectors: LLVM cannot prove those don't alias `row`, and would
            // not vectorise the exponentials.
            let (mut m, mut s) = (max[j], sum[j]);
            if let Some(scale) = exponentiate(row, &mut m, &mut s)
                && scale != 1.0
            {
                acc[j * d..(j + 1) * d].iter_mut().for_each(|a| *a *= scale);
            }
            (max[j], sum[j]) = (m, s);
        }
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(&mut acc, mq, d),
            Accum::Add,
            MatRef::from_row_major_slice(g, mq, len),
            x_mat,
            1.0,
            Par::Seq,
        );
    }
    for j in 0..mq {
        let row = &mut mean[j * d..(j + 1) * d];
        finish_row(
            max[j],
            fold_lanes(&sum[j]),
            &acc[j * d..(j + 1) * d],
            &mut lse[j],
            row,
        );
        add_centre(row, &p.centre);
    }
}

/// `row[i] = |y − x_{start+i}|²` by direct differences of the raw coordinates.
#[inline(always)]
fn direct_squared_costs(p: &Prepared, y: ArrayView1<f64>, start: usize, row: &mut [f64]) {
    row.fill(0.0);
    for (k, &yk) in y.iter().enumerate() {
        let xk = &p.by_coord[k * p.padded + start..][..row.len()];
        for (v, &x) in row.iter_mut().zip(xk) {
            let z = yk - x;
            *v += z * z;
        }
    }
}

/// Runtime CPU dispatch: the same generic body compiled for AVX-512, AVX2 and the baseline, the
/// one `path` names run (the baseline for the `portable` and `scalar` paths), so that one ordinary
/// build uses the whole vector width. The bodies never call `mul_add` and the compiler does not
/// contract `a * b + c`, so every variant performs the same IEEE operations in the same order:
/// results are bit-identical whichever variant runs.
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident => $body:ident ( $($arg:ident : $ty:ty),* ) $(, $gen:ident : $bound:path)*) => {
        $(#[$doc])*
        fn $name<$($gen: $bound + Copy),*>(path: SimdPath, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512<$($gen: $bound + Copy),*>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<$($gen: $bound + Copy),*>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                match path {
                    // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked by the guard).
                    SimdPath::Avx512 if simd_path::has_avx512() => {
                        return unsafe { avx512($($arg),*) };
                    }
                    // SAFETY: the CPU supports AVX2 and FMA (checked by the guard).
                    SimdPath::Avx2 if simd_path::has_avx2() => return unsafe { avx2($($arg),*) },
                    _ => {}
                }
            }
            let _ = path;
            $body($($arg),*)
        }
    };
}

dispatch!(
    /// [`direct_block_body`] for the vector unit of the path.
    direct_block => direct_block_body(
        p: &Prepared,
        queries: ArrayView2<f64>,
        combine: C,
        log_weight: L,
        lse: &mut [f64],
        mean: &mut [f64]
    ),
    C: Fn(f64, f64) -> f64,
    L: Fn(f64) -> f64
);

dispatch!(
    /// [`gemm_block_body`] for the vector unit of the path (faer's GEMM dispatches by itself).
    gemm_block => gemm_block_body(
        p: &Prepared,
        q: ArrayView2<f64>,
        log_weight: L,
        slope: f64,
        lse: &mut [f64],
        mean: &mut [f64]
    ),
    L: Fn(f64) -> f64
);

// Declared after `dispatch!`, which it uses.
pub mod nearest;
