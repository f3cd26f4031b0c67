//! Pairwise Euclidean distances of one cloud `x_1..x_n` (`n × d`), by direct differences:
//!
//! ```text
//! D_ij = |x_i − x_j| = sqrt(Σ_k (x_ik − x_jk)²)      (k = 0..d in order, from 0)
//! ```
//!
//! — never the expansion `|x|² + |y|² − 2⟨x, y⟩`, whose cancellation error `≈ ε (|x_i|² + |x_j|²)`
//! swamps the distances of nearby points far from the origin (one outlier at `10¹⁵⁰` and the rest
//! at unit scale, say). Each `D_ij` is within `(d + 2)·ε` relative of the true distance for every
//! finite input: where the sum of squares would overflow (coordinates beyond `≈ 10¹⁵⁴`) or
//! underflow (differences below `≈ 10⁻¹⁵⁴`), the differences are rescaled by an exact power of two
//! (`2^∓600`) before squaring. A distance above `f64::MAX` is `+∞` (its true value is not
//! representable); so is any distance whose coordinate difference overflows.
//!
//! `D_ij` and `D_ji` are equal bit for bit (`(a − b)² = (b − a)²` in IEEE arithmetic), and every
//! entry is the same IEEE operations as [`distance`] on every SIMD path (no fused multiply-add, a
//! fixed summation order), so the matrix is bit-identical on every path and for every thread count.
//!
//! **Loop.** Coordinate-major data; one row `i` at a time, for a block of `j` the squared
//! differences of coordinate `k` are added to the block's sums, `k` outermost — a loop over
//! contiguous `j` that the compiler vectorises for the path's vector unit (AVX-512, AVX2, the
//! baseline), then one vectorised pass of square roots and a range check; only the rare pairs
//! outside the safe range are recomputed with scaling. Cost `O(n²·d)`, parallel over rows.

use super::{SimdPath, simd_path};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Sums of squares in `[SAFE_MIN, ∞)` are accurate as computed: no square overflowed (the sum is
/// finite), and any square that underflowed is below `2⁻¹⁰²²`, so the `≤ d` of them change the
/// sum by less than `d·2⁻¹⁰⁷⁴ ≤ d·2⁻¹⁰⁶·sum` — far below one rounding.
const SAFE_MIN: f64 = f64::from_bits(0x0370_0000_0000_0000); // 2^-968
/// Down-scaling for sums that overflowed: the largest difference `< 2¹⁰²⁴` becomes `< 2⁴²⁴`, so
/// `d` squares stay finite; and it was `≥ 2⁵¹¹/√d`, so it stays far above the underflow range.
const SCALE_DOWN: f64 = f64::from_bits(0x1a70_0000_0000_0000); // 2^-600
/// Up-scaling for sums below [`SAFE_MIN`]: the largest difference `< 2⁻⁴⁸⁴` becomes `< 2¹¹⁶`, and
/// even the smallest subnormal becomes `2⁻⁴⁷⁴`, whose square is normal.
const SCALE_UP: f64 = f64::from_bits(0x6570_0000_0000_0000); // 2^600
/// Columns per block of a row: the block's sums (8 KiB) stay in L1 across the `d` passes.
const BLOCK: usize = 1024;

/// `Σ_k (p_k − q_k)²` in coordinate order from 0 (the reference arithmetic of the module).
#[inline(always)]
fn sum_sq(p: &[f64], q: &[f64], scale: f64) -> f64 {
    let mut s = 0.0;
    for (a, b) in p.iter().zip(q) {
        let t = (a - b) * scale;
        s += t * t;
    }
    s
}

/// Whether a plain sum of squares is accurate as it stands (module docs).
#[inline(always)]
fn in_safe_range(s: f64) -> bool {
    (SAFE_MIN..f64::INFINITY).contains(&s)
}

/// The distance from a plain sum of squares `s` of `p − q`, recomputed with scaling when `s` is
/// outside the safe range.
#[inline(always)]
fn finish(s: f64, p: &[f64], q: &[f64]) -> f64 {
    if in_safe_range(s) {
        return s.sqrt();
    }
    // Multiplying by a power of two is exact, so the scaled sum is the plain one's arithmetic at
    // a safe exponent; an overflowed difference stays +∞ (the distance exceeds f64::MAX).
    let scale = if s >= SAFE_MIN { SCALE_DOWN } else { SCALE_UP };
    sum_sq(p, q, scale).sqrt() / scale
}

/// `|p − q|` by direct differences, within `(d + 2)·ε` relative for any finite input (module
/// docs); `p` and `q` have the same length `d`.
pub fn distance(p: &[f64], q: &[f64]) -> f64 {
    debug_assert_eq!(p.len(), q.len(), "distance: lengths differ");
    finish(sum_sq(p, q, 1.0), p, q)
}

/// The cloud in the layout of the row loop.
struct Cloud<'a> {
    /// Row-major `n × d` (the fix-up pass reads rows).
    rows: &'a [f64],
    /// Coordinate-major: coordinate `k` of point `j` at `k·n + j`.
    by_coord: Vec<f64>,
    n: usize,
    d: usize,
}

impl<'a> Cloud<'a> {
    fn new(rows: &'a [f64], n: usize, d: usize) -> Self {
        let mut by_coord = vec![0.0; n * d];
        for (j, r) in rows.chunks_exact(d).enumerate() {
            for (k, &v) in r.iter().enumerate() {
                by_coord[k * n + j] = v;
            }
        }
        Cloud {
            rows,
            by_coord,
            n,
            d,
        }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.d..(i + 1) * self.d]
    }
}

/// `out[j − start] = |x_i − x_j|` for `j` in `start..n` (module docs: blocks of `j`, `k` outermost,
/// then square roots; scaled recomputation for the pairs outside the safe range).
#[inline(always)]
fn row_body(c: &Cloud, i: usize, start: usize, out: &mut [f64]) {
    let xi = c.row(i);
    for (b, block) in out.chunks_mut(BLOCK).enumerate() {
        let j0 = start + b * BLOCK;
        block.fill(0.0);
        for (k, &xik) in xi.iter().enumerate() {
            let col = &c.by_coord[k * c.n + j0..][..block.len()];
            for (s, &v) in block.iter_mut().zip(col) {
                let t = xik - v;
                *s += t * t;
            }
        }
        // Check first, then take roots: the common all-safe block stays one vector pass each.
        if block.iter().fold(true, |a, &s| a & in_safe_range(s)) {
            block.iter_mut().for_each(|s| *s = s.sqrt());
        } else {
            // Rare (duplicate points, extreme scales): the flagged pairs are redone one by one.
            for (q, s) in block.iter_mut().enumerate() {
                let xj = c.row(j0 + q);
                *s = finish(*s, xi, xj);
            }
        }
    }
}

/// [`row_body`] for the vector unit of `path` (the same IEEE operations on every path).
fn row(path: SimdPath, c: &Cloud, i: usize, start: usize, out: &mut [f64]) {
    widest!(path, row_body(c: &Cloud, i: usize, start: usize, out: &mut [f64]) -> ())
}

/// The rows of `x` as one row-major slice (copied only when `x` is not standard layout).
fn row_major(x: ArrayView2<'_, f64>) -> std::borrow::Cow<'_, [f64]> {
    match x.to_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(x.as_standard_layout().iter().copied().collect()),
    }
}

/// The `n × n` matrix `D_ij = |x_i − x_j|` of the rows of `x` (module docs: direct differences,
/// accurate to `(d + 2)·ε` relative for any finite input, exactly symmetric with a zero diagonal,
/// bit-identical on every SIMD path and thread count). Cost `O(n²·d)` time, `8n²` bytes.
pub fn distance_matrix(x: ArrayView2<f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    let rows = row_major(x);
    let cloud = Cloud::new(&rows, n, d);
    let path = simd_path();
    let mut out = vec![0.0; n * n];
    if n > 0 {
        out.par_chunks_mut(n)
            .enumerate()
            .for_each(|(i, r)| row(path, &cloud, i, 0, r));
    }
    Array2::from_shape_vec((n, n), out).expect("n × n")
}

/// The diameter `max_{i,j} |x_i − x_j|` of the rows of `x` (0 for fewer than two rows), the
/// largest entry of [`distance_matrix`] computed without storing it: `O(n²·d)` time, `O(n)`
/// memory. Rows must be finite (callers validate).
pub fn diameter(x: ArrayView2<f64>) -> f64 {
    let (n, d) = x.dim();
    if n < 2 {
        return 0.0;
    }
    let rows = row_major(x);
    let cloud = Cloud::new(&rows, n, d);
    let path = simd_path();
    // `max` is exact and associative, so the parallel reduction's order does not matter.
    (0..n - 1)
        .into_par_iter()
        .map_init(
            || vec![0.0; n],
            |buf, i| {
                let out = &mut buf[..n - i - 1];
                row(path, &cloud, i, i + 1, out);
                out.iter().fold(0.0, |m: f64, &v| m.max(v))
            },
        )
        .reduce(|| 0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::with_simd_path;
    use ndarray::{Array2, array};
    use rand::{Rng, SeedableRng};

    fn cloud(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0))
    }

    #[test]
    fn matrix_equals_the_scalar_distance_bit_for_bit_on_every_path_and_thread_count() {
        // 1500 rows: two column blocks per row. A few rows at extreme scales exercise the
        // scaled recomputation inside the vector loop.
        let mut x = cloud(1500, 3, 1);
        x.row_mut(7).fill(1e200);
        x.row_mut(8).assign(&array![1e200, -1e200, 3.0]);
        x.row_mut(9).assign(&array![1e-200, 0.0, 0.0]);
        x.row_mut(10).assign(&array![0.0, 0.0, 0.0]);
        x.row_mut(11).assign(&array![0.0, 0.0, 0.0]);
        let reference = Array2::from_shape_fn((1500, 1500), |(i, j)| {
            distance(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap())
        });
        for path in SimdPath::supported() {
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let m =
                    with_simd_path(path, || pool.install(|| distance_matrix(x.view()))).unwrap();
                for (a, b) in m.iter().zip(reference.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{path}, {threads} threads");
                }
            }
        }
        assert_eq!(reference[[10, 11]], 0.0);
        assert_eq!(reference[[9, 10]], 1e-200);
        for i in 0..1500 {
            assert_eq!(reference[[i, i]], 0.0);
            for j in 0..i {
                assert_eq!(reference[[i, j]].to_bits(), reference[[j, i]].to_bits());
            }
        }
    }

    #[test]
    fn exact_where_the_expansion_cancels_and_where_squares_overflow_or_underflow() {
        // (3, 4)·2^k has distance 5·2^k exactly: every operation below is exact, at scales whose
        // squares overflow (k = 650) or underflow (k = −600, −1000).
        for k in [650, 300, 0, -300, -600, -1000] {
            let s = 2f64.powi(k);
            let (p, q) = ([3.0 * s, 0.0, 1.0], [0.0, -4.0 * s, 1.0]);
            assert_eq!(distance(&p, &q), 5.0 * s, "k = {k}");
        }
        // Coordinates ~1e200: |(1e200, 0) − (0, 1e200)| = √2·1e200 (to 2 ulps: the rounding of the
        // sum and of the root).
        let got = distance(&[1e200, 0.0, 0.0], &[0.0, 1e200, 0.0]);
        let want = std::f64::consts::SQRT_2 * 1e200;
        assert!(((got - want) / want).abs() <= 2.0 * f64::EPSILON, "{got:e}");
        // An outlier at 1e150 does not disturb unit-scale pairs (the expansion would return
        // |x|² + |y|² − 2⟨x, y⟩ ≈ 0 ± 1e284 for them after centring on the mean).
        let x = array![[1e150, 0.0], [0.25, 0.0], [0.25, 0.5], [1.0, 0.5]];
        let m = distance_matrix(x.view());
        assert_eq!(m[[1, 2]], 0.5);
        assert_eq!(m[[2, 3]], 0.75);
        assert_eq!(m[[0, 1]], 1e150);
        // A difference that overflows: the distance exceeds f64::MAX.
        assert_eq!(distance(&[f64::MAX], &[-f64::MAX]), f64::INFINITY);
    }

    #[test]
    fn diameter_is_the_largest_entry() {
        let x = cloud(700, 4, 3);
        let m = distance_matrix(x.view());
        let max = m.iter().fold(0.0f64, |a, &b| a.max(b));
        assert_eq!(diameter(x.view()), max);
        assert_eq!(diameter(x.slice(ndarray::s![..1, ..])), 0.0);
        let s = 2f64.powi(650);
        let t = array![[0.0, 0.0], [3.0 * s, 4.0 * s], [s, s]];
        assert_eq!(diameter(t.view()), 5.0 * s);
    }
}
