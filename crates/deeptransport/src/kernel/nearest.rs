//! The `k` smallest *shifted* squared distances of every row: for points `x_i` (`n × d`), `y_j`
//! (`m × d`) and column shifts `v_j`,
//!
//! ```text
//! r_ij = |x_i − y_j|² − v_j,      for each i: the k pairs (j, r_ij) with the smallest r_ij
//! ```
//!
//! — with `v = 0` the `k` nearest neighbours of `x_i` among the `y_j`; with `v` the column
//! potentials of an assignment, the most negative reduced costs `r_ij − u_i` of row `i`, which is
//! both how the exact assignment solver ([`crate::wasserstein::assignment`]) chooses its candidate
//! arcs and how it certifies optimality over all `n·m` pairs.
//!
//! **Arithmetic: exact values, filtered by GEMM.** Every returned `r_ij` is computed from direct
//! differences, `Σ_c (x_ic − y_jc)²` in coordinate order from 0, minus `v_j` — no cancellation,
//! so the values are accurate to `d·ε` relative for any finite input, outliers included. Which
//! pairs are computed directly is decided by the expansion `|x̃|² + |ỹ|² − 2⟨x̃, ỹ⟩` on both clouds
//! centred on the coordinate-wise median of the pooled points (robust to outliers), with the inner
//! products as blocked matrix products (faer's GEMM): a pair is evaluated directly only when its
//! expanded value minus a rigorous bound on the expansion's rounding error,
//! `(4d + 48)·ε·(|x̃_i|² + |ỹ_j|²) + 4ε|v_j|` (twice the dot-product bound `γ_d·|x̃||ỹ|`, the
//! centring and the three additions), is below the row's current `k`-th smallest exact value.
//! So the result is the exact top `k` (ties broken by the smaller column index) whatever the
//! rounding of the filter, and it is bit-identical on every SIMD path and for every thread count
//! (the filter only decides *which* exact values are computed).
//!
//! **Cost.** `n·m·d` multiply-adds in GEMM (the `O(n·m·d)` part), `O(n·m)` comparisons, and
//! `O(n·k·log(m/k)·d)` direct evaluations on typical data; rows of far outliers have large bounds
//! and take more direct evaluations (at worst `n·m·d`, the cost of the direct loop). Memory:
//! centred copies `O((n + m)·d)` plus one `ROW_BLOCK × COL_BLOCK` Gram block per thread.

use super::{SimdPath, coordinate_median, simd_path};
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Rows per parallel task (fixed: determinism does not depend on it, balance does).
const ROW_BLOCK: usize = 64;
/// Columns per Gram block: `ROW_BLOCK × COL_BLOCK` doubles (512 KiB) stay in L2.
const COL_BLOCK: usize = 1024;

/// The `k` smallest shifted squared distances of each row, ascending (ties: smaller column first).
#[derive(Debug, Clone, PartialEq)]
pub struct Smallest {
    /// `k` per row (`min(k, m)`).
    pub k: usize,
    /// Column of the `l`-th smallest of row `i` at `[i·k + l]`.
    pub cols: Vec<u32>,
    /// Its value `|x_i − y_j|² − v_j` at the same place.
    pub values: Vec<f64>,
}

impl Smallest {
    /// The columns and values of row `i`, ascending.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = i * self.k..(i + 1) * self.k;
        (&self.cols[r.clone()], &self.values[r])
    }
}

/// `|p − q|²` by direct differences, summed in coordinate order (the reference arithmetic: the same
/// IEEE operations on every path, no fused multiply-add).
#[inline(always)]
pub fn sq_distance(p: &[f64], q: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in p.iter().zip(q) {
        let t = a - b;
        s += t * t;
    }
    s
}

/// `a − centre` row by row (row-major) and the squared norms of the rows.
fn centred(a: ArrayView2<f64>, centre: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut out = Array2::zeros(a.raw_dim());
    out.assign(&a);
    for mut row in out.axis_iter_mut(Axis(0)) {
        row.iter_mut().zip(centre).for_each(|(v, c)| *v -= c);
    }
    let norms = out
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    (out.into_raw_vec_and_offset().0, norms)
}

/// Inserts `(j, r)` into the ascending top list (`len` entries used of `k`), keeping ties in
/// column order (`j` arrives in increasing order, so a tie goes after its equals).
#[inline]
fn insert(cols: &mut [u32], vals: &mut [f64], len: &mut usize, j: u32, r: f64) {
    let k = cols.len();
    let mut p = (*len).min(k - 1);
    if *len == k && r >= vals[k - 1] {
        return;
    }
    while p > 0 && vals[p - 1] > r {
        vals[p] = vals[p - 1];
        cols[p] = cols[p - 1];
        p -= 1;
    }
    vals[p] = r;
    cols[p] = j;
    if *len < k {
        *len += 1;
    }
}

/// Everything one row block needs.
struct Clouds<'a> {
    x: ArrayView2<'a, f64>,
    y: ArrayView2<'a, f64>,
    xc: &'a [f64],
    yc: &'a [f64],
    xn: &'a [f64],
    yn: &'a [f64],
    v: &'a [f64],
    /// Entries per row's top list.
    k: usize,
    /// The per-unit-norm rounding bound of the expansion, `(4d + 48)·ε`.
    beta: f64,
}

/// One block of rows `i0..i0 + rows`: their top lists in `cols`/`vals` (`rows·k` entries).
#[inline(always)]
fn block_body(c: &Clouds, i0: usize, cols: &mut [u32], vals: &mut [f64]) {
    let (m, d) = c.y.dim();
    let k = c.k;
    let rows = cols.len() / k;
    let mut len = vec![0usize; rows];
    let mut gram = vec![0.0; rows * COL_BLOCK];
    let xb = MatRef::from_row_major_slice(&c.xc[i0 * d..(i0 + rows) * d], rows, d);
    for j0 in (0..m).step_by(COL_BLOCK) {
        let w = COL_BLOCK.min(m - j0);
        let g = &mut gram[..rows * w];
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(g, rows, w),
            Accum::Replace,
            xb,
            MatRef::from_row_major_slice(&c.yc[j0 * d..(j0 + w) * d], w, d).transpose(),
            1.0,
            Par::Seq,
        );
        for r in 0..rows {
            let i = i0 + r;
            let (xn, g) = (c.xn[i], &g[r * w..(r + 1) * w]);
            let (tc, tv) = (&mut cols[r * k..(r + 1) * k], &mut vals[r * k..(r + 1) * k]);
            for (q, &gij) in g.iter().enumerate() {
                let j = j0 + q;
                let thr = if len[r] == k {
                    tv[k - 1]
                } else {
                    f64::INFINITY
                };
                let (yn, vj) = (c.yn[j], c.v[j]);
                let approx = xn + yn - 2.0 * gij - vj;
                let bound = c.beta * (xn + yn) + 4.0 * f64::EPSILON * vj.abs();
                if approx - bound < thr {
                    let exact = sq_distance(
                        c.x.row(i).as_slice().expect("standard layout"),
                        c.y.row(j).as_slice().expect("standard layout"),
                    ) - vj;
                    insert(tc, tv, &mut len[r], j as u32, exact);
                }
            }
        }
    }
}

dispatch!(
    /// [`block_body`] for the vector unit of the path (faer's GEMM dispatches by itself; the
    /// exact values are the same IEEE operations on every path).
    block => block_body(c: &Clouds, i0: usize, cols: &mut [u32], vals: &mut [f64])
);

/// For every row `i` of `x`, the `k` columns `j` with the smallest `|x_i − y_j|² − v_j` and those
/// values (module docs: exact values, ties by column index, bit-identical on every path and
/// thread count).
///
/// Domain: `x` is `n × d`, `y` is `m × d` with finite entries whose squares do not overflow,
/// `v` has `m` finite entries, `1 ≤ k`; `k` is capped at `m`. Cost `O(n·m·d)`, parallel over
/// blocks of rows.
pub fn smallest_shifted(x: ArrayView2<f64>, y: ArrayView2<f64>, v: &[f64], k: usize) -> Smallest {
    let (n, d) = x.dim();
    let m = y.nrows();
    assert!(
        y.ncols() == d && v.len() == m && k >= 1,
        "smallest_shifted: shapes"
    );
    let k = k.min(m);
    let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
    let centre = coordinate_median(&[x.view(), y.view()]);
    let (xc, xn) = centred(x.view(), &centre);
    let (yc, yn) = centred(y.view(), &centre);
    let clouds = Clouds {
        x: x.view(),
        y: y.view(),
        xc: &xc,
        yc: &yc,
        xn: &xn,
        yn: &yn,
        v,
        k,
        beta: (4 * d + 48) as f64 * f64::EPSILON,
    };
    let mut cols = vec![0u32; n * k];
    let mut values = vec![f64::INFINITY; n * k];
    let path: SimdPath = simd_path();
    cols.par_chunks_mut(ROW_BLOCK * k)
        .zip(values.par_chunks_mut(ROW_BLOCK * k))
        .enumerate()
        .for_each(|(b, (c, v))| block(path, &clouds, b * ROW_BLOCK, c, v));
    Smallest { k, cols, values }
}
