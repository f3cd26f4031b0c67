//! `deeptransport experiment geodesic` (seed 002, Gai & Zhang; METHODS §7): networks trained with
//! weight decay move their inputs along (nearly) straight tracks, and residual networks more so
//! than plain ones.
//!
//! Plain MLPs and residual MLPs of the same width `w` and depth are trained by cross-entropy on
//! two classification tasks — the shipped 8×8 digits (a seeded train/test split) and three
//! concentric rings in the plane embedded in ℝ⁸ — with the L2 penalty `γΣ|W|²` (the paper's weight
//! decay, METHODS §7) for γ ∈ {0, 5e-4, 1e-3, 5e-3, 1e-2} and several seeds. Both architectures
//! are an embedding `x ↦ σ(Wx + b)` into ℝʷ, `B` stages of width `w` and an affine head; a plain
//! stage is `x ↦ σ(Wx + b)`, a residual one `x ↦ x + W₂σ(W₁x + b₁) + b₂`. The tracks are scored on
//! held-out inputs over the hidden stages (the embedding's output through the last stage's, all
//! of width `w`, so no padding): the mean line-shape score, the optimal-transport score, and the
//! action and geodesic ratios (`deeptransport::tracks`). A network whose residual stream is 2
//! wide, trained on the digits, draws its tracks in the plane (the authors' MNIST picture).

use super::data::digits;
use super::{Options, Outcome, embed, rng};
use crate::figures::paper::write_csv;
use crate::figures::plot::{
    Axes, Figure as Plot, LegendAt, LineChart, Panel, Series, TAB10, TrajectoryLayer,
    TrajectoryPanel, palette,
};
use crate::progress;
use crate::report::{Claim, Figure, Report, Section, Table};
use anyhow::{Context, Result};
use deeptransport::flow::Trajectory;
use deeptransport::tracks::{TrackOptions, TrackScorer, TrackScores};
use deeptransport_nn::{
    Activation, Kind, Linear, Network, Optimizer, Stage, Targets, TrainOptions, fit,
};
use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde_json::{Value, json};

/// The weight decays γ of the authors' sweep (METHODS §7).
const GAMMAS: [f64; 5] = [0.0, 5e-4, 1e-3, 5e-3, 1e-2];

/// The sweep's sizes, in the full and the quick form.
struct Config {
    /// Independent initialisations (and shuffles) per configuration.
    seeds: usize,
    /// Width `w` of the hidden stages.
    width: usize,
    /// Stages `B` of width `w` after the embedding (the tracks have `B` steps).
    blocks: usize,
    batch: usize,
    /// SGD learning rate (momentum 0.9).
    lr: f64,
    digits_epochs: usize,
    rings_epochs: usize,
    /// Held-out digits (the rest, 1797 minus these, train).
    digits_test: usize,
    rings_train: usize,
    rings_test: usize,
    /// Held-out inputs whose tracks are scored (the first ones of the test set); the OTS's exact
    /// assignment is `O(n³)`, so this stays moderate.
    scored: usize,
    /// The planar network of the track figure: residual blocks, their hidden width, epochs.
    planar_blocks: usize,
    planar_hidden: usize,
    planar_epochs: usize,
    /// Digits drawn in the track figure.
    planar_drawn: usize,
}

impl Config {
    fn new(quick: bool) -> Self {
        if quick {
            Config {
                seeds: 1,
                width: 32,
                blocks: 8,
                batch: 64,
                lr: 0.03,
                digits_epochs: 20,
                rings_epochs: 20,
                digits_test: 500,
                rings_train: 1500,
                rings_test: 600,
                scored: 300,
                planar_blocks: 8,
                planar_hidden: 16,
                planar_epochs: 100,
                planar_drawn: 300,
            }
        } else {
            Config {
                seeds: 3,
                width: 64,
                blocks: 8,
                batch: 64,
                lr: 0.01,
                digits_epochs: 60,
                rings_epochs: 60,
                digits_test: 597,
                rings_train: 4000,
                rings_test: 1000,
                scored: 1000,
                planar_blocks: 10,
                planar_hidden: 32,
                planar_epochs: 200,
                planar_drawn: 500,
            }
        }
    }
}

/// A classification task with a held-out set.
struct Task {
    name: &'static str,
    train_x: Array2<f64>,
    train_y: Vec<usize>,
    test_x: Array2<f64>,
    test_y: Vec<usize>,
    classes: usize,
    epochs: usize,
}

/// The digits, split at random (seeded) into `test` held-out images and the rest for training.
fn digits_task(c: &Config, seed: u64) -> Task {
    let (x, y) = digits();
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    order.shuffle(&mut rng(seed, 1));
    let (test, train) = order.split_at(c.digits_test);
    Task {
        name: "digits",
        train_x: x.select(Axis(0), train),
        train_y: train.iter().map(|&i| y[i]).collect(),
        test_x: x.select(Axis(0), test),
        test_y: test.iter().map(|&i| y[i]).collect(),
        classes: 10,
        epochs: c.digits_epochs,
    }
}

/// Dimension the rings are embedded in.
const RINGS_DIM: usize = 8;

/// Three concentric rings in the plane (radii 1, 2, 3 with radial noise of sd 0.2, one class
/// each, uniform angle), embedded in ℝ⁸ by a random orthonormal 8×2 map, plus isotropic noise of
/// sd 0.05 in all 8 coordinates. Not linearly separable: the classes nest.
fn rings_task(c: &Config, seed: u64) -> Task {
    let mut r = rng(seed, 2);
    // Gram–Schmidt on two Gaussian vectors: the plane's orthonormal basis in ℝ⁸.
    let mut basis = Array2::<f64>::zeros((2, RINGS_DIM));
    basis.mapv_inplace(|_| r.sample(StandardNormal));
    let e0 = basis.row(0).to_owned() / basis.row(0).dot(&basis.row(0)).sqrt();
    let mut e1 = basis.row(1).to_owned();
    e1 = &e1 - &(&e0 * e0.dot(&e1));
    e1 /= e1.dot(&e1).sqrt();
    let mut sample = |n: usize| {
        let mut x = Array2::<f64>::zeros((n, RINGS_DIM));
        let mut y = Vec::with_capacity(n);
        for mut row in x.rows_mut() {
            let k = r.random_range(0..3usize);
            let radius = 1.0 + k as f64 + 0.2 * r.sample::<f64, _>(StandardNormal);
            let angle = r.random_range(0.0..std::f64::consts::TAU);
            let (p, q) = (radius * angle.cos(), radius * angle.sin());
            for j in 0..RINGS_DIM {
                row[j] = p * e0[j] + q * e1[j] + 0.05 * r.sample::<f64, _>(StandardNormal);
            }
            y.push(k);
        }
        (x, y)
    };
    let (train_x, train_y) = sample(c.rings_train);
    let (test_x, test_y) = sample(c.rings_test);
    Task {
        name: "rings",
        train_x,
        train_y,
        test_x,
        test_y,
        classes: 3,
        epochs: c.rings_epochs,
    }
}

/// The two architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    Plain,
    Resnet,
}

impl Arch {
    fn label(self) -> &'static str {
        match self {
            Arch::Plain => "plain",
            Arch::Resnet => "resnet",
        }
    }

    /// Embedding `d → w` (ReLU), `blocks` stages of width `w`, affine head `w → classes`.
    fn build(self, d: usize, c: &Config, classes: usize, seed: u64) -> Result<Network<f32>> {
        Ok(match self {
            Arch::Plain => {
                // He et al.'s initialisation for a plain ReLU stack, weights uniform on
                // ±√(6/fan_in), biases 0 (gain 1 per layer): with PyTorch's default (±1/√fan_in,
                // gain 1/6 per layer) a stack of 10 layers has no signal left and SGD never moves.
                let mut r = ChaCha8Rng::seed_from_u64(seed);
                let mut stages = Vec::new();
                let mut fan_in = d;
                for _ in 0..=c.blocks {
                    let bound = (6.0 / fan_in as f64).sqrt();
                    let mut linear = Linear::init(fan_in, c.width, &mut r);
                    for w in &mut linear.weight {
                        *w = r.random_range(-bound..=bound) as f32;
                    }
                    linear.bias.fill(0.0);
                    stages.push(Stage::Dense {
                        linear,
                        activation: Activation::Relu,
                    });
                    fan_in = c.width;
                }
                stages.push(Stage::Dense {
                    linear: Linear::init(c.width, classes, &mut r),
                    activation: Activation::Identity,
                });
                Network::from_stages(Kind::Mlp, stages, None)?
            }
            Arch::Resnet => {
                Network::residual_mlp(d, c.width, c.blocks, classes, Activation::Relu, seed)?
            }
        })
    }
}

/// SGD with momentum 0.9 on the cross-entropy plus `γΣ|W|²`.
fn train(
    net: &mut Network<f32>,
    x: ArrayView2<f64>,
    y: &[usize],
    epochs: usize,
    c: &Config,
    gamma: f64,
    seed: u64,
) -> Result<()> {
    let opt = Optimizer::Sgd {
        lr: c.lr,
        momentum: 0.9,
    };
    let mut opts = TrainOptions::new(epochs, c.batch, opt);
    opts.l2 = gamma;
    opts.seed = seed;
    fit(net, x, Targets::Classes(y), &opts, &mut |_| {})?;
    Ok(())
}

/// The fraction of rows of `x` whose largest output is their label.
fn accuracy(net: &Network<f32>, x: ArrayView2<f64>, y: &[usize]) -> Result<f64> {
    let out = net.forward(x)?;
    let hits = out
        .rows()
        .into_iter()
        .zip(y)
        .filter(|(r, c)| {
            let best = r
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, _)| k);
            best == Some(**c)
        })
        .count();
    Ok(hits as f64 / y.len() as f64)
}

/// The scores of the tracks of the rows of `x` over layers `from..=to` of the network's layer
/// outputs (0 is the input).
fn score(
    net: &Network<f32>,
    x: ArrayView2<f64>,
    from: usize,
    to: usize,
    seed: u64,
) -> Result<TrackScores> {
    let layers = net.layer_outputs(x)?;
    let opts = TrackOptions {
        max_samples: x.nrows(),
        seed,
    };
    let mut s = TrackScorer::new(layers[from].view(), opts)?;
    for l in &layers[from + 1..=to] {
        s.push(l.view())?;
    }
    Ok(s.finish()?)
}

/// One trained network's measurements.
#[derive(Debug, Clone, Copy)]
struct Measured {
    accuracy: f64,
    lss_mean: f64,
    lss_median: f64,
    ots: f64,
    ots_cost_ratio: f64,
    action_ratio: f64,
    geodesic_ratio: f64,
}

impl Measured {
    const KEYS: [&'static str; 7] = [
        "accuracy",
        "lss_mean",
        "lss_median",
        "ots",
        "ots_cost_ratio",
        "action_ratio",
        "geodesic_ratio",
    ];

    fn values(&self) -> [f64; 7] {
        [
            self.accuracy,
            self.lss_mean,
            self.lss_median,
            self.ots,
            self.ots_cost_ratio,
            self.action_ratio,
            self.geodesic_ratio,
        ]
    }
}

/// One network: build, train, measure.
fn run_one(task: &Task, arch: Arch, gamma: f64, net_seed: u64, c: &Config) -> Result<Measured> {
    let mut net = arch.build(task.train_x.ncols(), c, task.classes, net_seed)?;
    train(
        &mut net,
        task.train_x.view(),
        &task.train_y,
        task.epochs,
        c,
        gamma,
        net_seed,
    )
    .with_context(|| format!("training {} {} γ = {gamma}", task.name, arch.label()))?;
    let acc = accuracy(&net, task.test_x.view(), &task.test_y)?;
    let n = c.scored.min(task.test_x.nrows());
    let s = score(
        &net,
        task.test_x.slice(ndarray::s![..n, ..]),
        1,
        c.blocks + 1,
        net_seed,
    )?;
    Ok(Measured {
        accuracy: acc,
        lss_mean: s.lss_mean.unwrap_or(f64::NAN),
        lss_median: s.lss_median.unwrap_or(f64::NAN),
        ots: s.ots,
        ots_cost_ratio: s.ots_cost_ratio,
        action_ratio: s.action_ratio,
        geodesic_ratio: s.geodesic_ratio,
    })
}

/// One row of the summary: a (data, arch, γ) averaged over the seeds.
struct Row {
    data: &'static str,
    arch: Arch,
    gamma: f64,
    /// Per key of [`Measured::KEYS`]: mean over the seeds and its standard error (0 for one seed).
    mean: [f64; 7],
    se: [f64; 7],
    seeds: usize,
}

impl Row {
    fn new(data: &'static str, arch: Arch, gamma: f64, runs: &[Measured]) -> Self {
        let k = runs.len() as f64;
        let mut mean = [0.0; 7];
        let mut se = [0.0; 7];
        for j in 0..7 {
            let v: Vec<f64> = runs.iter().map(|m| m.values()[j]).collect();
            let m = v.iter().sum::<f64>() / k;
            mean[j] = m;
            if runs.len() > 1 {
                let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (k - 1.0);
                se[j] = (var / k).sqrt();
            }
        }
        Row {
            data,
            arch,
            gamma,
            mean,
            se,
            seeds: runs.len(),
        }
    }

    fn get(&self, key: &str) -> (f64, f64) {
        let j = Measured::KEYS
            .iter()
            .position(|k| *k == key)
            .expect("a known key");
        (self.mean[j], self.se[j])
    }

    fn json(&self, c: &Config) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("data".into(), json!(self.data));
        m.insert("arch".into(), json!(self.arch.label()));
        m.insert("weight_decay".into(), json!(self.gamma));
        m.insert("seeds".into(), json!(self.seeds));
        m.insert("width".into(), json!(c.width));
        m.insert("blocks".into(), json!(c.blocks));
        for (j, key) in Measured::KEYS.iter().enumerate() {
            m.insert((*key).into(), json!(self.mean[j]));
            m.insert(format!("{key}_se"), json!(self.se[j]));
        }
        Value::Object(m)
    }
}

/// Runs the experiment into `o.out`.
/// Every file [`run`] writes besides the report and the summary (checked before any training).
pub fn outputs(_quick: bool) -> Vec<String> {
    ["planar_tracks", "scores_vs_weight_decay"]
        .iter()
        .flat_map(|s| super::figure_files(s))
        .collect()
}

pub fn run(o: &Options) -> Result<Outcome> {
    let c = Config::new(o.quick);
    let tasks = [digits_task(&c, o.seed), rings_task(&c, o.seed)];
    let mut jobs = Vec::new();
    for (ti, _) in tasks.iter().enumerate() {
        for arch in [Arch::Plain, Arch::Resnet] {
            for &gamma in &GAMMAS {
                for s in 0..c.seeds {
                    jobs.push((ti, arch, gamma, s));
                }
            }
        }
    }
    let bar = progress::bar(jobs.len() as u64 + 2, f64::INFINITY, o.quiet, "geodesic");
    // Every network trains on one thread from its own seed, so the results are the same on any
    // number of threads; the seed depends on (task, seed index) only, so the γ sweep and the two
    // architectures start from the same random streams.
    let measured: Vec<Measured> = jobs
        .par_iter()
        .map(|&(ti, arch, gamma, s)| {
            let net_seed = o.seed ^ (1000 * (ti as u64 + 1) + s as u64);
            let m = run_one(&tasks[ti], arch, gamma, net_seed, &c);
            bar.inc(1);
            m
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    for (k, chunk) in measured.chunks(c.seeds).enumerate() {
        let (ti, arch, gamma, _) = jobs[k * c.seeds];
        rows.push(Row::new(tasks[ti].name, arch, gamma, chunk));
    }

    let planar = planar_tracks(o, &c, &tasks[0])?;
    bar.inc(2);
    bar.finish_and_clear();

    let figures = [sweep_figure(o, &rows)?, planar_figure(o, &c, &planar)?];
    let report = build_report(o, &c, &tasks, &rows, &planar, figures);
    let mut extra = serde_json::Map::new();
    extra.insert(
        "planar".into(),
        Value::Array(
            planar
                .iter()
                .map(|p| {
                    json!({"weight_decay": p.gamma, "accuracy": p.accuracy,
                           "lss_mean": p.scores.lss_mean, "ots": p.scores.ots,
                           "action_ratio": p.scores.action_ratio})
                })
                .collect(),
        ),
    );
    Ok(Outcome {
        name: "geodesic",
        report,
        rows: rows.iter().map(|r| r.json(&c)).collect(),
        extra,
    })
}

/// A trained planar network's drawn tracks.
struct Planar {
    gamma: f64,
    accuracy: f64,
    /// Tracks of the drawn test digits over the embedding and the blocks (2-D).
    tracks: Vec<Array2<f64>>,
    labels: Vec<usize>,
    scores: TrackScores,
}

/// The slides' MNIST picture: a linear map of the 64 pixels to ℝ², `planar_blocks` residual blocks
/// `x ↦ x + W₂σ(W₁x + b₁) + b₂` of width 2 (hidden width `planar_hidden`), an affine head to the
/// 10 classes; trained without and with weight decay.
fn planar_tracks(o: &Options, c: &Config, task: &Task) -> Result<Vec<Planar>> {
    [0.0, 1e-3]
        .par_iter()
        .enumerate()
        .map(|(k, &gamma)| {
            let seed = o.seed ^ (5000 + k as u64);
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            let mut stages = vec![Stage::Dense {
                linear: Linear::init(task.train_x.ncols(), 2, &mut r),
                activation: Activation::Identity,
            }];
            for _ in 0..c.planar_blocks {
                stages.push(Stage::Residual {
                    inner: Linear::init(2, c.planar_hidden, &mut r),
                    outer: Linear::init(c.planar_hidden, 2, &mut r),
                    activation: Activation::Relu,
                });
            }
            stages.push(Stage::Dense {
                linear: Linear::init(2, task.classes, &mut r),
                activation: Activation::Identity,
            });
            let mut net = Network::<f32>::from_stages(Kind::ResidualMlp, stages, None)?;
            let mut opts = TrainOptions::new(c.planar_epochs, c.batch, Optimizer::adam(3e-3));
            opts.l2 = gamma;
            opts.seed = seed;
            fit(
                &mut net,
                task.train_x.view(),
                Targets::Classes(&task.train_y),
                &opts,
                &mut |_| {},
            )?;
            let acc = accuracy(&net, task.test_x.view(), &task.test_y)?;
            let n = c.planar_drawn.min(task.test_x.nrows());
            let x = task.test_x.slice(ndarray::s![..n, ..]);
            let layers = net.layer_outputs(x)?;
            let tracks = layers[1..=c.planar_blocks + 1].to_vec();
            let scores = score(&net, x, 1, c.planar_blocks + 1, seed)?;
            Ok(Planar {
                gamma,
                accuracy: acc,
                tracks,
                labels: task.test_y[..n].to_vec(),
                scores,
            })
        })
        .collect()
}

/// The planar networks' tracks, one panel per γ, one colour per digit class.
fn planar_figure(o: &Options, c: &Config, planar: &[Planar]) -> Result<Figure> {
    let mut panels: Vec<Panel> = Vec::new();
    let mut csv = Vec::new();
    for p in planar {
        let t = p.tracks.len();
        let mut panel = TrajectoryPanel::new(
            Axes::new(
                format!(
                    "γ = {}: LSS {:.2}, OTS {:.2}, accuracy {:.2}",
                    p.gamma,
                    p.scores.lss_mean.unwrap_or(f64::NAN),
                    p.scores.ots,
                    p.accuracy
                ),
                "z₁",
                "z₂",
            )
            .equal_aspect()
            .legend(LegendAt::Hidden),
        );
        for class in 0..10 {
            let idx: Vec<usize> = (0..p.labels.len())
                .filter(|&i| p.labels[i] == class)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let layers: Vec<Array2<f64>> =
                p.tracks.iter().map(|l| l.select(Axis(0), &idx)).collect();
            let traj = Trajectory::from_layers(layers, (0..t).map(|k| k as f64).collect())?;
            panel = panel.layer(
                TrajectoryLayer::coloured(traj)
                    .colouring(crate::figures::plot::Colouring::Fixed(TAB10[class]))
                    .width(1)
                    .opacity(0.7)
                    .markers(vec![t - 1])
                    .start(false)
                    .label(format!("{class}")),
            );
        }
        panels.push(panel.into());
        for (i, &label) in p.labels.iter().enumerate() {
            for (k, l) in p.tracks.iter().enumerate() {
                csv.push(vec![
                    p.gamma,
                    i as f64,
                    label as f64,
                    k as f64,
                    l[[i, 0]],
                    l[[i, 1]],
                ]);
            }
        }
    }
    write_csv(
        &o.out.join("planar_tracks.csv"),
        &["weight_decay", "input", "label", "stage", "z1", "z2"],
        &csv,
    )?;
    embed(
        o,
        "planar_tracks",
        &Plot::grid(
            format!(
                "Tracks of held-out digits through {} residual blocks of width 2",
                c.planar_blocks
            ),
            planar.len(),
            panels,
        ),
        (1400, 720),
        format!(
            "A linear map of the 64 pixels to ℝ², {} residual blocks x ↦ x + W₂σ(W₁x + b₁) + b₂ \
             of width 2 (hidden width {}), then an affine head to the 10 classes (Adam, {} \
             epochs), without and with weight decay. Each line is one held-out digit's track \
             from the embedding's output through the blocks (dot: the last block's output), \
             coloured by class (0 blue, 1 orange, 2 green, 3 red, 4 purple, 5 brown, 6 pink, \
             7 grey, 8 olive, 9 cyan). Numbers: planar_tracks.csv.",
            c.planar_blocks, c.planar_hidden, c.planar_epochs
        ),
    )
}

/// Mean LSS, OTS and action ratio against γ, one line per (data, arch), with ±1 SE bars.
fn sweep_figure(o: &Options, rows: &[Row]) -> Result<Figure> {
    let x = |g: f64| g * 1e3;
    let mut panels = Vec::new();
    let lss_top = rows
        .iter()
        .map(|r| r.get("lss_mean").0)
        .fold(1.0f64, f64::max);
    for (key, title, ylab) in [
        ("lss_mean", "Line-shape score (mean)", "mean LSS"),
        ("ots", "Optimal transport score", "OTS"),
        (
            "action_ratio",
            "Action ratio A / W₂² (log scale)",
            "log₁₀ action ratio",
        ),
    ] {
        let log = key == "action_ratio";
        let y = |v: f64| if log { v.log10() } else { v };
        // The legend sits in the LSS panel, above the plain nets' lines (the range leaves it room).
        let axes = Axes::new(title, "weight decay γ (×10⁻³)", ylab);
        let axes = match key {
            "lss_mean" => axes.y_range(1.0, 1.0 + 1.6 * (lss_top - 1.0)),
            "ots" => axes.y_range(-0.02, 1.04).legend(LegendAt::Hidden),
            _ => axes.legend(LegendAt::Hidden),
        };
        let mut chart = LineChart::new(axes);
        for (data, dashed) in [("digits", false), ("rings", true)] {
            for (arch, colour) in [
                (Arch::Resnet, palette::BLUE),
                (Arch::Plain, palette::ORANGE),
            ] {
                let sel: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.data == data && r.arch == arch)
                    .collect();
                for r in &sel {
                    let (m, se) = r.get(key);
                    if se > 0.0 {
                        chart = chart.series(Series::unlabelled(
                            vec![(x(r.gamma), y(m - se)), (x(r.gamma), y(m + se))],
                            colour,
                        ));
                    }
                }
                let pts = sel.iter().map(|r| (x(r.gamma), y(r.get(key).0))).collect();
                let mut s =
                    Series::line(format!("{}, {data}", arch.label()), pts, colour).all_markers(4);
                if dashed {
                    s = s.dashed();
                }
                chart = chart.series(s);
            }
        }
        panels.push(chart.into());
    }
    let csv: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut v = vec![
                if r.data == "digits" { 0.0 } else { 1.0 },
                if r.arch == Arch::Resnet { 1.0 } else { 0.0 },
                r.gamma,
            ];
            v.extend(r.mean);
            v.extend(r.se);
            v
        })
        .collect();
    let mut header = vec!["rings", "resnet", "weight_decay"];
    header.extend(Measured::KEYS);
    let se_keys: Vec<String> = Measured::KEYS.iter().map(|k| format!("{k}_se")).collect();
    header.extend(se_keys.iter().map(String::as_str));
    write_csv(&o.out.join("scores_vs_weight_decay.csv"), &header, &csv)?;
    embed(
        o,
        "scores_vs_weight_decay",
        &Plot::grid("", 3, panels),
        (1650, 560),
        "Mean line-shape score, optimal transport score and action ratio of the held-out tracks \
         over the hidden stages against the weight decay γ (blue: ResNet, orange: plain; solid: \
         digits, dashed: rings), means over the seeds with ±1 standard error bars. Numbers: \
         scores_vs_weight_decay.csv (rings: 0 digits, 1 rings; resnet: 0 plain, 1 resnet)."
            .into(),
    )
}

fn pm(r: &Row, key: &str, digits: usize) -> String {
    let (m, se) = r.get(key);
    if r.seeds > 1 {
        format!("{m:.digits$} ± {se:.digits$}")
    } else {
        format!("{m:.digits$}")
    }
}

/// For every data set: does `better(resnet, plain)` hold at every γ? With the evidence.
fn compare(rows: &[Row], key: &str, better: fn(f64, f64) -> bool) -> (bool, String) {
    let mut holds = true;
    let mut ev = Vec::new();
    for data in ["digits", "rings"] {
        let mut parts = Vec::new();
        for &g in &GAMMAS {
            let find = |a: Arch| {
                rows.iter()
                    .find(|r| r.data == data && r.arch == a && r.gamma == g)
                    .expect("every configuration ran")
            };
            let (res, pl) = (find(Arch::Resnet), find(Arch::Plain));
            holds &= better(res.get(key).0, pl.get(key).0);
            parts.push(format!(
                "γ = {g}: {} vs {}",
                pm(res, key, 3),
                pm(pl, key, 3)
            ));
        }
        ev.push(format!("{data} (resnet vs plain) — {}", parts.join("; ")));
    }
    (holds, ev.join(". "))
}

/// The claims, the tables and the text.
fn build_report(
    o: &Options,
    c: &Config,
    tasks: &[Task],
    rows: &[Row],
    planar: &[Planar],
    figures: [Figure; 2],
) -> Report {
    let [sweep_fig, planar_fig] = figures;
    let se_note = if c.seeds > 1 {
        format!(" (mean ± standard error over {} seeds)", c.seeds)
    } else {
        " (one seed)".into()
    };
    let (lss_holds, lss_ev) = compare(rows, "lss_mean", |r, p| r < p);
    let (ots_holds, ots_ev) = compare(rows, "ots", |r, p| r > p);
    let lss_claim = Claim {
        paper: "ResNets have a lower mean LSS than plain nets at every γ, on every data set \
                (slides: ResNet 1.27–1.81, plain ≥ 3.5 on CIFAR-100)"
            .into(),
        measured: format!("mean LSS{se_note}: {lss_ev}"),
        holds: lss_holds,
    };
    let ots_claim = Claim {
        paper: "ResNets have a higher OTS than plain nets at every γ, on every data set \
                (slides: ResNet 0.86–1.00, plain ≤ 0.22 on CIFAR-100)"
            .into(),
        measured: format!("OTS{se_note}: {ots_ev}"),
        holds: ots_holds,
    };

    // Weight decay against none: the action ratio at the largest γ below that at γ = 0.
    let decay = |arch: Arch| {
        let mut holds = true;
        let mut ev = Vec::new();
        for data in ["digits", "rings"] {
            let at = |g: f64| {
                rows.iter()
                    .find(|r| r.data == data && r.arch == arch && r.gamma == g)
                    .expect("every configuration ran")
            };
            let (none, most) = (at(GAMMAS[0]), at(GAMMAS[GAMMAS.len() - 1]));
            holds &= most.get("action_ratio").0 < none.get("action_ratio").0;
            ev.push(format!(
                "{data}: {} at γ = {} vs {} at γ = 0",
                pm(most, "action_ratio", 2),
                most.gamma,
                pm(none, "action_ratio", 2)
            ));
        }
        (holds, ev.join("; "))
    };
    let (act_holds, act_ev) = decay(Arch::Resnet);
    let (plain_act_holds, plain_act_ev) = decay(Arch::Plain);
    let action_claim = Claim {
        paper: "Weight decay drives a ResNet towards a W₂ geodesic: its action ratio A / W₂² \
                (1 on a geodesic) is lower at γ = 1e-2 than at γ = 0, on every data set"
            .into(),
        measured: format!("ResNet action ratio{se_note}: {act_ev}"),
        holds: act_holds,
    };

    let range = |data: &str, arch: Arch, key: &str| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.data == data && r.arch == arch)
            .map(|r| r.get(key).0)
            .collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.2}–{hi:.2}")
    };
    let paper_table = Table {
        caption: "The authors' numbers (read off their slides, METHODS §7) beside ours: the \
                  range over γ ∈ {0, 5e-4, 1e-3, 5e-3, 1e-2} of the seed means"
            .into(),
        header: ["", "paper (CIFAR-100)", "ours, digits", "ours, rings"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            vec![
                "ResNet OTS".into(),
                "0.86–1.00".into(),
                range("digits", Arch::Resnet, "ots"),
                range("rings", Arch::Resnet, "ots"),
            ],
            vec![
                "ResNet mean LSS".into(),
                "1.27–1.81".into(),
                range("digits", Arch::Resnet, "lss_mean"),
                range("rings", Arch::Resnet, "lss_mean"),
            ],
            vec![
                "plain OTS".into(),
                "≤ 0.22".into(),
                range("digits", Arch::Plain, "ots"),
                range("rings", Arch::Plain, "ots"),
            ],
            vec![
                "plain mean LSS".into(),
                "≥ 3.5".into(),
                range("digits", Arch::Plain, "lss_mean"),
                range("rings", Arch::Plain, "lss_mean"),
            ],
            vec![
                "ResNet with L2 on MNIST / digits: LSS, OTS".into(),
                "1.12, 0.96".into(),
                {
                    let r = rows
                        .iter()
                        .find(|r| r.data == "digits" && r.arch == Arch::Resnet && r.gamma == 1e-3)
                        .expect("row");
                    format!(
                        "{:.2}, {:.2} (γ = 1e-3)",
                        r.get("lss_mean").0,
                        r.get("ots").0
                    )
                }
                .to_string(),
                "—".into(),
            ],
        ],
    };
    let extreme = |arch: Arch, key: &str, max: bool| {
        rows.iter()
            .filter(|r| r.arch == arch)
            .map(|r| r.get(key).0)
            .fold(
                if max {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                },
                |a, b| {
                    if max { a.max(b) } else { a.min(b) }
                },
            )
    };
    let verdict = |ok: bool| {
        if ok {
            "reproduces"
        } else {
            "does not reproduce"
        }
    };
    let mut findings = vec![format!(
        "Against the authors' numbers: plain nets' mean LSS ≥ 3.5 {} here (smallest {:.2}); \
         plain nets' OTS ≤ 0.22 {} (largest {:.3}); ResNets' mean LSS within 1.27–1.81 {} \
         (ours {:.2}–{:.2}); ResNets' OTS within 0.86–1.00 {} (ours {:.2}–{:.2}).",
        verdict(extreme(Arch::Plain, "lss_mean", false) >= 3.5),
        extreme(Arch::Plain, "lss_mean", false),
        verdict(extreme(Arch::Plain, "ots", true) <= 0.22),
        extreme(Arch::Plain, "ots", true),
        verdict(
            extreme(Arch::Resnet, "lss_mean", false) >= 1.27
                && extreme(Arch::Resnet, "lss_mean", true) <= 1.81
        ),
        extreme(Arch::Resnet, "lss_mean", false),
        extreme(Arch::Resnet, "lss_mean", true),
        verdict(extreme(Arch::Resnet, "ots", false) >= 0.86),
        extreme(Arch::Resnet, "ots", false),
        extreme(Arch::Resnet, "ots", true),
    )];
    let low_ots: Vec<&Row> = rows
        .iter()
        .filter(|r| r.arch == Arch::Resnet && r.get("ots").0 < 0.86)
        .collect();
    if !low_ots.is_empty() {
        let worst_cost = low_ots
            .iter()
            .map(|r| r.get("ots_cost_ratio").0)
            .fold(f64::INFINITY, f64::min);
        let data: std::collections::BTreeSet<&str> = low_ots.iter().map(|r| r.data).collect();
        findings.push(format!(
            "Where a ResNet's OTS is below the authors' 0.86 ({}), its OT cost ratio is still at \
             least {worst_cost:.4}: the optimal assignment differs from the identity, but costs \
             almost nothing less. On data concentrated near a curve (the rings) held-out points \
             are dense along it, so a small rotational (non-gradient) part of the network's map \
             swaps neighbours in the optimal assignment at almost no cost; OTS counts exact \
             fixed points and is a strict test there.",
            data.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    findings.push(format!(
        "Weight decay and the action ratio of plain nets {}: {plain_act_ev}. Plain nets' action \
         ratios stay between {:.1} and {:.1} (1 on a geodesic), ResNets' between {:.2} and {:.2}.",
        if plain_act_holds {
            "falls here too"
        } else {
            "does not fall consistently"
        },
        extreme(Arch::Plain, "action_ratio", false),
        extreme(Arch::Plain, "action_ratio", true),
        extreme(Arch::Resnet, "action_ratio", false),
        extreme(Arch::Resnet, "action_ratio", true),
    ));

    let table = Table {
        caption: format!("Every configuration{se_note}, held-out inputs"),
        header: [
            "data",
            "arch",
            "γ",
            "accuracy",
            "mean LSS",
            "median LSS",
            "OTS",
            "OT cost ratio",
            "action ratio",
            "geodesic ratio",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.data.into(),
                    r.arch.label().into(),
                    format!("{}", r.gamma),
                    pm(r, "accuracy", 3),
                    pm(r, "lss_mean", 3),
                    pm(r, "lss_median", 3),
                    pm(r, "ots", 3),
                    pm(r, "ots_cost_ratio", 3),
                    pm(r, "action_ratio", 2),
                    pm(r, "geodesic_ratio", 3),
                ]
            })
            .collect(),
    };
    let planar_text = planar
        .iter()
        .map(|p| {
            format!(
                "γ = {}: accuracy {:.3}, mean LSS {:.3}, OTS {:.3}, action ratio {:.2}",
                p.gamma,
                p.accuracy,
                p.scores.lss_mean.unwrap_or(f64::NAN),
                p.scores.ots,
                p.scores.action_ratio
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let sizes = |t: &Task| {
        format!(
            "{} ({} train, {} held out, {} classes, {} epochs)",
            t.name,
            t.train_x.nrows(),
            t.test_x.nrows(),
            t.classes,
            t.epochs
        )
    };
    Report {
        title: "deeptransport experiment geodesic: ResNets and plain nets, tracks and weight decay"
            .into(),
        intro: vec![
            format!(
                "Seed {}{}. Gai & Zhang (seed 002) argue that a network trained with weight decay \
                 learns a W₂ geodesic between its input and output distributions, and that \
                 ResNets approximate it better than plain networks: their tracks are straighter \
                 (lower line-shape score, LSS) and their end-to-end map is closer to the optimal \
                 transport map (higher optimal transport score, OTS). This run trains both \
                 architectures with the L2 penalty γΣ|W|² (the paper's weight decay, METHODS §7) \
                 and scores their tracks.",
                o.seed,
                if o.quick { ", quick form" } else { "" }
            ),
            format!(
                "Data: {}; {}. The digits are the shipped 8×8 images (pixels in [0, 1]) split at \
                 random; the rings are three concentric circles of radii 1, 2, 3 (radial noise \
                 sd 0.2) in a random plane of ℝ⁸ plus noise of sd 0.05. Networks: an embedding \
                 x ↦ σ(Wx + b) into ℝ^{w}, {b} stages of width {w} (plain: σ(Wx + b); ResNet: \
                 x + W₂σ(W₁x + b₁) + b₂), an affine head; ReLU; SGD with momentum 0.9, learning \
                 rate {lr}, batch {batch}, cross-entropy plus γΣ|W|² (weights, not biases); {s} \
                 seed(s) per configuration. The tracks are scored on the first {n} held-out inputs \
                 over the {m} hidden layers (the embedding's output and the {b} stages' outputs, \
                 all of width {w}), so every track has {b} steps.",
                sizes(&tasks[0]),
                sizes(&tasks[1]),
                w = c.width,
                b = c.blocks,
                lr = c.lr,
                batch = c.batch,
                s = c.seeds,
                n = c.scored,
                m = c.blocks + 1,
            ),
        ],
        sections: vec![
            Section {
                links: vec![],
                title: "ResNets against plain nets (seed 002)".into(),
                text: vec![
                    "LSS_i = m / |Σ_ℓ u_ℓ| over the unit steps u_ℓ of input i's track (1 for a \
                     straight track, about √m for random directions); OTS = the fraction of \
                     inputs the exact optimal assignment between the first and the last scored \
                     layer maps to themselves; OT cost ratio = W₂² / mean squared displacement; \
                     action ratio = m Σ_ℓ mean|Δ_ℓ x|² / W₂² (1 exactly on a W₂ geodesic); \
                     geodesic ratio = Σ_ℓ W₂(μ_ℓ₋₁, μ_ℓ) / W₂(μ_first, μ_last) (METHODS §7)."
                        .into(),
                ]
                .into_iter()
                .chain(findings)
                .collect(),
                claims: vec![lss_claim, ots_claim, action_claim],
                tables: vec![paper_table, table],
                figures: vec![sweep_fig],
            },
            Section {
                links: vec![],
                title: "Tracks in the plane (the authors' MNIST picture)".into(),
                text: vec![format!(
                    "The planar networks of the track figure (scored over the embedding and the \
                     {} blocks, {} held-out digits): {planar_text}.",
                    c.planar_blocks, c.planar_drawn
                )],
                claims: vec![],
                tables: vec![],
                figures: vec![planar_fig],
            },
        ],
    }
}
