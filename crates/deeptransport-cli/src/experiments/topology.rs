//! `deeptransport experiment topology` (seed 004, Kvalheim & Sontag; METHODS §9): what an
//! autoencoder with a k-dimensional bottleneck must lose on data that lie on a closed
//! k-manifold, measured.
//!
//! Four fixtures with exact reach τ (library `topology::manifolds`): the unit circle and two
//! interlaced unit circles (k = 1), the unit sphere and a ring torus (k = 2). On each, ReLU
//! autoencoders of increasing capacity are trained (Adam, MSE) on a uniform sample, then
//! evaluated on (a) a grid of known covering radius h, for the supremum of the error, and (b) a
//! fresh uniform sample, for the measure of the exceptional set `P(e ≥ ε)`, where the bad set
//! lies, and the homology of the data, the codes and the reconstructions.
//!
//! The theorem says `sup_K e ≥ τ_K` (the largest component reach). Grid points lie on K, so the
//! grid maximum is a lower bound on the supremum: reaching τ_K on the grid shows the theorem's
//! conclusion for that network. The error field is `(L + 1)`-Lipschitz (`L` the network's
//! Lipschitz bound), so a grid maximum below `τ_K − (L + 1) h` would contradict the theorem —
//! the report counts such runs (an evaluation error), separately from a grid too coarse to tell.

use super::{Options, Outcome, embed, rng};
use crate::figures::paper::write_csv;
use crate::figures::plot::{Axes, Figure as Plot, LegendAt, LineChart, Series, TAB10, palette};
use crate::progress;
use crate::report::{Claim, Figure, Report, Section, Table};
use anyhow::Result;
use deeptransport::kernel::farthest::farthest_points;
use deeptransport::topology::{self, BadSet, ErrorSummary, Exceedance, Manifold, ManifoldSample};
use deeptransport_nn::{Activation, Network, Optimizer, Targets, TrainOptions, fit};
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::f64::consts::PI;

/// The ε of the exceptional fraction (every fixture's bound τ_K is 1).
const EPS: f64 = 0.1;

/// Adam's learning rate by share of the epochs.
const LR_SCHEDULE: [(f64, f64); 3] = [(0.6, 2e-3), (0.25, 2e-4), (0.15, 2e-5)];

/// Bad inputs closer than this many typical spacings belong to one piece of the bad set.
const LINK_SPACINGS: f64 = 3.0;

/// Persistence that makes a class count: this fraction of the cloud's diameter (the CLI's rule).
const BETTI_FRACTION: f64 = 0.1;

/// Homology uses the shortest max–min prefix of the test sample whose covering radius δ is at most
/// this fraction of the manifold's diameter: gaps `2δ` then stay well below the 10 % rule, so
/// they cannot count as classes (a random sample of the same size can: a sphere of 1000 uniform
/// points has an H₁ bar of persistence 0.21 > 10 % of 2).
const NET_FRACTION: f64 = 0.04;

/// One autoencoder size: hidden widths of the encoder (mirrored in the decoder) and epochs.
struct Capacity {
    hidden: &'static [usize],
    epochs: usize,
}

/// The experiment's sizes, in the full and the quick form.
struct Config {
    /// Training sample per fixture.
    n_train: usize,
    /// Fresh uniform test sample per fixture (the exceptional fraction).
    n_test: usize,
    /// Grid points per circle (k = 1), and the `m` of the surfaces' grids (k = 2).
    grid: [usize; 2],
    /// At most this many rows in the persistence computations (max–min landmarks of the test
    /// sample, see [`NET_FRACTION`]).
    homology_n: usize,
    /// Increasing capacity.
    capacities: Vec<Capacity>,
}

impl Config {
    fn new(quick: bool) -> Self {
        if quick {
            Config {
                n_train: 1000,
                n_test: 4000,
                grid: [20_000, 80],
                homology_n: 1500,
                capacities: vec![
                    Capacity {
                        hidden: &[8],
                        epochs: 150,
                    },
                    Capacity {
                        hidden: &[32, 32],
                        epochs: 250,
                    },
                    Capacity {
                        hidden: &[64, 64],
                        epochs: 400,
                    },
                ],
            }
        } else {
            Config {
                n_train: 4000,
                n_test: 20_000,
                grid: [100_000, 200],
                homology_n: 2000,
                capacities: vec![
                    Capacity {
                        hidden: &[8],
                        epochs: 300,
                    },
                    Capacity {
                        hidden: &[32, 32],
                        epochs: 600,
                    },
                    Capacity {
                        hidden: &[128, 128],
                        epochs: 1000,
                    },
                ],
            }
        }
    }
}

/// The four fixtures, each with every reach and bound 1.
fn fixtures() -> [Manifold; 4] {
    [
        Manifold::Circle { radius: 1.0 },
        Manifold::LinkedCircles,
        Manifold::Sphere { radius: 1.0 },
        Manifold::Torus {
            major: 2.5,
            minor: 1.0,
        },
    ]
}

/// One fixture's samples, shared by its autoencoders.
struct Fixture {
    manifold: Manifold,
    train: Array2<f64>,
    test: ManifoldSample,
    grid: ManifoldSample,
    /// Rows of `test` used for homology.
    homology_rows: Vec<usize>,
    betti_data: [usize; 2],
}

fn fixture(manifold: Manifold, c: &Config, seed: u64, stream: u64) -> Result<Fixture> {
    let train = manifold
        .sample(c.n_train, &mut rng(seed, 2 * stream))
        .points;
    let test = manifold.sample(c.n_test, &mut rng(seed, 2 * stream + 1));
    let grid = manifold.grid(c.grid[manifold.dim() - 1]);
    let (mut homology_rows, radii) = farthest_points(test.points.view(), c.homology_n);
    let enough = radii
        .iter()
        .position(|&r| r <= NET_FRACTION * manifold.diameter())
        .map_or(radii.len(), |k| k + 1);
    homology_rows.truncate(enough);
    let betti_data = betti(&test.points, &homology_rows)?;
    Ok(Fixture {
        manifold,
        train,
        test,
        grid,
        homology_rows,
        betti_data,
    })
}

fn betti(cloud: &Array2<f64>, rows: &[usize]) -> Result<[usize; 2]> {
    Ok(topology::betti(
        cloud.select(Axis(0), rows).view(),
        BETTI_FRACTION,
    )?)
}

/// One trained autoencoder on one fixture, measured.
struct Run {
    fixture: usize,
    capacity: usize,
    parameters: usize,
    train_loss: f64,
    /// Lipschitz bound `L` of `G∘F`.
    lipschitz: f64,
    /// `max_grid e` and the grid angle where it is attained.
    grid_sup: f64,
    grid_sup_angle: [f64; 2],
    /// `(L + 1) h`: how far the supremum on the manifold can exceed the grid's.
    slack: f64,
    test_errors: Vec<f64>,
    summary: ErrorSummary,
    exceptional: f64,
    bad: BadSet,
    betti_latent: [usize; 2],
    betti_recon: [usize; 2],
    /// Codes of the grid (for the code-against-angle figure; 1-D fixtures).
    grid_codes: Array2<f64>,
}

fn run_one(f: &Fixture, fi: usize, ci: usize, cap: &Capacity, seed: u64) -> Result<Run> {
    let m = f.manifold;
    let mut net =
        Network::<f32>::autoencoder(m.ambient_dim(), cap.hidden, m.dim(), Activation::Relu, seed)?;
    // A step schedule (Adam restarted at a tenth of the rate, twice): at a constant rate the
    // wide networks keep oscillating around the steep part of the code, where the best
    // autoencoder must jump, and end worse than narrower ones.
    let mut train_loss = f64::NAN;
    for (phase, (share, lr)) in LR_SCHEDULE.iter().enumerate() {
        let epochs = ((cap.epochs as f64 * share).round() as usize).max(1);
        let mut opts = TrainOptions::new(epochs, 64, Optimizer::adam(*lr));
        opts.seed = seed ^ ((phase as u64) << 32);
        let stats = fit(
            &mut net,
            f.train.view(),
            Targets::Values(f.train.view()),
            &opts,
            &mut |_| {},
        )?;
        train_loss = stats.last().map_or(f64::NAN, |s| s.loss);
    }
    let recon_of = |x: &Array2<f64>| -> Result<(Array2<f64>, Array2<f64>, Vec<f64>)> {
        let z = net.encode(x.view())?;
        let xh = net.decode(z.view())?;
        let e = topology::errors(x.view(), xh.view(), "points", "reconstructions")?;
        Ok((z, xh, e))
    };
    let (grid_codes, _, grid_errors) = recon_of(&f.grid.points)?;
    let (k_sup, &grid_sup) = grid_errors
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("a non-empty grid");
    let (codes, recon, test_errors) = recon_of(&f.test.points)?;
    let lipschitz = net.lipschitz_bound();
    let bad = topology::bad_set(
        f.test.points.view(),
        &test_errors,
        EPS,
        LINK_SPACINGS * m.spacing(f.test.points.nrows()),
        2000,
    )?;
    Ok(Run {
        fixture: fi,
        capacity: ci,
        parameters: net.parameter_count(),
        train_loss,
        lipschitz,
        grid_sup,
        grid_sup_angle: f.grid.angles[k_sup],
        slack: (lipschitz + 1.0) * f.grid.covering_radius,
        summary: topology::summarize(&test_errors),
        exceptional: topology::exceptional_fraction(&test_errors, EPS),
        test_errors,
        bad,
        betti_latent: betti(&codes, &f.homology_rows)?,
        betti_recon: betti(&recon, &f.homology_rows)?,
        grid_codes,
    })
}

/// Runs the experiment.
/// Every file [`run`] writes besides the report and the summary (checked before any training).
pub fn outputs(_quick: bool) -> Vec<String> {
    ["errors_circles", "codes", "exceedance"]
        .iter()
        .flat_map(|s| super::figure_files(s))
        .collect()
}

pub fn run(o: &Options) -> Result<Outcome> {
    let c = Config::new(o.quick);
    let fx: Vec<Fixture> = fixtures()
        .into_par_iter()
        .enumerate()
        .map(|(k, m)| fixture(m, &c, o.seed, k as u64))
        .collect::<Result<_>>()?;
    let jobs: Vec<(usize, usize)> = (0..fx.len())
        .flat_map(|f| (0..c.capacities.len()).map(move |k| (f, k)))
        .collect();
    let bar = progress::bar(jobs.len() as u64, f64::INFINITY, o.quiet, "topology");
    // Every autoencoder trains on one thread from its own seed: the same numbers on any thread
    // count. The largest first, so the pool is not left waiting for it at the end.
    let mut runs: Vec<Run> = jobs
        .par_iter()
        .rev()
        .map(|&(f, k)| {
            let seed = o.seed ^ (1000 + 10 * f as u64 + k as u64);
            let r = run_one(&fx[f], f, k, &c.capacities[k], seed);
            bar.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    runs.sort_by_key(|r| (r.fixture, r.capacity));

    let rows: Vec<Value> = runs.iter().map(|r| row(r, &fx[r.fixture], &c)).collect();
    let figures = vec![
        circles_figure(o, &fx, &runs)?,
        codes_figure(o, &fx, &runs, &c)?,
        exceedance_figure(o, &fx, &runs, &c)?,
    ];
    let report = build_report(o, &c, &fx, &runs, figures);
    Ok(Outcome {
        name: "topology",
        report,
        rows,
        extra: serde_json::Map::new(),
    })
}

fn row(r: &Run, f: &Fixture, c: &Config) -> Value {
    let m = f.manifold;
    let cap = &c.capacities[r.capacity];
    json!({
        "manifold": m.name(),
        "latent_dim": m.dim(),
        "reach": m.reach(),
        "sup_error": r.grid_sup,
        "eps": EPS,
        "exceptional_fraction": r.exceptional,
        "sup_error_bound": m.sup_error_bound(),
        "hidden": cap.hidden,
        "epochs": cap.epochs,
        "parameters": r.parameters,
        "train_loss": r.train_loss,
        "lipschitz_bound": r.lipschitz,
        "grid_points": f.grid.points.nrows(),
        "grid_covering_radius": f.grid.covering_radius,
        "sup_slack": r.slack,
        "sup_error_at": r.grid_sup_angle,
        "test_points": f.test.points.nrows(),
        "error_mean": r.summary.mean,
        "error_rms": r.summary.rms,
        "error_max_test": r.summary.max,
        "bad_components": r.bad.components,
        "bad_error_share": r.bad.error_share,
        "homology_points": f.homology_rows.len(),
        "betti_data": f.betti_data,
        "betti_latent": r.betti_latent,
        "betti_recon": r.betti_recon,
    })
}

fn capacity_label(cap: &Capacity) -> String {
    format!(
        "hidden {} × {} epochs",
        cap.hidden
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        cap.epochs
    )
}

fn build_report(
    o: &Options,
    c: &Config,
    fx: &[Fixture],
    runs: &[Run],
    figures: Vec<Figure>,
) -> Report {
    // (i) The theorem: grid points lie on K, so the grid maximum is a lower bound on the
    // supremum and reaching τ on the grid shows the theorem's conclusion. Falling short of
    // τ − (L + 1)h would contradict the theorem (an evaluation error); between the two, the grid
    // would be too coarse to tell.
    let bound = |r: &Run| fx[r.fixture].manifold.sup_error_bound();
    let attained = runs.iter().filter(|r| r.grid_sup >= bound(r)).count();
    let contradictions = runs
        .iter()
        .filter(|r| r.grid_sup + r.slack < bound(r))
        .count();
    let ratios: Vec<f64> = runs.iter().map(|r| r.grid_sup / bound(r)).collect();
    let claim1 = Claim {
        paper: "No continuous autoencoder with a k-dimensional bottleneck reconstructs a closed \
                k-manifold K everywhere: sup_K |G(F(x)) − x| ≥ τ (the largest reach of a \
                component; a theorem, METHODS §9). Measured: the maximum error over a grid on K \
                (a lower bound on the supremum) reaches τ for every trained autoencoder"
            .into(),
        measured: format!(
            "grid maximum / τ between {:.3} and {:.3}; τ reached in {attained} of {} \
             autoencoders; runs whose grid maximum + (L + 1)h falls short of τ (a contradiction \
             of the theorem, L the Lipschitz bound, h the covering radius): {contradictions}",
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
            runs.len(),
        ),
        holds: attained == runs.len(),
    };

    // (ii) The exceptional fraction falls with capacity.
    let mut falls = true;
    let mut ev = Vec::new();
    for (fi, f) in fx.iter().enumerate() {
        let seq: Vec<f64> = runs
            .iter()
            .filter(|r| r.fixture == fi)
            .map(|r| r.exceptional)
            .collect();
        let (first, last) = (seq[0], seq[seq.len() - 1]);
        falls &= last < first;
        let monotone = seq.windows(2).all(|w| w[1] <= w[0]);
        ev.push(format!(
            "{}: {}{}",
            f.manifold.name(),
            seq.iter()
                .map(|v| format!("{v:.4}"))
                .collect::<Vec<_>>()
                .join(" → "),
            if monotone { "" } else { " (not monotone)" }
        ));
    }
    let claim2 = Claim {
        paper: format!(
            "Kvalheim & Sontag: the error can be made small outside an exceptional set of small \
             measure. Measured: P(e ≥ ε = {EPS}) on a fresh uniform sample is smaller for the \
             largest autoencoder than for the smallest, on every fixture"
        ),
        measured: ev.join("; "),
        holds: falls,
    };

    // (iii) Persistence recovers the data's topology, and the codes have lost H₁ where the
    // bottleneck forces a cut.
    let data_ok = fx.iter().all(|f| f.betti_data == f.manifold.betti());
    let cut = runs
        .iter()
        .filter(|r| fx[r.fixture].manifold.betti()[1] > 0)
        .all(|r| r.betti_latent[1] != fx[r.fixture].betti_data[1]);
    let claim3 = Claim {
        paper: "The persistent homology of the data recovers each manifold's Betti numbers \
                [b₀, b₁] (closed forms: circle [1, 1], linked circles [2, 2], sphere [1, 0], \
                torus [1, 2]), and where the bottleneck forces a cut (every fixture with b₁ > 0) \
                the codes' b₁ differs from the data's, for every autoencoder"
            .into(),
        measured: fx
            .iter()
            .enumerate()
            .map(|(fi, f)| {
                format!(
                    "{}: data {:?}, codes {}",
                    f.manifold.name(),
                    f.betti_data,
                    runs.iter()
                        .filter(|r| r.fixture == fi)
                        .map(|r| format!("{:?}", r.betti_latent))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        holds: data_ok && cut,
    };

    let header = [
        "manifold",
        "k",
        "τ (reach)",
        "bound",
        "capacity",
        "train MSE",
        "sup e (grid)",
        "(L+1)h",
        "P(e ≥ ε)",
        "bad pieces",
        "bad share of Σe²",
        "b (data)",
        "b (codes)",
        "b (recon)",
    ]
    .map(String::from)
    .to_vec();
    let table = Table {
        caption: format!(
            "Every (fixture, autoencoder); ε = {EPS}; errors on {} uniform test points, the \
             supremum on the grid; b = [b₀, b₁] at persistence > {:.0} % of the diameter on \
             max–min landmarks of the test points with covering radius ≤ {:.0} % of the \
             manifold's diameter ({})",
            c.n_test,
            100.0 * BETTI_FRACTION,
            100.0 * NET_FRACTION,
            fx.iter()
                .map(|f| format!("{}: {}", f.manifold.name(), f.homology_rows.len()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        header,
        rows: runs
            .iter()
            .map(|r| {
                let m = fx[r.fixture].manifold;
                vec![
                    m.name().into(),
                    m.dim().to_string(),
                    format!("{}", m.reach()),
                    format!("{}", m.sup_error_bound()),
                    capacity_label(&c.capacities[r.capacity]),
                    format!("{:.2e}", r.train_loss),
                    format!("{:.4}", r.grid_sup),
                    format!("{:.2e}", r.slack),
                    format!("{:.4}", r.exceptional),
                    r.bad.components.to_string(),
                    format!("{:.3}", r.bad.error_share),
                    format!("{:?}", fx[r.fixture].betti_data),
                    format!("{:?}", r.betti_latent),
                    format!("{:?}", r.betti_recon),
                ]
            })
            .collect(),
    };
    Report {
        title: "deeptransport experiment topology: what an autoencoder must lose".into(),
        intro: vec![
            format!(
                "Seed {}{}. Kvalheim & Sontag (seed 004): data on a k-manifold that does not \
                 embed in ℝᵏ (a circle with a 1-dimensional bottleneck, a sphere or a torus with \
                 2) cannot be reconstructed everywhere by a continuous autoencoder, but the error \
                 can be small outside an exceptional set of small measure.",
                o.seed,
                if o.quick { ", quick form" } else { "" }
            ),
            format!(
                "Fixtures: the unit circle in ℝ², two interlaced unit circles in ℝ³ (each \
                 through the other's centre; reach ½, bound 1), the unit sphere, the ring torus \
                 R = 2.5, ρ = 1. Autoencoders: ReLU MLPs n → hidden → k → hidden → n, Adam \
                 (lr 2e-3, then 2e-4 and 2e-5 for the last 25 % and 15 % of the epochs, batch 64) on {} uniform points, three capacities. τ is the exact \
                 reach, the bound the largest reach of a component (METHODS §9 derives \
                 sup e ≥ bound).",
                c.n_train
            ),
        ],
        sections: vec![Section {
            links: vec![],
            title: "Reach bound, exceptional sets and homology".into(),
            text: vec![
                "Each run: the supremum of the error over a grid of known covering radius h \
                 (L from the spectral norms of the weights), the exceptional fraction and the bad \
                 set on a fresh uniform sample (pieces: bad points joined within three typical \
                 spacings), and the Betti numbers of the data, the codes and the \
                 reconstructions."
                    .into(),
            ],
            claims: vec![claim1, claim2, claim3],
            tables: vec![table],
            figures,
        }],
    }
}

/// The points of a fixture in the figure's plane: the circle as is; the linked circles in an
/// oblique view `(x + y/2, z + y/2)` that shows both.
fn plane(m: Manifold, p: ndarray::ArrayView1<f64>) -> (f64, f64) {
    match m {
        Manifold::LinkedCircles => (p[0] + 0.5 * p[1], p[2] + 0.5 * p[1]),
        _ => (p[0], p[1]),
    }
}

/// Error bands of the scatter (viridis, low to high, by the error relative to the bound).
const BANDS: usize = 8;

/// The circle fixtures' test points coloured by the largest autoencoder's error, the bad set
/// (`e ≥ ε`) ringed in red.
fn circles_figure(o: &Options, fx: &[Fixture], runs: &[Run]) -> Result<Figure> {
    let mut panels = Vec::new();
    let mut csv = Vec::new();
    for (fi, f) in fx.iter().enumerate().filter(|(_, f)| f.manifold.dim() == 1) {
        let r = runs
            .iter()
            .rfind(|r| r.fixture == fi)
            .expect("a run per fixture");
        let pts: Vec<(f64, f64)> = f
            .test
            .points
            .outer_iter()
            .map(|p| plane(f.manifold, p))
            .collect();
        let top = r.summary.max.max(f64::MIN_POSITIVE);
        let mut chart = LineChart::new(
            Axes::new(
                format!(
                    "{}: error of the largest autoencoder (ε = {EPS} ringed)",
                    f.manifold.name()
                ),
                if f.manifold == Manifold::LinkedCircles {
                    "x + y/2"
                } else {
                    "x"
                },
                if f.manifold == Manifold::LinkedCircles {
                    "z + y/2"
                } else {
                    "y"
                },
            )
            .equal_aspect()
            .legend(LegendAt::LowerRight),
        );
        let bad: Vec<(f64, f64)> = r.bad.indices.iter().map(|&i| pts[i]).collect();
        chart = chart.series(
            Series::line(
                format!("e ≥ ε: {:.1} % of the points", 100.0 * r.exceptional),
                bad,
                palette::RED,
            )
            .width(0)
            .all_markers(5),
        );
        for b in 0..BANDS {
            let lo = top * b as f64 / BANDS as f64;
            let hi = top * (b + 1) as f64 / BANDS as f64;
            let band: Vec<(f64, f64)> = (0..pts.len())
                .filter(|&i| {
                    let e = r.test_errors[i];
                    e >= lo && (e < hi || b == BANDS - 1)
                })
                .map(|i| pts[i])
                .collect();
            let s = Series::unlabelled(band, palette::viridis((b as f64 + 0.5) / BANDS as f64))
                .width(0)
                .all_markers(2);
            chart = chart.series(if b == 0 || b == BANDS - 1 {
                Series {
                    label: Some(format!("error {:.2}–{:.2}", lo, hi)),
                    ..s
                }
            } else {
                s
            });
        }
        for (i, &(u, v)) in pts.iter().enumerate() {
            csv.push(vec![fi as f64, u, v, r.test_errors[i]]);
        }
        panels.push(chart.into());
    }
    write_csv(
        &o.out.join("errors_circles.csv"),
        &["fixture", "u", "v", "error"],
        &csv,
    )?;
    embed(
        o,
        "errors_circles",
        &Plot::grid("Where the autoencoder fails", 2, panels),
        (1400, 640),
        "The test points of the two 1-D fixtures coloured by the reconstruction error of the \
         largest autoencoder (viridis, dark = small), the exceptional set e ≥ ε ringed in red: the \
         error concentrates on a short arc of each circle, where the 1-D code must jump back. \
         Numbers: errors_circles.csv (fixture 0 the circle, 1 the linked pair)."
            .into(),
    )
}

/// The code of each grid point against its angle, for every capacity (circle) and for both
/// circles of the linked pair (largest autoencoder): a continuous encoder of a circle into ℝ
/// must fold or jump.
fn codes_figure(o: &Options, fx: &[Fixture], runs: &[Run], c: &Config) -> Result<Figure> {
    const SHOWN: usize = 2000;
    let mut panels = Vec::new();
    let mut csv = Vec::new();
    for (fi, f) in fx.iter().enumerate().filter(|(_, f)| f.manifold.dim() == 1) {
        let n = f.grid.points.nrows();
        let stride = n.div_ceil(SHOWN).max(1);
        let mut chart = LineChart::new(
            Axes::new(
                format!("{}: code against angle", f.manifold.name()),
                "angle (rad)",
                "code F(x), rescaled to [0, 1] per network",
            )
            .x_range(0.0, 2.0 * PI)
            .y_range(-0.03, 1.6)
            .legend(LegendAt::UpperRight),
        );
        let fruns: Vec<&Run> = runs.iter().filter(|r| r.fixture == fi).collect();
        for (k, r) in fruns.iter().enumerate() {
            // Networks use codes of very different ranges (a wide decoder amplifies): each is
            // rescaled by its own range so that the shapes — the folds and the jump — compare.
            let (lo, hi) = r
                .grid_codes
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &z| {
                    (a.min(z), b.max(z))
                });
            let scale = if hi > lo { hi - lo } else { 1.0 };
            for comp in 0..f.manifold.betti()[0] {
                let pts: Vec<(f64, f64)> = (0..n)
                    .step_by(stride)
                    .filter(|&i| f.grid.component[i] == comp)
                    .map(|i| (f.grid.angles[i][0], (r.grid_codes[[i, 0]] - lo) / scale))
                    .collect();
                csv.extend(
                    pts.iter()
                        .map(|&(a, z)| vec![fi as f64, r.capacity as f64, comp as f64, a, z]),
                );
                let label = if f.manifold == Manifold::LinkedCircles {
                    format!(
                        "circle {} ({})",
                        ["A", "B"][comp],
                        capacity_label(&c.capacities[r.capacity])
                    )
                } else {
                    capacity_label(&c.capacities[r.capacity])
                };
                chart = chart.series(
                    Series::line(label, pts, TAB10[(k * 2 + comp) % TAB10.len()])
                        .width(0)
                        .all_markers(2),
                );
            }
        }
        panels.push(chart.into());
    }
    write_csv(
        &o.out.join("codes.csv"),
        &["fixture", "capacity", "component", "angle", "code_rescaled"],
        &csv,
    )?;
    embed(
        o,
        "codes",
        &Plot::grid("The encoder's cut", 2, panels),
        (1400, 560),
        "The 1-D code of each grid point against its angle, for every autoencoder, rescaled to \
         [0, 1] by its own range: a continuous map of a circle into ℝ is not injective, so the \
         code rises and falls (or jumps steeply) and a stretch of the circle shares its codes \
         with another. Numbers (the rescaled codes): codes.csv."
            .into(),
    )
}

/// `P(e ≥ ε)` against ε for each capacity, one panel per fixture, with ε and the bound marked.
fn exceedance_figure(o: &Options, fx: &[Fixture], runs: &[Run], c: &Config) -> Result<Figure> {
    let mut panels = Vec::new();
    let mut csv = Vec::new();
    for (fi, f) in fx.iter().enumerate() {
        let mut chart = LineChart::new(
            Axes::new(
                format!("{} (k = {})", f.manifold.name(), f.manifold.dim()),
                "ε",
                "P(error ≥ ε)",
            )
            .y_range(0.0, 1.0)
            .legend(LegendAt::UpperRight),
        );
        let mut emax = 0.0f64;
        for r in runs.iter().filter(|r| r.fixture == fi) {
            let pts = Exceedance::new(&r.test_errors).points(400);
            emax = emax.max(r.summary.max);
            csv.extend(
                pts.iter()
                    .map(|&(e, p)| vec![fi as f64, r.capacity as f64, e, p]),
            );
            chart = chart.series(Series::line(
                capacity_label(&c.capacities[r.capacity]),
                pts,
                TAB10[r.capacity % TAB10.len()],
            ));
        }
        let bound = f.manifold.sup_error_bound();
        chart = chart
            .series(Series::unlabelled(vec![(EPS, 0.0), (EPS, 1.0)], palette::GREY).dashed())
            .series(
                Series::line(
                    format!("bound τ = {bound} (sup e ≥ τ)"),
                    vec![(bound, 0.0), (bound, 1.0)],
                    palette::RED,
                )
                .dashed(),
            );
        chart.axes = chart.axes.x_range(0.0, emax.max(bound) * 1.05);
        panels.push(chart.into());
    }
    write_csv(
        &o.out.join("exceedance.csv"),
        &["fixture", "capacity", "eps", "fraction"],
        &csv,
    )?;
    embed(
        o,
        "exceedance",
        &Plot::grid("The measure of the exceptional set", 2, panels),
        (1400, 1000),
        format!(
            "P(error ≥ ε) on the uniform test sample against ε, for each capacity (grey dashed: \
             ε = {EPS} of the claims; red dashed: the bound every continuous autoencoder's \
             supremum reaches). Numbers: exceedance.csv."
        ),
    )
}
