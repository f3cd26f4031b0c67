//! Exact optimal assignment between two clouds of `n` points: `W₂²` between uniform measures of
//! equal size (METHODS §6–7), the OT problem of [`crate::tracks`] (OTS, W₂ per step).
//!
//! For `x_1..x_n`, `y_1..y_n ∈ ℝ^d` and `c_ij = |x_i − y_j|²` it finds a permutation `σ`
//! minimising `Σ_i c_iσ(i)` and potentials `(u, v)` with `u_i + v_j ≤ c_ij` for **all** `n²` pairs
//! (up to rounding, below) and `u_i + v_σ(i) = c_iσ(i)`: by LP duality the certificate that `σ` is
//! optimal, and `W₂² = (1/n) Σ_i c_iσ(i) = (1/n)(Σ u + Σ v)`.
//!
//! **Algorithm: sparse shortest augmenting paths with a dense certificate.** The optimal partner
//! of a point is nearly always among a few candidates, so the solver works on a sparse graph and
//! checks the whole matrix only through the kernel's filtered scan
//! ([`crate::kernel::nearest::smallest_shifted`]):
//!
//! 1. candidates: the identity arcs `(i, i)` (so a perfect matching always exists) and, for each
//!    `i`, the [`CANDIDATES`] columns with the smallest `c_ij − v⁰_j`, where `v⁰_j = −2⟨y_j, x̄ − ȳ⟩`
//!    makes this the nearest neighbours after moving both clouds to a common mean (a translation
//!    changes `c` only by `α_i + β_j` and so not the optimal assignment);
//! 2. min-cost perfect matching on the candidate arcs by successive shortest augmenting paths
//!    (Dijkstra on reduced costs `c_ij − u_i − v_j ≥ 0`, the Hungarian method in the form of Jonker &
//!    Volgenant), starting from `v = v⁰` and `u_i = min_j (c_ij − v⁰_j)` (the scan's smallest value)
//!    and a greedy matching of tight arcs;
//! 3. certificate: augmentations only lower `v`, so each row keeps a *floor* — the largest value its
//!    last scan returned, a lower bound of `c_ij − v_j` for every column not among its arcs. A row
//!    with `u_i ≤ floor_i + τ` is dual feasible against all `n` columns without being looked at
//!    again; the others are scanned against the current `v` ([`RESCAN`] columns each), the returned
//!    columns join their arcs, a row with a negative reduced cost is unmatched and its `u_i`
//!    lowered to its new minimum (every reduced cost stays `≥ 0`), and step 2 re-augments those
//!    rows. Repeat until every row is certified. On the tracks of a residual network (nearly the
//!    identity), the first scan usually certifies every row: one `n²·d` scan in all.
//!
//! **Accuracy.** The scan's values are exact to `d·ε` relative (direct differences), so the
//! certificate holds up to `τ = 64·ε·(max c + max |u| + max |v|)` per pair: `Σ c_iσ(i)` is within
//! `n·τ` of the optimum (rounding level). Ties (equal total costs) are broken by the algorithm:
//! the returned `σ` is one optimal assignment. Coordinates must be finite with squares that do not
//! overflow (`|x| ≲ 10¹⁵³`; [`crate::tracks`] rescales by a power of two first).
//!
//! **Cost.** The first scan is `n²·d` multiply-adds in GEMM, later ones `(uncertified rows)·n·d`; the
//! sparse matching `O(n·k·log n)` per augmentation on typical data. Memory `O(n·(d + k))`: the
//! `n × n` cost matrix is never formed. Deterministic: the same result for any thread count.

use crate::error::{Error, Result};
use crate::kernel::nearest::{Smallest, smallest_shifted, sq_distance};
use ndarray::ArrayView2;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Candidate columns per row from the first scan.
pub const CANDIDATES: usize = 8;
/// Columns per row from a certificate scan (rows that need one are the hard ones).
pub const RESCAN: usize = 16;
/// Certificate rounds before giving up (each adds at least one arc; never reached in practice).
const MAX_ROUNDS: usize = 100;
const NONE: u32 = u32::MAX;

/// An optimal assignment and its certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// `σ(i)`: the column assigned to row `i`.
    pub sigma: Vec<usize>,
    /// `(1/n) Σ_i |x_i − y_σ(i)|²` = `W₂²` of the uniform measures.
    pub cost: f64,
    /// Row potentials `u` (dual of the assignment LP).
    pub u: Vec<f64>,
    /// Column potentials `v`.
    pub v: Vec<f64>,
    /// Dense scans made (candidate scan plus certificate rounds).
    pub scans: usize,
    /// Augmenting paths found.
    pub augmentations: usize,
    /// Arcs in the final sparse graph.
    pub arcs: usize,
}

/// `f64` ordered by `total_cmp`, for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// The sparse min-cost perfect matching: arcs per row, potentials and the matching.
struct Sparse {
    /// `(column, cost)` of each row's arcs.
    arcs: Vec<Vec<(u32, f64)>>,
    u: Vec<f64>,
    v: Vec<f64>,
    col_of: Vec<u32>,
    row_of: Vec<u32>,
    // Dijkstra scratch, reset through stamps.
    dist: Vec<f64>,
    pred: Vec<u32>,
    reached: Vec<u32>,
    done: Vec<u32>,
    stamp: u32,
    augmentations: usize,
}

impl Sparse {
    /// The graph with column potentials `v` and `u_i = min_j (c_ij − v_j)` over the row's arcs, so
    /// that every reduced cost `c_ij − u_i − v_j` is `≥ 0`.
    fn new(arcs: Vec<Vec<(u32, f64)>>, v: Vec<f64>) -> Self {
        let n = arcs.len();
        let u = arcs
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(j, c)| c - v[j as usize])
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        Sparse {
            arcs,
            u,
            v,
            col_of: vec![NONE; n],
            row_of: vec![NONE; n],
            dist: vec![0.0; n],
            pred: vec![NONE; n],
            reached: vec![0; n],
            done: vec![0; n],
            stamp: 0,
            augmentations: 0,
        }
    }

    /// Matches free rows along tight arcs (reduced cost 0) to free columns.
    fn greedy(&mut self) {
        for i in 0..self.arcs.len() {
            if self.col_of[i] != NONE {
                continue;
            }
            for &(j, c) in &self.arcs[i] {
                if self.row_of[j as usize] == NONE && c - self.u[i] - self.v[j as usize] <= 0.0 {
                    self.col_of[i] = j;
                    self.row_of[j as usize] = i as u32;
                    break;
                }
            }
        }
    }

    /// Augments from the free row `s` along a shortest path of reduced costs to a free column,
    /// then updates the potentials so that every reduced cost stays `≥ 0` and the new matching
    /// arcs are tight. The identity arcs guarantee the path exists.
    fn augment(&mut self, s: usize, tree: &mut Vec<(u32, f64)>, scanned: &mut Vec<u32>) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.reached.fill(0);
            self.done.fill(0);
            self.stamp = 1;
        }
        let st = self.stamp;
        tree.clear();
        scanned.clear();
        let mut heap: BinaryHeap<Reverse<(Key, u32)>> = BinaryHeap::new();
        let (mut i, mut di) = (s, 0.0);
        tree.push((s as u32, 0.0));
        let (sink, delta) = loop {
            let ui = self.u[i];
            for &(j, c) in &self.arcs[i] {
                let ju = j as usize;
                if self.done[ju] == st {
                    continue;
                }
                let nd = di + (c - ui - self.v[ju]);
                if self.reached[ju] != st || nd < self.dist[ju] {
                    self.reached[ju] = st;
                    self.dist[ju] = nd;
                    self.pred[ju] = i as u32;
                    heap.push(Reverse((Key(nd), j)));
                }
            }
            let (dj, j) = loop {
                let Reverse((Key(dj), j)) = heap.pop().expect("the identity arcs make a path");
                if self.done[j as usize] != st && dj <= self.dist[j as usize] {
                    break (dj, j as usize);
                }
            };
            self.done[j] = st;
            scanned.push(j as u32);
            if self.row_of[j] == NONE {
                break (j, dj);
            }
            i = self.row_of[j] as usize;
            di = dj;
            tree.push((i as u32, di));
        };
        for &(r, dr) in tree.iter() {
            self.u[r as usize] += delta - dr;
        }
        for &j in scanned.iter() {
            self.v[j as usize] -= delta - self.dist[j as usize];
        }
        let mut j = sink;
        loop {
            let r = self.pred[j] as usize;
            self.row_of[j] = r as u32;
            let prev = self.col_of[r];
            self.col_of[r] = j as u32;
            if r == s {
                break;
            }
            j = prev as usize;
        }
        self.augmentations += 1;
    }

    /// Augments every free row.
    fn solve(&mut self) {
        let (mut tree, mut scanned) = (Vec::new(), Vec::new());
        for s in 0..self.arcs.len() {
            if self.col_of[s] == NONE {
                self.augment(s, &mut tree, &mut scanned);
            }
        }
    }
}

/// Exact optimal assignment of `x_i` to `y_σ(i)` for the cost `|x − y|²` (module docs).
///
/// `x` and `y` are `n × d` (`n ≥ 1`, `d ≥ 1`, finite). Errors: shapes
/// ([`Error::DimensionMismatch`], [`Error::Empty`]), non-finite entries ([`Error::NonFinite`]),
/// `n ≥ 2³²−1`, or a certificate that has not closed after 100 rounds ([`Error::NotConverged`],
/// not seen in practice).
pub fn assignment(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<Assignment> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(Error::Empty {
            what: "assignment points".into(),
        });
    }
    if y.ncols() != d {
        return Err(Error::DimensionMismatch {
            what: "assignment targets (columns)".into(),
            expected: d,
            got: y.ncols(),
        });
    }
    if y.nrows() != n {
        return Err(Error::DimensionMismatch {
            what: "assignment targets (rows)".into(),
            expected: n,
            got: y.nrows(),
        });
    }
    if n >= NONE as usize {
        return Err(Error::InvalidParameter {
            name: "points".into(),
            value: n.to_string(),
            reason: "an assignment holds fewer than 2³² − 1 points".into(),
        });
    }
    crate::error::check_finite("assignment points", x)?;
    crate::error::check_finite("assignment targets", y)?;
    let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
    let cost = |i: usize, j: usize| {
        sq_distance(
            x.row(i).as_slice().expect("standard layout"),
            y.row(j).as_slice().expect("standard layout"),
        )
    };

    // 1. Candidates: identity arcs and the nearest columns after aligning the means.
    let shift: Vec<f64> = {
        let gap = x.mean_axis(ndarray::Axis(0)).expect("n ≥ 1")
            - y.mean_axis(ndarray::Axis(0)).expect("n ≥ 1");
        y.rows().into_iter().map(|r| -2.0 * r.dot(&gap)).collect()
    };
    let shift = if shift.iter().all(|s| s.is_finite()) {
        shift
    } else {
        vec![0.0; n]
    };
    let first = smallest_shifted(x.view(), y.view(), &shift, CANDIDATES);
    // `floor[i]`: every column of row `i` outside its arcs has `c_ij − v_j ≥ floor[i]` for the
    // current `v` (the largest value the last scan returned; `v` only decreases, so the bound
    // keeps holding), `∞` when the scan returned every column.
    let floor_of = |s: &Smallest, r: usize| {
        if s.k < n {
            s.row(r).1[s.k - 1]
        } else {
            f64::INFINITY
        }
    };
    let mut floor: Vec<f64> = (0..n).map(|i| floor_of(&first, i)).collect();
    let arcs: Vec<Vec<(u32, f64)>> = (0..n)
        .map(|i| {
            let mut a: Vec<(u32, f64)> = first
                .row(i)
                .0
                .iter()
                .map(|&j| (j, cost(i, j as usize)))
                .collect();
            if !a.iter().any(|&(j, _)| j as usize == i) {
                a.push((i as u32, cost(i, i)));
            }
            a
        })
        .collect();
    // 2. Starting from v = the scan's shift, u_i = the row's smallest value: feasible, and the
    // scan's floors hold for the starting v.
    let mut sp = Sparse::new(arcs, shift);
    sp.greedy();
    sp.solve();

    // 3. Certificate rounds: a row is certified when `u_i ≤ floor[i] + τ` (its arcs have reduced
    // cost ≥ 0 by construction); the others are scanned against the current `v`, every returned
    // column joins their arcs, and a row with a negative reduced cost is unmatched.
    let mut scans = 1;
    loop {
        let max_abs = |a: &[f64]| a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let max_c = (0..n)
            .map(|i| cost(i, sp.col_of[i] as usize))
            .fold(0.0f64, f64::max);
        let tau = 64.0 * f64::EPSILON * (max_c + max_abs(&sp.u) + max_abs(&sp.v));
        let rows: Vec<usize> = (0..n).filter(|&i| sp.u[i] - tau > floor[i]).collect();
        if rows.is_empty() {
            break;
        }
        if scans >= MAX_ROUNDS {
            return Err(Error::NotConverged(format!(
                "the assignment's optimality certificate did not close after {MAX_ROUNDS} scans \
                 ({} rows still uncertified)",
                rows.len()
            )));
        }
        let sub = x.select(ndarray::Axis(0), &rows);
        let scan = smallest_shifted(sub.view(), y.view(), &sp.v, RESCAN);
        scans += 1;
        for (r, &i) in rows.iter().enumerate() {
            floor[i] = floor_of(&scan, r);
            let (cols, vals) = scan.row(r);
            for &j in cols {
                if !sp.arcs[i].iter().any(|&(a, _)| a == j) {
                    sp.arcs[i].push((j, cost(i, j as usize)));
                }
            }
            if vals[0] < sp.u[i] {
                // Unmatch the row and lower u_i to its new minimum reduced cost: every arc of
                // the row has reduced cost ≥ 0 again, the other rows' arcs are untouched.
                let j = sp.col_of[i];
                sp.row_of[j as usize] = NONE;
                sp.col_of[i] = NONE;
                sp.u[i] = sp.arcs[i]
                    .iter()
                    .map(|&(j, c)| c - sp.v[j as usize])
                    .fold(f64::INFINITY, f64::min);
            }
        }
        sp.solve();
    }

    let sigma: Vec<usize> = sp.col_of.iter().map(|&j| j as usize).collect();
    let total: f64 = (0..n).map(|i| cost(i, sigma[i])).sum();
    Ok(Assignment {
        sigma,
        cost: total / n as f64,
        arcs: sp.arcs.iter().map(Vec::len).sum(),
        u: sp.u,
        v: sp.v,
        scans,
        augmentations: sp.augmentations,
    })
}
