//! Vietoris–Rips persistent homology in degrees 0 and 1 (METHODS §9), with Ripser's conventions
//! (Bauer 2021), so that diagrams compare with `ripser.py`.
//!
//! For points `x_1..x_n` with Euclidean distances `d_ij = |x_i − x_j|` (or a given distance
//! matrix), the Vietoris–Rips complex at scale `ε` holds every simplex whose *diameter*
//! `diam σ = max_{i,j ∈ σ} d_ij` is `≤ ε`. Growing `ε` from 0 to the threshold `t` gives a
//! filtration; its persistent homology over `Z/2` is a set of intervals `[birth, death)` per
//! degree: in H₀ one per connected component (births 0), in H₁ one per independent loop.
//! Intervals of zero length are omitted; classes alive at `t` get `death = +∞` (the one essential
//! H₀ class always). The default threshold is the *enclosing radius* `r = min_i max_j d_ij`: at
//! `r` the complex is a cone over the vertex that attains it, so every H₁ class is dead and every
//! component merged — the diagrams equal those of the whole filtration.
//!
//! **Filtration order (the tie-break).** Persistence pairs simplices of a *simplexwise*
//! refinement of the filtration; the diagram (the multiset of value pairs with positive length)
//! does not depend on which refinement, but the algorithm needs one, used everywhere:
//!
//! - edges by `(d_ij, i, j)`, `i < j`, lexicographically; an edge's position is its *rank* `ρ`;
//! - a triangle enters right after its latest edge (the one of largest rank, a longest edge, so
//!   the order refines the diameter), and triangles sharing a latest edge `{a, b}` are ordered by
//!   the opposite vertex `v`: the key `(ρ_{ab}, v)`, packed `ρ · 2³² + v` — a unique `u64` whose
//!   order is the filtration order.
//!
//! So a triangle's latest facet is read off its key, and an edge `e = {i, j}` has the earliest
//! cofacet `(ρ_e, k_min)` whenever some vertex `k` has both `{i, k}` and `{j, k}` of rank below
//! `ρ_e` (`k_min` the least such `k`); otherwise its cofacets' latest edges are `{i, k}` or
//! `{j, k}`.
//!
//! **H₀** (Kruskal): the edges in rank order, a union–find; an edge joining two components gives
//! the interval `[0, d_e)`. Those edges (the minimum spanning forest) are the negative edges, the
//! pivots that *clearing* removes from the H₁ reduction.
//!
//! **H₁** (persistent cohomology with clearing, apparent and emergent pairs; Bauer 2021): the
//! coboundary columns of the non-forest edges `≤ t`, in reverse filtration order, are reduced over
//! `Z/2`; a column's pivot is its earliest cofacet; the final pivot `τ` of edge `e` gives the
//! interval `[d_e, diam τ)`, and a column reduced to zero an essential class `[d_e, ∞)` (only
//! below the enclosing radius).
//!
//! - *Apparent pairs*: `e` with earliest cofacet `τ = (ρ_e, k_min)` is paired with `τ` without any
//!   reduction (`e` is `τ`'s latest facet, by the key) — a zero-length pair. These are found in
//!   parallel before the sequential reduction (as Ripser++ does); an edge is apparent exactly when
//!   its lune `{k : d_ik, d_jk < d_ij}` holds a point, which is true of all but `O(n)` edges of a
//!   cloud (the relative neighbourhood graph's).
//! - *Emergent pairs*: for a remaining edge, its earliest cofacet is found by one vectorised scan;
//!   if no reduced column has that pivot, the pair is final with no column ever built.
//! - Otherwise the column is reduced: the pivot's column is added — the plain coboundary of the
//!   apparent edge of an apparent pivot, or the stored reduction of a reduced one (the list of
//!   edges whose coboundaries sum to it, as Ripser stores it: reduced coboundaries can hold
//!   millions of triangles, their cochains a few edges) — until the pivot is free. The working
//!   column is a lazy `Z/2` sum of sorted *runs*: each added coboundary is enumerated in key
//!   order straight from the rank matrix and per-vertex adjacency lists sorted by rank (its lune
//!   `k` ascending, then the triangles whose latest edge is `{i, k}`, resp. `{j, k}`, in the
//!   order of `i`'s, resp. `j`'s, list), from just above the current pivot; the run heads sit in
//!   a monotone radix heap (the pivot only grows), and only entries below the final pivot are
//!   ever produced. Ripser instead pushes every entry of every added coboundary into one binary
//!   heap, which for a noisy torus of 2000 points grows to 5·10⁷ entries.
//!
//! **Cost and memory.** Distances `O(n²·d)`, the edge sort `O(n² log n)`, the apparent scan
//! `O(n²)` on typical clouds (a short prefix of two rows per edge; `O(n³)` at worst), and the
//! reduction of the `O(n)` remaining columns, sequential, whose cost depends on the data (the
//! entries below each final pivot of every added coboundary): for 2000 points in ℝ³, 0.15 s
//! uniform in a cube and 1.4 s on a noisy torus (BENCHMARKS.md). Memory about `19·n²` bytes at
//! peak (the `8·n²`-byte distance matrix while the edges are sorted; then lengths, ends, the `u32`
//! rank matrix and adjacency lists, the apparent-pair table): 1.9 GB at `n = 10⁴`. `n` whose
//! distance matrix exceeds [`MAX_MATRIX_BYTES`] is refused.
//!
//! **Accuracy and determinism.** Every birth and death is one of the distances exactly
//! (`kernel::pairwise`: direct differences, `(d + 2)·ε` relative). The parallel parts (distances,
//! edge sort on unique keys, apparent pairs) are per-item deterministic and the reduction is
//! sequential, so diagrams are bit-identical for any thread count and SIMD path. `ripser.py`
//! rounds distances to `f32` (computed by the `|x|² + |y|² − 2⟨x, y⟩` expansion); on the same
//! `f32`-rounded matrix ([`rips_from_distances`]) the diagrams are equal, and from the points
//! they differ by that rounding (bottleneck distance at most the largest change of a distance).

use crate::error::{Error, Result, check_points};
use crate::kernel::pairwise;
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The largest distance matrix accepted, `8·n²` bytes ≤ 4 GiB (`n ≤ 23 170`); the computation
/// needs about 2.4 times that at peak (module docs).
pub const MAX_MATRIX_BYTES: u64 = 4 << 30;

/// Options of [`rips`] and [`rips_from_distances`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersistenceOptions {
    /// The largest homology degree computed: 0 (H₀ only) or 1 (H₀ and H₁).
    pub max_dim: usize,
    /// Build the complex up to this diameter (`≥ 0`; classes alive there get `death = +∞`).
    /// `None` (or any value at or above it): the enclosing radius `min_i max_j d_ij`, beyond which
    /// nothing changes.
    pub threshold: Option<f64>,
}

impl Default for PersistenceOptions {
    /// H₀ and H₁ of the whole filtration.
    fn default() -> Self {
        PersistenceOptions {
            max_dim: 1,
            threshold: None,
        }
    }
}

/// Persistence diagrams: intervals `(birth, death)` of positive length, sorted by death then
/// birth.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagrams {
    /// H₀: `(0, d_e)` per merging edge `e`, and `(0, +∞)` per component left at the threshold
    /// (exactly one below the enclosing radius).
    pub h0: Vec<(f64, f64)>,
    /// H₁: `(d_e, diam τ)` per persistence pair of an edge and a triangle, `(d_e, +∞)` per loop
    /// alive at a threshold below the enclosing radius. Empty when `max_dim = 0`.
    pub h1: Vec<(f64, f64)>,
    /// The diameter up to which the complex was built: the given threshold, or the enclosing
    /// radius when none was given or the given one exceeds it.
    pub threshold: f64,
}

/// The Vietoris–Rips persistence diagrams (module docs) of the rows of `points` (`n × d`, finite)
/// under Euclidean distances.
///
/// Errors: [`Error::Empty`] for no rows (or no columns), [`Error::NonFinite`] with the 1-based
/// row and column of a non-finite coordinate, [`Error::Unsupported`] for `max_dim > 1` or a
/// distance matrix above [`MAX_MATRIX_BYTES`], [`Error::InvalidParameter`] for a negative or NaN
/// threshold.
pub fn rips(points: ArrayView2<f64>, options: &PersistenceOptions) -> Result<Diagrams> {
    check_points("point cloud", points, None)?;
    check_options(options)?;
    let n = points.nrows();
    check_size(n)?;
    let (d, _) = pairwise::distance_matrix(points).into_raw_vec_and_offset();
    Ok(compute(n, move |i, j| d[i * n + j], options))
}

/// The Vietoris–Rips persistence diagrams (module docs) of a distance matrix `d` (`n × n`,
/// finite, non-negative, symmetric with a zero diagonal; `-0.0` reads as `0`).
///
/// Errors: as [`rips`], plus [`Error::DimensionMismatch`] for a non-square matrix and
/// [`Error::InvalidParameter`] naming the 1-based entry that is negative, off the zero diagonal
/// or asymmetric.
pub fn rips_from_distances(d: ArrayView2<f64>, options: &PersistenceOptions) -> Result<Diagrams> {
    let (n, m) = d.dim();
    if n == 0 {
        return Err(Error::Empty {
            what: "distance matrix".into(),
        });
    }
    if m != n {
        return Err(Error::DimensionMismatch {
            what: "distance matrix (columns)".into(),
            expected: n,
            got: m,
        });
    }
    check_options(options)?;
    check_size(n)?;
    crate::error::check_finite("distance matrix", d)?;
    let entry_error = |i: usize, j: usize, reason: String| Error::InvalidParameter {
        name: format!("distance matrix entry ({}, {})", i + 1, j + 1),
        value: format!("{:e}", d[[i, j]]),
        reason,
    };
    for ((i, j), &v) in d.indexed_iter() {
        if v < 0.0 {
            return Err(entry_error(i, j, "distances must be ≥ 0".into()));
        }
        if i == j && v != 0.0 {
            return Err(entry_error(i, j, "the diagonal must be 0".into()));
        }
    }
    // Symmetry tile by tile, so that the transposed reads stay in cache (a column walk over a
    // 10⁴ × 10⁴ matrix misses on every entry).
    const TILE: usize = 64;
    for i0 in (0..n).step_by(TILE) {
        for j0 in (i0..n).step_by(TILE) {
            for i in i0..(i0 + TILE).min(n) {
                for j in j0.max(i + 1)..(j0 + TILE).min(n) {
                    if d[[i, j]] != d[[j, i]] {
                        let reason = format!(
                            "the matrix must be symmetric, but entry ({}, {}) is {:e}",
                            j + 1,
                            i + 1,
                            d[[j, i]]
                        );
                        return Err(entry_error(i, j, reason));
                    }
                }
            }
        }
    }
    // `+ 0.0` turns −0 into +0, whose bits order like the value (the edge sort compares bits).
    Ok(compute(n, |i, j| d[[i, j]] + 0.0, options))
}

/// The number of intervals with `death − birth > min_persistence` (essential ones count).
pub fn significant_classes(pairs: &[(f64, f64)], min_persistence: f64) -> usize {
    pairs
        .iter()
        .filter(|(b, d)| d - b > min_persistence)
        .count()
}

/// The diameter `max_{i,j} |x_i − x_j|` of the rows of `points` (0 for fewer than two), by the
/// same direct differences as [`rips`] ([`pairwise::diameter`]: `O(n²·d)`, `O(n)` memory). The
/// CLI's Betti numbers count classes longer than 10 % of it. Rows must be finite.
pub fn diameter(points: ArrayView2<f64>) -> f64 {
    pairwise::diameter(points)
}

fn check_options(options: &PersistenceOptions) -> Result<()> {
    if options.max_dim > 1 {
        return Err(Error::Unsupported(format!(
            "persistent homology in degree {}: only degrees 0 and 1 are computed (max_dim 0 or 1)",
            options.max_dim
        )));
    }
    if let Some(t) = options.threshold
        && (t.is_nan() || t < 0.0)
    {
        return Err(Error::InvalidParameter {
            name: "persistence threshold".into(),
            value: format!("{t}"),
            reason: "must be ≥ 0 (+∞ or none: the enclosing radius)".into(),
        });
    }
    Ok(())
}

fn check_size(n: usize) -> Result<()> {
    let bytes = 8 * (n as u64) * (n as u64);
    if bytes > MAX_MATRIX_BYTES {
        return Err(Error::Unsupported(format!(
            "Vietoris–Rips persistence of {n} points: the {n} × {n} distance matrix needs {bytes} \
             bytes ({:.1} GiB, about twice that in all), above the {} GiB limit; subsample the \
             cloud first (farthest points, kernel::farthest)",
            bytes as f64 / (1u64 << 30) as f64,
            MAX_MATRIX_BYTES >> 30
        )));
    }
    Ok(())
}

/// Marks "no vertex" in the apparent-pair table and "beyond the threshold" in the rank matrix.
const NONE: u32 = u32::MAX;
/// Marks "no cofacet".
const NO_KEY: u64 = u64::MAX;
/// Lanes of the vectorised row scans.
const LANES: usize = 16;

/// The triangle key `(rank of its latest edge, the vertex opposite that edge)` (module docs).
#[inline(always)]
fn key(rank: u32, k: usize) -> u64 {
    ((rank as u64) << 32) | k as u64
}

#[inline(always)]
fn key_rank(key: u64) -> u32 {
    (key >> 32) as u32
}

#[inline(always)]
fn key_vertex(key: u64) -> u32 {
    key as u32
}

/// Everything after the distances: `dist(i, j)` is `d_ij` (finite, ≥ +0, symmetric).
fn compute(
    n: usize,
    dist: impl Fn(usize, usize) -> f64 + Sync,
    options: &PersistenceOptions,
) -> Diagrams {
    // max and min are exact, so the parallel reduction's order does not matter.
    let enclosing = (0..n)
        .into_par_iter()
        .map(|i| (0..n).fold(0.0, |m: f64, j| m.max(dist(i, j))))
        .reduce(|| f64::INFINITY, f64::min);
    let threshold = match options.threshold {
        Some(t) if t < enclosing => t,
        _ => enclosing,
    };
    let edges = Edges::new(n, &dist, threshold);
    drop(dist);
    let (h0, forest) = kruskal(n, &edges);
    let mut h1 = if options.max_dim >= 1 && n >= 3 {
        cohomology_h1(&edges, &forest)
    } else {
        Vec::new()
    };
    let mut h0 = h0;
    let by_death_then_birth =
        |a: &(f64, f64), b: &(f64, f64)| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0));
    h0.sort_by(by_death_then_birth);
    h1.sort_by(by_death_then_birth);
    Diagrams { h0, h1, threshold }
}

/// The edges `≤ t` in filtration order, and the rank matrix.
struct Edges {
    /// `d_e` by rank.
    length: Vec<f64>,
    /// `(i, j)`, `i < j`, by rank.
    ends: Vec<[u32; 2]>,
    /// `n × n`: the rank of edge `{i, j}` at `i·n + j` and `j·n + i`; [`NONE`] on the diagonal and
    /// for edges beyond the threshold, so that every "both edges rank below ρ" test and every
    /// "latest edge" maximum treats them as absent.
    rank: Vec<u32>,
    /// `n × n`: row `a` lists the neighbours `k` of vertex `a` (edges ≤ t) by increasing rank of
    /// `{a, k}`, in its first `degree[a]` places — the coboundaries' entries in key order.
    adjacency: Vec<u32>,
    degree: Vec<u32>,
    n: usize,
}

impl Edges {
    fn new(n: usize, dist: &(impl Fn(usize, usize) -> f64 + Sync), threshold: f64) -> Self {
        // The sort key `(bits of d_ij, i, j)`: for d ≥ +0 the bits order like the values, and the
        // key is unique, so the unstable parallel sort is deterministic.
        let mut keys: Vec<u128> = (0..n)
            .into_par_iter()
            .flat_map_iter(|i| {
                (i + 1..n).filter_map(move |j| {
                    let v = dist(i, j);
                    (v <= threshold)
                        .then(|| ((v.to_bits() as u128) << 64) | ((i as u128) << 32) | j as u128)
                })
            })
            .collect();
        keys.par_sort_unstable();
        assert!(keys.len() < NONE as usize, "ranks fit u32 (n ≤ 23 170)");
        let length: Vec<f64> = keys
            .par_iter()
            .map(|&k| f64::from_bits((k >> 64) as u64))
            .collect();
        let ends: Vec<[u32; 2]> = keys
            .par_iter()
            .map(|&k| [(k >> 32) as u32, k as u32])
            .collect();
        drop(keys);
        let mut rank = vec![NONE; n * n];
        let mut adjacency = vec![0; n * n];
        let mut degree = vec![0u32; n];
        for (r, &[i, j]) in ends.iter().enumerate() {
            let (i, j) = (i as usize, j as usize);
            rank[i * n + j] = r as u32;
            rank[j * n + i] = r as u32;
            adjacency[i * n + degree[i] as usize] = j as u32;
            degree[i] += 1;
            adjacency[j * n + degree[j] as usize] = i as u32;
            degree[j] += 1;
        }
        Edges {
            length,
            ends,
            rank,
            adjacency,
            degree,
            n,
        }
    }

    fn len(&self) -> usize {
        self.length.len()
    }

    /// The rank-matrix rows of the ends of edge `r`.
    #[inline(always)]
    fn rows(&self, r: u32) -> (&[u32], &[u32]) {
        let [i, j] = self.ends[r as usize];
        let n = self.n;
        (
            &self.rank[i as usize * n..][..n],
            &self.rank[j as usize * n..][..n],
        )
    }
}

/// Union–find with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut a: u32) -> u32 {
        while self.parent[a as usize] != a {
            let grand = self.parent[self.parent[a as usize] as usize];
            self.parent[a as usize] = grand;
            a = grand;
        }
        a
    }

    /// Joins the classes of `a` and `b`; whether they were different.
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }
}

/// H₀ by Kruskal over the edges in rank order, and which ranks are forest (negative) edges.
fn kruskal(n: usize, edges: &Edges) -> (Vec<(f64, f64)>, Vec<bool>) {
    let mut uf = UnionFind::new(n);
    let mut forest = vec![false; edges.len()];
    let mut h0 = Vec::new();
    let mut merges = 0;
    for (r, &[i, j]) in edges.ends.iter().enumerate() {
        if merges + 1 == n {
            break;
        }
        if uf.union(i, j) {
            merges += 1;
            forest[r] = true;
            if edges.length[r] > 0.0 {
                h0.push((0.0, edges.length[r]));
            }
        }
    }
    h0.extend(std::iter::repeat_n((0.0, f64::INFINITY), n - merges));
    (h0, forest)
}

/// The least `k` with `a[k] < r` and `b[k] < r` ([`NONE`] if none): the opposite vertex of the
/// earliest cofacet of the edge of rank `r` when that cofacet has `r` as its latest edge.
#[inline(always)]
fn first_lower(a: &[u32], b: &[u32], r: u32) -> u32 {
    let mut base = 0;
    for (ca, cb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        // A branch-free test per chunk (vectorised), the position only on a hit.
        let mut hit = false;
        for l in 0..LANES {
            hit |= (ca[l] < r) & (cb[l] < r);
        }
        if hit {
            let l = (0..LANES).find(|&l| ca[l] < r && cb[l] < r).expect("a hit");
            return (base + l) as u32;
        }
        base += LANES;
    }
    (base..a.len())
        .find(|&k| a[k] < r && b[k] < r)
        .map_or(NONE, |k| k as u32)
}

/// The earliest cofacet of the non-apparent edge `{i, j}` with rank rows `a` (of `i`), `b` (of
/// `j`): with `m_k = max(a_k, b_k)`, the triangle of least `m_k` ([`NO_KEY`] if every triangle on
/// the edge is beyond the threshold). Non-apparent, so no `k` has both ranks below the edge's:
/// the latest edge is `{i, k}` or `{j, k}`, of rank `m_k`, which alone fixes the triangle (two
/// vertices can't give the same edge), and the key's vertex is the one opposite it, `j` or `i`.
#[inline(always)]
fn first_cofacet(a: &[u32], b: &[u32], i: u32, j: u32) -> u64 {
    let mut lanes = [NONE; LANES];
    let (ha, ta) = a.split_at(a.len() / LANES * LANES);
    let (hb, tb) = b.split_at(ha.len());
    for (ca, cb) in ha.chunks_exact(LANES).zip(hb.chunks_exact(LANES)) {
        for l in 0..LANES {
            lanes[l] = lanes[l].min(ca[l].max(cb[l]));
        }
    }
    let mut m = lanes.iter().copied().fold(NONE, u32::min);
    for (&x, &y) in ta.iter().zip(tb) {
        m = m.min(x.max(y));
    }
    if m == NONE {
        return NO_KEY;
    }
    let k = (0..a.len())
        .find(|&k| a[k].max(b[k]) == m)
        .expect("the minimum is attained");
    key(m, if a[k] == m { j } else { i } as usize)
}

/// A multiplicative hash for the pivot table's `u64` keys (SipHash is needlessly slow here; the
/// keys are not adversarial).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ b as u64);
        }
    }

    #[inline]
    fn write_u64(&mut self, k: u64) {
        let h = (k ^ (k >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A reduced column: its edge, and the other edges whose coboundaries sum with the edge's to the
/// reduced column (a range of the reduction arena; module docs).
#[derive(Clone, Copy)]
struct Reduced {
    edge: u32,
    start: u32,
    end: u32,
}

/// One sorted summand of the working column, part of the coboundary `δe` of an edge `e = {i, j}`
/// of rank `ρ_e`, enumerated lazily in key order:
///
/// - the *lune* run (`a = i | LUNE`, `b = j`, `end = ρ_e`): the triangles whose latest edge is `e`
///   itself, keys `(ρ_e, k)` for the `k` with `ρ_{ik}, ρ_{jk} < ρ_e`, scanning `k` upward from
///   `pos` along the two rank rows;
/// - a *stream* (`a`, `b` the ends in either order): the triangles whose latest edge is `{a, k}`,
///   keys `(ρ_{ak}, b)`, walking `a`'s adjacency list (by rank) from `pos` to `end` and skipping
///   the `k` with `{b, k}` later than `{a, k}` (those triangles are the other stream's).
///
/// 16 bytes, carried in the queue entry itself, so advancing a run reads only its own rows.
#[derive(Clone, Copy)]
struct Run {
    a: u32,
    b: u32,
    pos: u32,
    end: u32,
}

/// Marks a lune run in [`Run::a`] (vertices are below 2³¹).
const LUNE: u32 = 1 << 31;

/// A monotone priority queue of `(key, run)` (a radix heap; Ahuja, Mehlhorn, Orlin & Tarjan
/// 1990): every key pushed is `≥` the last minimum taken, which holds here because the pivot
/// only grows. Bucket `b ≥ 1` holds the keys whose highest bit differing from `last` is bit
/// `b − 1`; bucket 0 the keys equal to `last`. Push is `O(1)`; taking the minimum redistributes
/// one bucket, each entry moving down at most 64 times — against `O(log runs)` cache-missing
/// levels of a binary heap over tens of thousands of runs.
struct RadixHeap {
    last: u64,
    buckets: Vec<Vec<(u64, Run)>>,
}

impl Default for RadixHeap {
    fn default() -> Self {
        RadixHeap {
            last: 0,
            buckets: vec![Vec::new(); 65],
        }
    }
}

impl RadixHeap {
    /// Empties the queue; later keys must be `≥ floor`.
    fn reset(&mut self, floor: u64) {
        self.buckets.iter_mut().for_each(Vec::clear);
        self.last = floor;
    }

    #[inline(always)]
    fn bucket(&self, key: u64) -> usize {
        64 - (key ^ self.last).leading_zeros() as usize
    }

    #[inline(always)]
    fn push(&mut self, key: u64, run: Run) {
        debug_assert!(key >= self.last, "radix heap: keys must not decrease");
        let b = self.bucket(key);
        self.buckets[b].push((key, run));
    }

    /// Makes bucket 0 hold the entries with the smallest key (now `last`); `false` if empty.
    fn settle(&mut self) -> bool {
        if !self.buckets[0].is_empty() {
            return true;
        }
        let Some(b) = (1..65).find(|&b| !self.buckets[b].is_empty()) else {
            return false;
        };
        let moving = std::mem::take(&mut self.buckets[b]);
        self.last = moving.iter().map(|e| e.0).min().expect("non-empty");
        for &(k, run) in &moving {
            let t = self.bucket(k);
            self.buckets[t].push((k, run));
        }
        // Keep the allocation for the next time this bucket fills.
        let mut moving = moving;
        moving.clear();
        if self.buckets[b].is_empty() {
            self.buckets[b] = moving;
        }
        true
    }
}

/// The working coboundary column: a `Z/2` sum of sorted runs (three per added edge coboundary:
/// its lune block and one stream per end), merged lazily through a monotone priority queue of run
/// heads. The streams enumerate a coboundary in key order straight from the adjacency lists, so
/// adding a coboundary costs `O(log n)` plus its lune, and finding the pivot touches only the
/// entries below it — where one heap of all entries pays an insertion for each of the `n`
/// entries of every added coboundary and pops from a heap of tens of millions.
#[derive(Default)]
struct Runs {
    /// `(head key, run)` of the runs not yet exhausted.
    heads: RadixHeap,
    /// Scratch for the entries of the current minimum.
    equal: Vec<(u64, Run)>,
}

impl Runs {
    /// Empties the column; keys added later must exceed `floor`.
    fn clear(&mut self, floor: u64) {
        self.heads.reset(floor);
    }

    /// The next key of `run`, advancing it; `None` when exhausted.
    #[inline(always)]
    fn next(edges: &Edges, run: &mut Run) -> Option<u64> {
        let n = edges.n;
        let (a, b) = ((run.a & !LUNE) as usize, run.b as usize);
        let (ra, rb) = (&edges.rank[a * n..][..n], &edges.rank[b * n..][..n]);
        if run.a & LUNE != 0 {
            let r = run.end;
            while (run.pos as usize) < n {
                let k = run.pos as usize;
                run.pos += 1;
                if ra[k] < r && rb[k] < r {
                    return Some(key(r, k));
                }
            }
            return None;
        }
        let list = &edges.adjacency[a * n..][..run.end as usize];
        while run.pos < run.end {
            let k = list[run.pos as usize] as usize;
            run.pos += 1;
            let rho = ra[k];
            if rb[k] < rho {
                return Some(key(rho, b));
            }
        }
        None
    }

    /// Adds `run`, dropping its keys `≤ floor` (`floor` ≥ the last pivot taken).
    fn push(&mut self, edges: &Edges, mut run: Run, floor: u64) {
        while let Some(k) = Self::next(edges, &mut run) {
            if k > floor {
                self.heads.push(k, run);
                return;
            }
        }
    }

    /// Removes every occurrence of the smallest key and returns it if it occurred an odd number
    /// of times (it is then the pivot); `None` when the column is zero.
    fn pop_pivot(&mut self, edges: &Edges) -> Option<u64> {
        while self.heads.settle() {
            let top = self.heads.last;
            std::mem::swap(&mut self.equal, &mut self.heads.buckets[0]);
            let odd = self.equal.len() % 2 == 1;
            for &(_, mut run) in &self.equal {
                if let Some(next) = Self::next(edges, &mut run) {
                    self.heads.push(next, run);
                }
            }
            self.equal.clear();
            if odd {
                return Some(top);
            }
        }
        None
    }
}

/// The sequential reduction's state.
struct Reducer<'a> {
    edges: &'a Edges,
    apparent: &'a [u32],
    /// Pivot triangle key → index into `columns`.
    pivots: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    columns: Vec<Reduced>,
    arena: Vec<u32>,
    /// The working column, without its current pivot.
    runs: Runs,
    /// The edges added to the working column (with repeats, cancelled mod 2 at the end).
    added: Vec<u32>,
}

impl Reducer<'_> {
    /// Whether the pivot `p` is already taken: by an apparent pair, or by a reduced column.
    fn taken(&self, p: u64) -> bool {
        self.apparent[key_rank(p) as usize] == key_vertex(p) || self.pivots.contains_key(&p)
    }

    /// Adds to the working column the entries above `p` of the coboundary `δe = Σ_k {i, j, k}`
    /// of the edge `e = {i, j}` of rank `r` (triangles ≤ t only), each keyed by its latest edge
    /// and the vertex opposite that edge. The entries up to `p` are left out: `p` is the pivot of
    /// the column being added, so its entries below `p` cancel among its own summands and `p`
    /// cancels the working column's pivot, which `pop_pivot` already removed.
    fn add_coboundary(&mut self, r: u32, p: u64) {
        let edges = self.edges;
        let n = edges.n;
        let [i, j] = edges.ends[r as usize];
        let (pr, pv) = (key_rank(p), key_vertex(p));
        // The lune run (latest edge e): keys (r, k), above p only if r > pr, or r = pr and k > pv.
        if r >= pr {
            let from = if r == pr { pv + 1 } else { 0 };
            let lune = Run {
                a: i | LUNE,
                b: j,
                pos: from,
                end: r,
            };
            self.runs.push(edges, lune, p);
        }
        // The two streams (latest edge {i, k} or {j, k}, rank > r): from the first rank ≥ pr.
        let lo = (r + 1).max(pr);
        for (a, b) in [(i, j), (j, i)] {
            let row = &edges.rank[a as usize * n..][..n];
            let end = edges.degree[a as usize];
            let list = &edges.adjacency[a as usize * n..][..end as usize];
            let pos = list.partition_point(|&k| row[k as usize] < lo) as u32;
            self.runs.push(edges, Run { a, b, pos, end }, p);
        }
        self.added.push(r);
    }

    /// Reduces the column of the non-apparent, non-forest edge of rank `r` whose unreduced pivot
    /// `first` is taken; returns its final pivot ([`NO_KEY`]: reduced to zero).
    fn reduce(&mut self, r: u32, first: u64) -> u64 {
        self.runs.clear(first);
        self.added.clear();
        self.add_coboundary(r, first);
        // `added` lists the summands other than r itself.
        self.added.clear();
        let mut p = first;
        loop {
            let (pr, pk) = (key_rank(p), key_vertex(p));
            if self.apparent[pr as usize] == pk {
                // Apparent pivot: its edge's plain coboundary is a reduced column with pivot p.
                self.add_coboundary(pr, p);
            } else if let Some(&c) = self.pivots.get(&p) {
                let Reduced { edge, start, end } = self.columns[c as usize];
                self.add_coboundary(edge, p);
                for q in start..end {
                    self.add_coboundary(self.arena[q as usize], p);
                }
            } else {
                self.store(r, p);
                return p;
            }
            match self.runs.pop_pivot(self.edges) {
                Some(next) => p = next,
                None => return NO_KEY,
            }
        }
    }

    /// Records the reduced column of edge `r` with pivot `p` (its added edges mod 2).
    fn store(&mut self, r: u32, p: u64) {
        self.added.sort_unstable();
        let start = self.arena.len() as u32;
        let mut q = 0;
        while q < self.added.len() {
            let e = self.added[q];
            let run = self.added[q..].iter().take_while(|&&x| x == e).count();
            if run % 2 == 1 {
                self.arena.push(e);
            }
            q += run;
        }
        let end = self.arena.len() as u32;
        self.pivots.insert(p, self.columns.len() as u32);
        self.columns.push(Reduced {
            edge: r,
            start,
            end,
        });
    }
}

/// H₁ by persistent cohomology with clearing, apparent and emergent pairs (module docs).
fn cohomology_h1(edges: &Edges, forest: &[bool]) -> Vec<(f64, f64)> {
    // Apparent pairs, in parallel: each entry is one edge's own scan, so the table does not
    // depend on the thread count.
    let apparent: Vec<u32> = (0..edges.len() as u32)
        .into_par_iter()
        .map(|r| {
            if forest[r as usize] {
                // A forest edge joins two components, so no vertex has both edges earlier.
                NONE
            } else {
                let (a, b) = edges.rows(r);
                first_lower(a, b, r)
            }
        })
        .collect();
    let mut reducer = Reducer {
        edges,
        apparent: &apparent,
        pivots: HashMap::default(),
        columns: Vec::new(),
        arena: Vec::new(),
        runs: Runs::default(),
        added: Vec::new(),
    };
    let mut h1 = Vec::new();
    for r in (0..edges.len() as u32).rev() {
        if forest[r as usize] || apparent[r as usize] != NONE {
            continue;
        }
        let (a, b) = edges.rows(r);
        let [i, j] = edges.ends[r as usize];
        let first = first_cofacet(a, b, i, j);
        let pivot = if first == NO_KEY {
            NO_KEY
        } else if !reducer.taken(first) {
            // Emergent pair: the unreduced column's pivot is free, so the column is reduced.
            reducer.added.clear();
            reducer.store(r, first);
            first
        } else {
            reducer.reduce(r, first)
        };
        let birth = edges.length[r as usize];
        let death = if pivot == NO_KEY {
            f64::INFINITY
        } else {
            edges.length[key_rank(pivot) as usize]
        };
        if death > birth {
            h1.push((birth, death));
        }
    }
    h1
}
