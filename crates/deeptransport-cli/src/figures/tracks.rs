//! The figures of `deeptransport tracks --report DIR` (METHODS §7): the LSS histogram, W₂ per step
//! against the end-to-end W₂, the action per step, and the tracks projected on the first two
//! principal components of the pooled layers.
//!
//! [`Sketch`] is fed the layers as the command streams them and keeps what the figures need beyond
//! [`TrackScores`]: the per-step mean squared step (the action's terms, which the core sums
//! without exposing) and a seeded subsample of at most [`PCA_TRACKS`] tracks stored as f32, capped
//! at [`PCA_BYTES`]. Memory: one more `n × d` layer (the previous one) and that capped subsample,
//! never the stack.

use super::plot::{
    Axes, Colouring, LegendAt, LineChart, Series, TAB10, TrajectoryLayer, TrajectoryPanel,
    histogram, palette,
};
use anyhow::{Context, Result};
use deeptransport::flow::Trajectory;
use deeptransport::linalg::sym_eigen;
use deeptransport::tracks::TrackScores;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis, s};
use plotters::style::RGBColor;
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// At most this many tracks are kept for the principal-component figure.
pub const PCA_TRACKS: usize = 300;
/// The kept tracks' values (f32, every layer at its own width) stay below this many bytes.
pub const PCA_BYTES: usize = 256 << 20;
/// Up to this pooled width the covariance is formed and diagonalised exactly; wider layers use a
/// randomized subspace iteration (the `d × d` covariance of a flattened conv layer would not fit).
const EXACT_PCA_WIDTH: usize = 512;
/// A different stream from the OT subsample's, so the two subsamples are independent.
const PCA_SEED_SALT: u64 = 0x7261_636b_7370_6361;

/// The per-step quantities and the track subsample, gathered while the layers stream.
pub struct Sketch {
    n: usize,
    /// `in_ots[i]`: input `i` is in the core's OT subsample (the same seeded draw).
    in_ots: Vec<bool>,
    prev: Array2<f64>,
    /// Per step: `Σ_{i ∈ OT subsample} |Δ_ℓ x_i|²` and `Σ_i |Δ_ℓ x_i|²`.
    sq_ots: Vec<f64>,
    sq_all: Vec<f64>,
    /// Kept track indices, in the random order of the draw (a prefix of it is still random, so
    /// the subsample shrinks by truncation when a wide layer arrives).
    kept: Vec<usize>,
    /// One `kept × width_ℓ` block per layer.
    blocks: Vec<Array2<f32>>,
    layers: usize,
    /// [`PCA_BYTES`] (smaller in tests).
    budget: usize,
}

/// The inputs the core's [`deeptransport::tracks::TrackScorer`] uses for its OT quantities: all
/// when `n ≤ max`, else `max` of them drawn from `seed` (its own draw, replicated; [`Sketch::finish`]
/// checks the result against the scores' `fixed_point`, which is `Some` exactly on that subsample).
fn ots_subsample(n: usize, max: usize, seed: u64) -> Vec<bool> {
    let mut mask = vec![n <= max; n];
    if n > max {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in rand::seq::index::sample(&mut rng, n, max) {
            mask[i] = true;
        }
    }
    mask
}

/// `|a − b|²` of two rows, the shorter one zero-padded (as the scorer embeds layers).
fn padded_sq_dist<'a>(a: ArrayView1<'a, f64>, b: ArrayView1<'a, f64>) -> f64 {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let common: f64 = short
        .iter()
        .zip(&long)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    common + long.iter().skip(short.len()).map(|y| y * y).sum::<f64>()
}

impl Sketch {
    /// Starts with the first scored layer; `layers` is the number of scored layers (m + 1),
    /// `max_samples` and `seed` those given to the scorer.
    pub fn new(first: ArrayView2<f64>, layers: usize, max_samples: usize, seed: u64) -> Self {
        let n = first.nrows();
        let per_track = layers * first.ncols() * 4;
        let k = PCA_TRACKS.min(n).min(PCA_BYTES / per_track.max(1));
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ PCA_SEED_SALT);
        let kept = rand::seq::index::sample(&mut rng, n, k).into_vec();
        let mut sketch = Sketch {
            n,
            in_ots: ots_subsample(n, max_samples, seed),
            prev: first.to_owned(),
            sq_ots: Vec::new(),
            sq_all: Vec::new(),
            kept,
            blocks: Vec::new(),
            layers,
            budget: PCA_BYTES,
        };
        sketch.keep(first);
        sketch
    }

    /// Stores the kept rows of `layer` as f32, first shrinking the subsample if this layer's
    /// width, assumed for every layer still to come, would take it past [`PCA_BYTES`].
    fn keep(&mut self, layer: ArrayView2<f64>) {
        let stored: usize = self.blocks.iter().map(|b| b.ncols()).sum();
        let left = self.layers - self.blocks.len();
        let per_track = (stored + left * layer.ncols()) * 4;
        let k = self.kept.len().min(self.budget / per_track.max(1));
        if k < self.kept.len() {
            self.kept.truncate(k);
            for b in &mut self.blocks {
                *b = b.slice(s![..k, ..]).to_owned();
            }
        }
        let block =
            Array2::from_shape_fn((k, layer.ncols()), |(r, c)| layer[[self.kept[r], c]] as f32);
        self.blocks.push(block);
    }

    /// Adds the next layer (already checked by the scorer: `n` rows, finite).
    pub fn push(&mut self, layer: ArrayView2<f64>) {
        let (mut ots, mut all) = (0.0, 0.0);
        for i in 0..self.n {
            let d = padded_sq_dist(self.prev.row(i), layer.row(i));
            all += d;
            if self.in_ots[i] {
                ots += d;
            }
        }
        self.sq_ots.push(ots);
        self.sq_all.push(all);
        self.prev = layer.to_owned();
        self.keep(layer);
    }

    /// What the figures need, with the scores.
    pub fn finish(self, scores: &TrackScores) -> Result<Sketched> {
        let m = self.sq_all.len();
        let same = scores.fixed_point.len() == self.n
            && scores
                .fixed_point
                .iter()
                .zip(&self.in_ots)
                .all(|(f, &o)| f.is_some() == o);
        let (sums, count) = if same {
            (&self.sq_ots, scores.ots_n)
        } else {
            (&self.sq_all, self.n)
        };
        let action_steps = sums.iter().map(|v| m as f64 * v / count as f64).collect();
        let pca = if self.kept.len() >= 2 {
            Some(project(&self.blocks).context("principal components of the tracks")?)
        } else {
            None
        };
        Ok(Sketched {
            action_steps,
            action_on_ots_subsample: same,
            pca_tracks: self.kept,
            pca,
        })
    }
}

/// The streamed quantities behind the figures.
pub struct Sketched {
    /// `m · mean_i |Δ_ℓ x_i|²` per step (they sum to the action `A`).
    pub action_steps: Vec<f64>,
    /// Whether those means are over the core's OT subsample (else over all inputs).
    pub action_on_ots_subsample: bool,
    /// The input index of each projected track.
    pub pca_tracks: Vec<usize>,
    /// The kept tracks on the first two principal components (`None` under two tracks).
    pub pca: Option<Projection>,
}

/// Tracks in the plane of the first two principal components.
pub struct Projection {
    /// `L × k × 2`: layer, track, (PC1, PC2).
    pub coords: Array3<f64>,
    /// The share of the pooled variance along PC1 and PC2.
    pub explained: [f64; 2],
    /// Whether the covariance was diagonalised exactly (else by subspace iteration).
    pub exact: bool,
}

/// Calls `f` with the pooled rows of `blocks`, zero-padded to `width`, minus `mean`, in f64
/// chunks of at most about 2²⁰ values (a flattened conv layer never needs a full f64 copy).
fn centred_chunks(
    blocks: &[Array2<f32>],
    width: usize,
    mean: &Array1<f64>,
    mut f: impl FnMut(ArrayView2<f64>),
) {
    let rows = ((1 << 20) / width).max(1);
    for b in blocks {
        for start in (0..b.nrows()).step_by(rows) {
            let end = (start + rows).min(b.nrows());
            let chunk = Array2::from_shape_fn((end - start, width), |(r, c)| {
                let v = if c < b.ncols() {
                    b[[start + r, c]] as f64
                } else {
                    0.0
                };
                v - mean[c]
            });
            f(chunk.view());
        }
    }
}

/// Orthonormalises the columns of `v` in place (modified Gram–Schmidt, twice for accuracy); a
/// column that vanishes is replaced by zeros.
fn orthonormalise(v: &mut Array2<f64>) {
    for _ in 0..2 {
        for j in 0..v.ncols() {
            for p in 0..j {
                let d = v.column(p).dot(&v.column(j));
                let pc = v.column(p).to_owned();
                v.column_mut(j).scaled_add(-d, &pc);
            }
            let norm = v.column(j).dot(&v.column(j)).sqrt();
            let mut c = v.column_mut(j);
            if norm > 0.0 {
                c /= norm;
            } else {
                c.fill(0.0);
            }
        }
    }
}

/// PCA of the pooled rows (every layer of every kept track, zero-padded to the widest layer) and
/// the tracks projected on PC1 and PC2. Exact (covariance and [`sym_eigen`]) up to
/// [`EXACT_PCA_WIDTH`] columns; wider, a randomized subspace iteration with 8 extra directions
/// and 12 power steps, then Rayleigh–Ritz, which resolves the two leading axes of any spectrum
/// with a visible gap (what a 2-D picture needs).
fn project(blocks: &[Array2<f32>]) -> Result<Projection> {
    project_with(blocks, EXACT_PCA_WIDTH)
}

/// [`project`] with the exact path up to `exact_width` columns (tests compare both paths).
fn project_with(blocks: &[Array2<f32>], exact_width: usize) -> Result<Projection> {
    let width = blocks.iter().map(|b| b.ncols()).max().unwrap_or(0);
    let pooled: usize = blocks.iter().map(|b| b.nrows()).sum();
    let mut mean = Array1::<f64>::zeros(width);
    for b in blocks {
        for row in b.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
    }
    mean /= pooled as f64;
    let mut total = 0.0;
    centred_chunks(blocks, width, &mean, |c| {
        total += c.iter().map(|v| v * v).sum::<f64>()
    });
    total /= pooled as f64;

    let exact = width <= exact_width;
    // Columns of `axes`: PC1 and PC2 (PC2 zero when the rows span one direction only).
    let (axes, variances) = if exact {
        let mut cov = Array2::<f64>::zeros((width, width));
        centred_chunks(blocks, width, &mean, |c| cov += &c.t().dot(&c));
        cov /= pooled as f64;
        let (vals, vecs) = sym_eigen(cov.view())?;
        let top: Vec<usize> = (0..width).rev().take(2).collect();
        let mut axes = Array2::zeros((width, 2));
        let mut var = [0.0; 2];
        for (j, &k) in top.iter().enumerate() {
            axes.column_mut(j).assign(&vecs.column(k));
            var[j] = vals[k].max(0.0);
        }
        (axes, var)
    } else {
        let q = 10.min(width);
        let mut rng = ChaCha8Rng::seed_from_u64(PCA_SEED_SALT);
        let mut v = Array2::from_shape_fn((width, q), |_| rng.random::<f64>() - 0.5);
        orthonormalise(&mut v);
        for _ in 0..12 {
            let mut z = Array2::<f64>::zeros((width, q));
            centred_chunks(blocks, width, &mean, |c| z += &c.t().dot(&c.dot(&v)));
            v = z;
            orthonormalise(&mut v);
        }
        let mut h = Array2::<f64>::zeros((q, q));
        centred_chunks(blocks, width, &mean, |c| {
            let y = c.dot(&v);
            h += &y.t().dot(&y);
        });
        h /= pooled as f64;
        let (vals, vecs) = sym_eigen(h.view())?;
        let mut axes = Array2::zeros((width, 2));
        let mut var = [0.0; 2];
        for (j, k) in (0..q).rev().take(2).enumerate() {
            axes.column_mut(j).assign(&v.dot(&vecs.column(k)));
            var[j] = vals[k].max(0.0);
        }
        (axes, var)
    };
    let k = blocks[0].nrows();
    let mut coords = Array3::zeros((blocks.len(), k, 2));
    for (l, b) in blocks.iter().enumerate() {
        let one = [b.clone()];
        let mut at = 0;
        centred_chunks(&one, width, &mean, |c| {
            let p = c.dot(&axes);
            coords.slice_mut(s![l, at..at + p.nrows(), ..]).assign(&p);
            at += p.nrows();
        });
    }
    let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };
    Ok(Projection {
        coords,
        explained: [share(variances[0]), share(variances[1])],
        exact,
    })
}

/// Class labels of the inputs, as `deeptransport tracks --labels` reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The class names, in display order (numeric order for integer labels, else sorted).
    pub names: Vec<String>,
    /// Per input, its index into `names`.
    pub class: Vec<usize>,
}

/// Up to this many classes get their own legend entry and categorical colour.
pub const LEGEND_CLASSES: usize = 10;

/// The LSS histogram: defined, finite LSS values in `bins` bins from `min(1, min)` to their 99th
/// percentile (larger values counted in the last bin), with the mean and median marked. Returns
/// the chart and how many values were put in the last bin from above its edge.
pub fn lss_histogram(s: &TrackScores) -> (LineChart, usize) {
    let mut v: Vec<f64> = s
        .lss
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    let axes = Axes::new(
        "Line-shape score per input",
        "LSS = m / |Σ unit steps|",
        "inputs",
    )
    .legend(LegendAt::UpperRight);
    if v.is_empty() {
        return (LineChart::new(axes.x_range(1.0, 2.0).y_range(0.0, 1.0)), 0);
    }
    let q99 = v[((v.len() - 1) as f64 * 0.99).round() as usize];
    // LSS ≥ 1: show 1 (straight) when the data come close to it, else zoom on the data.
    let lo = if v[0] - 1.0 < 0.5 * (q99 - v[0]) {
        v[0].min(1.0)
    } else {
        v[0]
    };
    let hi = if q99 > lo { q99 } else { lo + 0.1 };
    let over = v.iter().filter(|&&x| x > hi).count();
    let clamped: Vec<f64> = v.iter().map(|&x| x.min(hi)).collect();
    let bins = ((v.len() as f64).sqrt().round() as usize).clamp(5, 40);
    let hist = histogram("inputs", &clamped, lo, hi, bins, palette::BLUE);
    // Headroom for the legend above the bars.
    let top = hist.points.iter().fold(0.0f64, |m, p| m.max(p.1)).max(1.0) * 1.35;
    let vline =
        |x: f64, label: String, c| Series::line(label, vec![(x, 0.0), (x, top)], c).dashed();
    let mut chart = LineChart::new(
        axes.x_range(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
            .y_range(0.0, top),
    )
    .series(hist);
    if let Some(mean) = s.lss_mean.filter(|x| x.is_finite()) {
        chart = chart.series(vline(mean.min(hi), format!("mean {mean:.3}"), palette::RED));
    }
    if let Some(med) = s.lss_median.filter(|x| x.is_finite()) {
        chart = chart.series(vline(
            med.min(hi),
            format!("median {med:.3}"),
            palette::ORANGE,
        ));
    }
    (chart, over)
}

/// The top of a y axis from 0 showing `v` with room for a legend (1 when nothing moves).
fn headroom(v: f64) -> f64 {
    if v > 0.0 && v.is_finite() {
        1.3 * v
    } else {
        1.0
    }
}

/// W₂ per step, their running sum, and the end-to-end W₂ (the geodesic ratio is where the
/// running sum ends over the end-to-end line). `from`: the first scored layer's index.
pub fn w2_chart(s: &TrackScores, from: usize) -> LineChart {
    let x = |l: usize| (from + l + 1) as f64;
    let steps: Vec<(f64, f64)> = s
        .w2_steps
        .iter()
        .enumerate()
        .map(|(l, &w)| (x(l), w))
        .collect();
    let mut run = 0.0;
    let cumulative: Vec<(f64, f64)> = s
        .w2_steps
        .iter()
        .enumerate()
        .map(|(l, &w)| {
            run += w;
            (x(l), run)
        })
        .collect();
    let (x0, x1) = (from as f64 + 0.5, x(s.w2_steps.len() - 1) + 0.5);
    let ymax = headroom(run.max(s.w2_end_to_end));
    let n = steps.len();
    LineChart::new(
        Axes::new(
            "W₂ between consecutive layers",
            "layer ℓ (step ℓ−1 → ℓ)",
            "W₂",
        )
        .x_range(x0, x1)
        .y_range(0.0, ymax)
        .legend(LegendAt::UpperLeft),
    )
    .series(
        Series::line("W₂ of the step ℓ−1 → ℓ", steps, palette::BLUE).markers((0..n).collect(), 4),
    )
    .series(
        Series::line("running sum of the steps", cumulative, palette::GREEN)
            .markers((0..n).collect(), 3),
    )
    .series(
        Series::line(
            format!(
                "end to end: W₂(layer {from}, layer {}) = {}",
                from + n,
                num(s.w2_end_to_end)
            ),
            vec![(x0, s.w2_end_to_end), (x1, s.w2_end_to_end)],
            palette::RED,
        )
        .dashed(),
    )
}

/// The action's terms `m · mean_i |Δ_ℓ x_i|²` per step against `W₂²(μ_I, μ_J)/m`, each term's
/// value on a constant-speed W₂ geodesic.
pub fn action_chart(s: &TrackScores, from: usize, terms: &[f64]) -> LineChart {
    let m = terms.len();
    let x = |l: usize| (from + l + 1) as f64;
    let pts: Vec<(f64, f64)> = terms.iter().enumerate().map(|(l, &a)| (x(l), a)).collect();
    let geo = s.w2_end_to_end * s.w2_end_to_end / m as f64;
    let (x0, x1) = (from as f64 + 0.5, x(m - 1) + 0.5);
    let ymax = headroom(terms.iter().fold(geo, |a, &b| a.max(b)));
    LineChart::new(
        Axes::new(
            "Action per step",
            "layer ℓ (step ℓ−1 → ℓ)",
            "m · mean |Δℓ x|²",
        )
        .x_range(x0, x1)
        .y_range(0.0, ymax)
        .legend(LegendAt::UpperLeft),
    )
    .series(
        Series::line(
            format!("m · mean |Δℓ x|² (sum A = {})", num(s.action)),
            pts,
            palette::PURPLE,
        )
        .markers((0..m).collect(), 4),
    )
    .series(
        Series::line(
            format!(
                "constant-speed geodesic: W₂²(layer {from}, layer {})/m = {}",
                from + m,
                num(geo)
            ),
            vec![(x0, geo), (x1, geo)],
            palette::RED,
        )
        .dashed(),
    )
}

/// Four significant figures, in scientific notation outside `[10⁻³, 10⁵)`.
pub fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// The corner of the plot where the fewest track points lie (for the legend).
fn emptiest_corner(coords: &Array3<f64>) -> LegendAt {
    let xs = coords.index_axis(Axis(2), 0);
    let ys = coords.index_axis(Axis(2), 1);
    let ext = |a: &ndarray::ArrayView2<f64>| {
        a.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    };
    let ((x0, x1), (y0, y1)) = (ext(&xs), ext(&ys));
    let mut count = [0usize; 4];
    for (&x, &y) in xs.iter().zip(ys.iter()) {
        let fx = (x - x0) / (x1 - x0).max(f64::MIN_POSITIVE);
        let fy = (y - y0) / (y1 - y0).max(f64::MIN_POSITIVE);
        let (l, r, b, t) = (fx < 0.4, fx > 0.6, fy < 0.35, fy > 0.65);
        count[0] += (r && t) as usize;
        count[1] += (l && t) as usize;
        count[2] += (l && b) as usize;
        count[3] += (r && b) as usize;
    }
    let corners = [
        LegendAt::UpperRight,
        LegendAt::UpperLeft,
        LegendAt::LowerLeft,
        LegendAt::LowerRight,
    ];
    let best = (0..4).min_by_key(|&c| count[c]).unwrap_or(0);
    corners[best]
}

/// How the tracks of the projection are coloured.
pub enum Colour<'a> {
    /// By class.
    Labels(&'a Labels),
    /// By LSS quartile (viridis).
    Lss,
}

/// The kept tracks on PC1/PC2: one line per input from its first to its last scored layer (a dot
/// at the last), coloured by class (legend with the class sizes) or by LSS quartile.
pub fn pca_panel(
    p: &Projection,
    tracks: &[usize],
    s: &TrackScores,
    colour: Colour,
) -> Result<TrajectoryPanel> {
    let last = p.coords.len_of(Axis(0)) - 1;
    let times: Vec<f64> = (0..=last).map(|k| k as f64).collect();
    let group = |members: &[usize]| -> Result<Trajectory> {
        let pos = p.coords.select(Axis(1), members);
        Ok(Trajectory::new(pos, times.clone())?)
    };
    let pct = |v: f64| format!("{:.0} %", 100.0 * v);
    let axes = Axes::new(
        if tracks.len() < s.n {
            format!(
                "{} of the {} tracks on the first two principal components",
                tracks.len(),
                s.n
            )
        } else {
            format!(
                "Tracks of the {} inputs on the first two principal components",
                s.n
            )
        },
        format!("PC1 ({} of the variance)", pct(p.explained[0])),
        format!("PC2 ({})", pct(p.explained[1])),
    )
    .equal_aspect()
    .legend(emptiest_corner(&p.coords));
    let mut panel = TrajectoryPanel::new(axes);
    let layer = |t: Trajectory, c: RGBColor| {
        TrajectoryLayer::coloured(t)
            .colouring(Colouring::Fixed(c))
            .width(1)
            .opacity(0.6)
            .start(false)
            .markers(vec![last])
    };
    let mut groups: Vec<(Vec<usize>, RGBColor, Option<String>)> = Vec::new();
    match colour {
        Colour::Labels(labels) => {
            let k = labels.names.len();
            for (c, name) in labels.names.iter().enumerate() {
                let members: Vec<usize> = (0..tracks.len())
                    .filter(|&j| labels.class[tracks[j]] == c)
                    .collect();
                let (rgb, label) = if k <= LEGEND_CLASSES {
                    (TAB10[c], Some(format!("{name} ({})", members.len())))
                } else {
                    (palette::viridis(0.9 * c as f64 / (k - 1) as f64), None)
                };
                groups.push((members, rgb, label));
            }
        }
        Colour::Lss => {
            let lss = |j: usize| s.lss[tracks[j]];
            let mut defined: Vec<f64> = (0..tracks.len()).filter_map(lss).collect();
            defined.sort_by(f64::total_cmp);
            let undefined: Vec<usize> = (0..tracks.len()).filter(|&j| lss(j).is_none()).collect();
            if !defined.is_empty() {
                let q = |f: f64| defined[((defined.len() - 1) as f64 * f).round() as usize];
                let mut edges = vec![q(0.25), q(0.5), q(0.75)];
                edges.dedup();
                let fmt = |v: f64| format!("{v:.3}");
                for b in 0..=edges.len() {
                    let (lo, hi) = (b.checked_sub(1).map(|i| edges[i]), edges.get(b).copied());
                    let members: Vec<usize> = (0..tracks.len())
                        .filter(|&j| {
                            lss(j).is_some_and(|v| {
                                lo.is_none_or(|lo| v > lo) && hi.is_none_or(|hi| v <= hi)
                            })
                        })
                        .collect();
                    let label = match (lo, hi) {
                        (None, Some(h)) => format!("LSS ≤ {}", fmt(h)),
                        (Some(l), Some(h)) => format!("LSS {}–{}", fmt(l), fmt(h)),
                        (Some(l), None) => format!("LSS > {}", fmt(l)),
                        (None, None) => "LSS".into(),
                    };
                    let shade = 0.9 * b as f64 / edges.len().max(1) as f64;
                    groups.push((members, palette::viridis(shade), Some(label)));
                }
            }
            groups.push((undefined, palette::GREY, Some("LSS undefined".into())));
        }
    }
    for (members, rgb, label) in groups {
        if members.is_empty() {
            continue;
        }
        let mut l = layer(group(&members)?, rgb);
        if let Some(label) = label {
            l = l.label(label);
        }
        panel = panel.layer(l);
    }
    Ok(panel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deeptransport::tracks::{TrackOptions, TrackScorer};

    /// A deterministic cloud: `n` points in `d` dimensions, layer `k` a smooth map of layer 0.
    fn layer(n: usize, d: usize, k: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            let x = ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5 + 0.1 * (i as f64).sin();
            x * (1.0 + 0.3 * k as f64 * (j as f64 + 1.0)) + 0.05 * (k * k) as f64 * (j % 3) as f64
        })
    }

    /// The action's per-step terms sum to the core's action, on the core's own OT subsample
    /// (n > max_samples, so the subsample is a seeded draw the sketch must replicate), and the
    /// zero padding of a wider layer matches the scorer's. Tolerance 1e-12 relative: the same
    /// squares summed in a different order.
    #[test]
    fn action_terms_sum_to_the_cores_action_on_its_subsample() {
        let (n, max, seed) = (40, 11, 5);
        let layers = [
            layer(n, 3, 0),
            layer(n, 3, 1),
            layer(n, 5, 2),
            layer(n, 5, 3),
        ];
        let opts = TrackOptions {
            max_samples: max,
            seed,
        };
        let mut scorer = TrackScorer::new(layers[0].view(), opts).unwrap();
        let mut sketch = Sketch::new(layers[0].view(), layers.len(), max, seed);
        for l in &layers[1..] {
            scorer.push(l.view()).unwrap();
            sketch.push(l.view());
        }
        let s = scorer.finish().unwrap();
        let out = sketch.finish(&s).unwrap();
        assert!(out.action_on_ots_subsample);
        let sum: f64 = out.action_steps.iter().sum();
        assert!(
            (sum - s.action).abs() <= 1e-12 * s.action,
            "{sum} vs {}",
            s.action
        );
        assert_eq!(out.pca_tracks.len(), n);
        let p = out.pca.unwrap();
        assert_eq!(p.coords.dim(), (4, n, 2));
        assert!(p.explained[0] >= p.explained[1] && p.explained[0] + p.explained[1] <= 1.0 + 1e-9);
    }

    /// The subspace iteration finds the same two leading axes as the exact covariance (up to
    /// sign): projections agree to 1e-6 of their spread on a cloud whose spectrum has a gap.
    #[test]
    fn subspace_iteration_matches_the_exact_pca() {
        let blocks: Vec<Array2<f32>> = (0..3)
            .map(|k| {
                Array2::from_shape_fn((50, 30 - 5 * k), |(i, j)| {
                    let t = i as f32 / 7.0;
                    let big = if j == 0 { 5.0 * t.sin() } else { 0.0 };
                    let mid = if j == 1 { 2.0 * (1.3 * t).cos() } else { 0.0 };
                    big + mid + 0.05 * (((i * 31 + j * 17 + k) % 23) as f32 / 23.0 - 0.5)
                })
            })
            .collect();
        let exact = project_with(&blocks, usize::MAX).unwrap();
        let iter = project_with(&blocks, 0).unwrap();
        assert!(exact.exact && !iter.exact);
        let spread = exact.coords.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for c in 0..2 {
            let a = exact.coords.index_axis(Axis(2), c);
            let b = iter.coords.index_axis(Axis(2), c);
            let sign = if a.iter().zip(b.iter()).map(|(x, y)| x * y).sum::<f64>() < 0.0 {
                -1.0
            } else {
                1.0
            };
            for (x, y) in a.iter().zip(b.iter()) {
                assert!(
                    (x - sign * y).abs() <= 1e-6 * spread,
                    "PC{}: {x} vs {y}",
                    c + 1
                );
            }
            assert!((exact.explained[c] - iter.explained[c]).abs() < 1e-9);
        }
    }

    /// A layer too wide for the budget shrinks the kept subsample instead of exceeding it.
    #[test]
    fn the_track_subsample_stays_within_its_byte_budget() {
        let n = 20;
        let first = Array2::<f64>::zeros((n, 2));
        let mut sk = Sketch::new(first.view(), 3, 10, 0);
        assert_eq!(sk.kept.len(), n);
        sk.budget = 4000;
        // Two layers of this width still to store: 4 × 2 × 70 = 560 bytes per track, 7 tracks.
        let wide = Array2::<f64>::ones((n, 70));
        sk.push(wide.view());
        let bytes: usize = sk.blocks.iter().map(|b| b.len() * 4).sum();
        let left = sk.kept.len() * wide.ncols() * 4;
        assert_eq!(sk.kept.len(), 7);
        assert!(bytes + left <= sk.budget);
        assert!(sk.blocks.iter().all(|b| b.nrows() == sk.kept.len()));
    }
}
