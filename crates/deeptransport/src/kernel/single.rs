//! The Gaussian softmax reduction in single precision ([`softmax_mean_f32`]): the same online
//! softmax as [`super::softmax_mean`] on the register-tiled path, with sixteen `f32` lanes per
//! AVX-512 register (two `ymm` on AVX2) and a shorter exponential, folded into `f64` after every
//! chunk of data so that the rounding error does not grow with `N`.

use super::{
    PairKernel, QUERY_BLOCK, SimdPath, SoftmaxMean, box_diameter_squared, by_query_blocks,
    simd_path, tiled,
};
use crate::error::{Error, Result};
use ndarray::{ArrayView1, ArrayView2, Axis};

/// The largest `D²/2t` (`D` the bounding-box diameter of the centred data and queries) for which
/// every pair cost and log-weight is a finite `f32`, with a wide margin (`f32::MAX ≈ 3.4·10³⁸`).
const MAX_SCALED_DIAMETER: f64 = 1e30;

/// The largest dimension offered in `f32`: where its error bound is tested (`tests/kernel_f32.rs`).
const MAX_DIM: usize = 3;

/// [`super::softmax_mean`] for Gaussian kernels in single precision:
///
/// ```text
/// log Z_j = log Σ_i w_i exp(−|y_j − x_i|²/2t),   Φ_j = Σ_i w_i exp(−|y_j − x_i|²/2t) x_i / Z_j
/// ```
///
/// (eq. 3 with an empirical μ₀ and Gaussian noise). The data and queries are centred on the data
/// mean in `f64`, then rounded to `f32`; costs, log-weights `ℓ_ij = −|y_j − x_i|²/2t + log w_i −
/// max log w` and exponentials (a table-driven `f32` exp, within 1 ulp) are `f32`, sixteen lanes
/// at a time; every lane's `f32` sums cover at most 128 data points (one chunk of 2048) before
/// they are folded into `f64`, so the summation error does not grow with `N`. `log w` is shifted
/// by its maximum first (exact for uniform weights) and the maximum added back in `f64`.
///
/// **Accuracy** (first order in `u = 2⁻²⁴`; asserted in `tests/kernel_f32.rs`, which derives
/// it). For a query `y_j`, call the pairs that matter those with `ℓ_ij ≥ max_i ℓ_ij − 64` (the
/// `f32` exponential flushes `e^{−64} ≈ 1.6·10⁻²⁸` and below to 0, so that no subnormal number
/// slows the loop; the others weigh less than that relative to the largest); let `Λ` be the
/// largest `|ℓ_ij|` and `Z` the largest `|y_j − x_i|` over them, and `R` the largest
/// `|coordinate|` of the centred data and queries. Then, against the exact result,
///
/// ```text
/// |Φ_f32 − Φ|_∞ ≤ 4·Z·ε + 2γ·R + N·2⁻⁹⁰·R,   |log Z_f32 − log Z| ≤ ε + γ,
/// ε = u·((d + 3)·Λ + 4√d·R·Z/t + 800),   γ = 130·u,
/// ```
///
/// where `ε` bounds the error of one log-weight (coordinate rounding `4√d·R·Z/t`, cost and
/// log-weight rounding `(d + 3)Λ`, and the exponent argument, the exponential and at most 128
/// running-max rescalings per lane and chunk, `800`), and `γ` that of the 128-term lane sums.
/// For queries among the data, `Λ ≲ 64 + |log w − max log w|` and `Z ≲ √(128·t)`, so
/// `ε ≲ u·(46√d·R/√t + 64·(d + 3) + 800)`. The bound adds worst cases that random rounding does
/// not reach: over the test's cases the observed error is below `10⁻³` of it for `Φ` and
/// `2·10⁻²` for `log Z`; at `N = M = 20 000`, standard normal data in `d = 2`, `t = 0.5` it is
/// `6·10⁻⁷`. `f64` ([`super::softmax_mean`]) is exact to about `10⁻¹⁴`.
///
/// **Domain**: Gaussian kernels ([`PairKernel::Gaussian`]), `1 ≤ d ≤ 3`, any SIMD path but
/// `scalar` (the `f32` loop is the tiled one: [`super::SimdPath`]), and `D²/2t ≤ 10³⁰` (`D` the bounding-box diameter
/// of the centred points; beyond it `f32` would overflow). Anything else is an
/// [`Error::Unsupported`] naming what is not supported; there is no silent fallback to `f64`.
/// Mismatched dimensions are an [`Error::DimensionMismatch`], no data an [`Error::Empty`].
///
/// **Cost** `O(M·N·d)` like the `f64` path, about twice as fast on AVX-512 (measured in the
/// report of `examples/bench_dae.rs`); `O((M + N)·d)` memory. **Deterministic**: every query is
/// reduced by one thread over the data in a fixed order, so the result is bit-identical for any
/// thread count (the SIMD paths' results differ in the last bits: different exponentials).
pub fn softmax_mean_f32(
    queries: ArrayView2<f64>,
    data: ArrayView2<f64>,
    log_weights: Option<ArrayView1<f64>>,
    kernel: PairKernel,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SoftmaxMean> {
    let (n, d) = data.dim();
    let PairKernel::Gaussian { inv_two_t } = kernel else {
        return Err(Error::Unsupported(format!(
            "f32 precision is implemented for Gaussian noise only, not for the kernel {kernel:?}; \
             use f64"
        )));
    };
    if queries.ncols() != d {
        return Err(Error::DimensionMismatch {
            what: "query".into(),
            expected: d,
            got: queries.ncols(),
        });
    }
    if n == 0 {
        return Err(Error::Empty {
            what: "data".into(),
        });
    }
    if d == 0 || d > MAX_DIM {
        return Err(Error::Unsupported(format!(
            "f32 precision is implemented for dimension 1 to {MAX_DIM} only, not d = {d}; use f64"
        )));
    }
    let path = simd_path();
    if path == SimdPath::Scalar {
        return Err(Error::Unsupported(
            "f32 precision runs on the tiled loop, which the scalar SIMD path does not have; \
             choose another path or use f64"
                .into(),
        ));
    }
    let centre = data.mean_axis(Axis(0)).expect("n ≥ 1");
    let diam_sq = box_diameter_squared(&[data.view(), queries.view()]);
    // NaN (from an infinite diameter) is refused too.
    let scaled = diam_sq * inv_two_t;
    if scaled.is_nan() || scaled > MAX_SCALED_DIAMETER {
        return Err(Error::Unsupported(format!(
            "f32 precision: squared diameter / 2t = {:e} exceeds {MAX_SCALED_DIAMETER:e}, where \
             the f32 costs overflow; use f64",
            scaled
        )));
    }

    // The data, centred in f64 then rounded, coordinate-major and padded with log w = −∞.
    let padded = n.div_ceil(tiled::LANES_F32) * tiled::LANES_F32;
    let mut by_coord = vec![0.0f32; d * padded];
    for (i, row) in data.rows().into_iter().enumerate() {
        for k in 0..d {
            by_coord[k * padded + i] = (row[k] - centre[k]) as f32;
        }
    }
    let uniform = -(n as f64).ln();
    let lw = |i: usize| log_weights.map_or(uniform, |w| w[i]);
    let top = (0..n).map(lw).fold(f64::NEG_INFINITY, f64::max);
    // Shift by the largest log-weight so that the f32 values are small (0 for uniform weights).
    let shift = if top.is_finite() { top } else { 0.0 };
    let mut log_w = vec![f32::NEG_INFINITY; padded];
    for (i, v) in log_w.iter_mut().take(n).enumerate() {
        *v = (lw(i) - shift) as f32;
    }
    let src = tiled::Source {
        by_coord: &by_coord,
        padded,
        d,
        log_w: &log_w,
    };

    let (mut reduction, served) = by_query_blocks(
        queries,
        Some(&centre),
        QUERY_BLOCK,
        progress,
        |q, lse_b, mean_b| {
            let qs = q.as_slice().expect("owned, standard layout");
            tiled::block_f32(path, &src, qs, inv_two_t, lse_b, mean_b)
        },
    );
    if served.contains(&false) {
        // Unreachable: the CPU and the dimension were checked above.
        return Err(Error::Unsupported(
            "f32 precision: the tiled f32 kernel declined this input; use f64".into(),
        ));
    }
    reduction.log_normalizer += shift;
    Ok(reduction)
}
