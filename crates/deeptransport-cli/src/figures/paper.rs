//! The paper's Figures 1–3, redrawn from the closed forms (METHODS §4) with the numbers behind
//! each: every curve drawn is also written to a `.csv` or `.npy` next to the figure.
//!
//! - Figure 1: `μ₀ = N(0, 1)` and its pushforwards by the DAE `Φ_t(x) = x/(1 + t)` (eq. 13) at
//!   `t = 0.5, 1`, `Φ_t♯μ₀ = N(0, 1/(1 + t)²)`, with the transport lines `t ↦ Φ_t(x)`.
//! - Figure 2: trajectories of points of `μ₀ = N(0, diag[2, 1])` under the continuous DAE
//!   (eq. 12, up to just before its singular time 1/2), the DAE `Φ_t` (eq. 13) and compositions of
//!   DAEs with `τ = 0.05` and `τ = 0.5`, for `t ∈ [0, 1]`.
//! - Figure 3: the same four paths in the plane `(σ₁, σ₂)` of `N(0, diag[σ₁², σ₂²])`, where W₂ is
//!   Euclidean, over the contours of the entropy `H = log σ₁ + log σ₂ + log(2πe)`.

use super::plot::{
    Axes, Colouring, Figure, LegendAt, LineChart, Panel, Rendered, Series, TrajectoryLayer,
    TrajectoryPanel, palette, render,
};
use crate::io::Output;
use anyhow::{Context, Result};
use deeptransport::dae;
use deeptransport::flow::Trajectory;
use deeptransport::flow::gaussian::{
    composition, composition_map, continuous_map, continuous_pushforward, dae_pushforward,
    singular_time,
};
use deeptransport::functional::gaussian_entropy;
use deeptransport::measure::Gaussian;
use ndarray::{Array2, Array3, array};
use plotters::style::RGBColor;
use rand::SeedableRng;
use serde_json::{Value, json};
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What one figure wrote: the SVG and PNG, the number files, and a JSON summary of both.
#[derive(Debug, Clone)]
pub struct Written {
    /// `fig1`, `fig2` or `fig3`.
    pub name: &'static str,
    /// The drawings.
    pub rendered: Rendered,
    /// The number files, in the order written.
    pub numbers: Vec<PathBuf>,
    /// `{"figure", "svg", "png", "numbers": [...], ...}` plus the figure's parameters.
    pub summary: Value,
}

/// Figure 1's times: `μ₀` and its pushforwards at `t = 0.5` and `t = 1` (paper, Fig. 1 caption).
pub const FIG1_TIMES: [f64; 3] = [0.0, 0.5, 1.0];
/// Figure 2's sample size (coloured lines).
pub const FIG2_SAMPLES: usize = 30;
/// Figures 2 and 3: the time span of the DAE and of the compositions. The paper's Fig. 2 shows
/// the continuous DAE up to its singularity at `t = 1/2` and the others beyond it; `t = 1` is
/// two layers of `τ = 0.5` and twenty of `τ = 0.05`.
pub const T_END: f64 = 1.0;
/// Figures 2 and 3: the continuous DAE stops this far before its singular time `t* = 1/2`, where
/// `√(1 − 2t/λ₂)` vanishes and the entropy is `−∞`.
pub const T_STAR_GAP: f64 = 0.005;
/// The composition step sizes of Figures 2 and 3.
pub const TAUS: [f64; 2] = [0.05, 0.5];
/// Figure 2's midpoint spacing in `t` (paper: "midpoints are plotted every 0.2").
pub const MIDPOINT_EVERY: f64 = 0.2;

/// Every file `fig1`, `fig2` or `fig3` writes into its folder, so that a command can check them
/// all before drawing anything (the names follow the writers below; a test replaces each written
/// file by a folder and expects the refusal).
pub fn outputs(figure: &str) -> Vec<String> {
    let mut v = vec![format!("{figure}.svg"), format!("{figure}.png")];
    let taus = TAUS.iter().map(|t| format!("tau{t}"));
    match figure {
        "fig1" => v.extend(["fig1.csv".into(), "fig1_lines.csv".into()]),
        "fig2" => {
            for p in ["continuous".to_string(), "dae".into()]
                .into_iter()
                .chain(taus)
            {
                v.extend([format!("fig2_{p}.npy"), format!("fig2_{p}.times.csv")]);
            }
        }
        _ => {
            for p in ["flow".to_string(), "dae".into()].into_iter().chain(taus) {
                v.push(format!("fig3_{p}.csv"));
            }
        }
    }
    v
}

/// `μ₀ = N(0, diag[2, 1])` of Figures 2 and 3.
pub fn paper_gaussian() -> Gaussian {
    Gaussian::new(array![0.0, 0.0], array![[2.0, 0.0], [0.0, 1.0]]).expect("diag[2, 1] is SPD")
}

/// Writes a CSV with a header row, every number in the shortest form that round-trips exactly.
pub(crate) fn write_csv(path: &Path, header: &[&str], rows: &[Vec<f64>]) -> Result<PathBuf> {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        for (j, v) in r.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            write!(s, "{v:?}").expect("writing to a String cannot fail");
        }
        s.push('\n');
    }
    Output::file(path)?.commit_bytes(s.as_bytes())?;
    Ok(path.to_path_buf())
}

/// Writes `NAME.npy` (T × n × d) and its sidecar `NAME.times.csv` (CLI contract).
fn write_trajectory(dir: &Path, name: &str, traj: &Trajectory) -> Result<Vec<PathBuf>> {
    let npy = dir.join(format!("{name}.npy"));
    Output::create(&npy)?.commit_trajectory(traj)?;
    let rows: Vec<Vec<f64>> = traj.times().iter().map(|&t| vec![t]).collect();
    let times = write_csv(&dir.join(format!("{name}.times.csv")), &["t"], &rows)?;
    Ok(vec![npy, times])
}

/// `t_k = k·step`, `k = 0, …, n`, computed as `k / (1/step)` so that `0.35` is the double
/// nearest 0.35 rather than `7 × 0.05 = 0.35000000000000003` (`1/step` is an integer here).
fn time_grid(step: f64, n: usize) -> Vec<f64> {
    let per_unit = (1.0 / step).round();
    (0..=n).map(|k| k as f64 / per_unit).collect()
}

/// The 1-D normal density `N(0, v)` at `x`.
fn normal_pdf(x: f64, v: f64) -> f64 {
    (-0.5 * x * x / v).exp() / (2.0 * PI * v).sqrt()
}

/// Figure 1 into `dir`: `fig1.svg`, `fig1.png`, `fig1.csv` (columns `x`, `density_t0`,
/// `density_t0.5`, `density_t1` on 401 points of `[−4, 4]`) and `fig1_lines.csv` (columns `x0`,
/// `phi_t0.5`, `phi_t1`: the endpoints of the transport lines, from eq. 13).
///
/// The pushforward variances come from [`dae_pushforward`] (`λ ↦ λ³/(λ + t)² = 1/(1 + t)²`)
/// and the endpoints from [`dae::gaussian`], so the files check the library against the closed
/// forms. Cost: a few thousand evaluations.
pub fn fig1(dir: &Path) -> Result<Written> {
    let mu0 = Gaussian::new(array![0.0], array![[1.0]]).expect("N(0, 1)");
    let variances = FIG1_TIMES
        .iter()
        .map(|&t| {
            Ok(if t == 0.0 {
                1.0
            } else {
                dae_pushforward(&mu0, t)?.cov()[[0, 0]]
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    let xs: Vec<f64> = (0..=400).map(|i| -4.0 + 0.02 * i as f64).collect();
    let density_rows: Vec<Vec<f64>> = xs
        .iter()
        .map(|&x| {
            let mut r = vec![x];
            r.extend(variances.iter().map(|&v| normal_pdf(x, v)));
            r
        })
        .collect();

    // Transport lines from x₀ = −3, −2.5, …, 3: t ↦ Φ_t(x₀) for t ∈ [0, 1] (eq. 13).
    let x0: Vec<f64> = (0..=12).map(|i| -3.0 + 0.5 * i as f64).collect();
    let starts = Array2::from_shape_vec((x0.len(), 1), x0.clone()).expect("n × 1");
    let line_times = time_grid(0.02, 50);
    let mut paths: Vec<Vec<(f64, f64)>> = x0.iter().map(|&x| vec![(0.0, x)]).collect();
    for &t in &line_times[1..] {
        let phi = dae::gaussian(&mu0, t, starts.view())?;
        for (p, v) in paths.iter_mut().zip(phi.column(0)) {
            p.push((t, *v));
        }
    }
    let ends: Vec<Array2<f64>> = FIG1_TIMES[1..]
        .iter()
        .map(|&t| dae::gaussian(&mu0, t, starts.view()))
        .collect::<deeptransport::Result<_>>()?;
    let line_rows: Vec<Vec<f64>> = (0..x0.len())
        .map(|i| vec![x0[i], ends[0][[i, 0]], ends[1][[i, 0]]])
        .collect();

    // Left: the paper's layout — t across, x up, each density drawn sideways from its time.
    let width_scale = 0.42; // data units of t per unit of density: the tallest bump spans 0.34
    let colours = [palette::BLUE, palette::GREEN, palette::ORANGE];
    let mut left = LineChart::new(
        Axes::new(
            "Transport lines t ↦ Φₜ(x₀) = x₀/(1 + t), μₜ = Φₜ♯μ₀",
            "t (noise variance)",
            "x",
        )
        .x_range(-0.06, 1.42)
        .y_range(-3.4, 3.4)
        .legend(LegendAt::Hidden),
    );
    for p in &paths {
        let marks = vec![0, 25, 50];
        left = left.series(
            Series::unlabelled(p.clone(), palette::GREY)
                .width(1)
                .markers(marks, 3),
        );
    }
    for (k, (&t, &v)) in FIG1_TIMES.iter().zip(&variances).enumerate() {
        let mut poly: Vec<(f64, f64)> = xs
            .iter()
            .filter(|x| x.abs() <= 3.4)
            .map(|&x| (t + width_scale * normal_pdf(x, v), x))
            .collect();
        let (lo, hi) = (poly[0].1, poly[poly.len() - 1].1);
        poly.push((t, hi));
        poly.push((t, lo));
        left = left.series(Series::unlabelled(poly, colours[k]).filled(0.25).width(2));
        left = left.series(
            Series::unlabelled(vec![(t, -3.4), (t, 3.4)], colours[k])
                .width(1)
                .dashed(),
        );
    }
    left = left
        .note(0.02, 3.1, "μ₀", colours[0])
        .note(0.52, 3.1, "μ₀.₅", colours[1])
        .note(1.02, 3.1, "μ₁", colours[2]);

    // Right: the same densities over x, overlaid.
    let labels = [
        "μ₀ = N(0, 1)".to_string(),
        "Φ₀.₅♯μ₀ = N(0, 1/1.5²)".to_string(),
        "Φ₁♯μ₀ = N(0, 1/2²)".to_string(),
    ];
    let mut right =
        LineChart::new(Axes::new("Densities of μₜ = Φₜ♯μ₀", "x", "density").y_range(0.0, 0.88));
    for k in 0..3 {
        let pts = density_rows.iter().map(|r| (r[0], r[k + 1])).collect();
        right = right.series(Series::line(labels[k].clone(), pts, colours[k]).width(3));
    }
    let fig = Figure::grid("", 2, vec![left.into(), right.into()]);
    let rendered = render(&dir.join("fig1"), 1300, 560, &fig)?;

    let numbers = vec![
        write_csv(
            &dir.join("fig1.csv"),
            &["x", "density_t0", "density_t0.5", "density_t1"],
            &density_rows,
        )?,
        write_csv(
            &dir.join("fig1_lines.csv"),
            &["x0", "phi_t0.5", "phi_t1"],
            &line_rows,
        )?,
    ];
    let summary = json!({
        "figure": "fig1",
        "svg": rendered.svg, "png": rendered.png, "numbers": numbers,
        "times": FIG1_TIMES, "variances": variances,
    });
    Ok(Written {
        name: "fig1",
        rendered,
        numbers,
        summary,
    })
}

/// The regular grid of Figure 2's grey lines: `x₁ ∈ {−3, −2.25, …, 3}`, `x₂ ∈ {−2.25, …, 2.25}`.
fn fig2_grid() -> Array2<f64> {
    let mut pts = Vec::new();
    for j in 0..7 {
        for i in 0..9 {
            pts.extend([-3.0 + 0.75 * i as f64, -2.25 + 0.75 * j as f64]);
        }
    }
    Array2::from_shape_vec((63, 2), pts).expect("63 × 2")
}

/// Slice indices at every `MIDPOINT_EVERY` in time (t > 0), matching to half a step.
fn midpoints(times: &[f64]) -> Vec<usize> {
    let step = times.get(1).map_or(1.0, |t1| t1 - times[0]);
    times
        .iter()
        .enumerate()
        .filter(|&(_, &t)| {
            let r = t / MIDPOINT_EVERY;
            t > 0.0 && (r - r.round()).abs() * MIDPOINT_EVERY < 0.5 * step
        })
        .map(|(k, _)| k)
        .collect()
}

/// Stacks per-time `n × d` arrays into a trajectory.
fn stack(slices: Vec<Array2<f64>>, times: Vec<f64>) -> Result<Trajectory> {
    Ok(Trajectory::from_layers(slices, times)?)
}

/// The four trajectory sets of Figure 2 for `points` (rows) of `μ₀`: (file name, title,
/// trajectory), in the order continuous DAE, DAE, compositions τ = 0.05, τ = 0.5.
pub fn fig2_trajectories(
    mu: &Gaussian,
    points: &Array2<f64>,
) -> Result<Vec<(String, String, Trajectory)>> {
    let t_star = singular_time(mu);
    // The continuous DAE on 0, 0.005, …, t* − 0.005 (eq. 12 is singular at t* = 1/2).
    let n_cont = ((t_star - T_STAR_GAP) / 0.005).round() as usize;
    let cont_times = time_grid(0.005, n_cont);
    let mut cont = vec![points.clone()];
    for &t in &cont_times[1..] {
        cont.push(continuous_map(mu, t, points.view())?);
    }
    // The DAE Φ_t (eq. 13) on 0, 0.01, …, 1.
    let dae_times = time_grid(0.01, 100);
    let mut phi = vec![points.clone()];
    for &t in &dae_times[1..] {
        phi.push(dae::gaussian(mu, t, points.view())?);
    }
    let mut out = vec![
        (
            "fig2_continuous".to_string(),
            format!("Continuous DAE φₜ (eq. 12), t ≤ {:.3}", cont_times[n_cont]),
            stack(cont, cont_times)?,
        ),
        (
            "fig2_dae".to_string(),
            "DAE Φₜ (eq. 13), t ≤ 1".to_string(),
            stack(phi, dae_times)?,
        ),
    ];
    for tau in TAUS {
        let layers = (T_END / tau).round() as usize;
        let slices = composition_map(mu, &vec![tau; layers], points.view())?;
        out.push((
            format!("fig2_tau{tau}"),
            format!("Composition of {layers} DAEs, τ = {tau}"),
            stack(slices, time_grid(tau, layers))?,
        ));
    }
    Ok(out)
}

/// Figure 2 into `dir`: `fig2.svg`, `fig2.png` and, per panel, `NAME.npy` (T × n × 2: rows
/// `0..63` the regular grid, rows `63..93` the samples) with `NAME.times.csv`, for NAME in
/// `fig2_continuous`, `fig2_dae`, `fig2_tau0.05`, `fig2_tau0.5`. The samples are
/// [`FIG2_SAMPLES`] draws of `μ₀` with ChaCha8 seeded by `seed`.
///
/// Exact maps (eqs. 12, 13 and the closed-form composition), so the only error is rounding.
/// Cost: ≈ 200 evaluations of a 2 × 2 affine map on 93 points.
pub fn fig2(dir: &Path, seed: u64) -> Result<Written> {
    let mu = paper_gaussian();
    let grid = fig2_grid();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let samples = mu.sample(FIG2_SAMPLES, &mut rng);
    let n_grid = grid.nrows();
    let all = ndarray::concatenate(ndarray::Axis(0), &[grid.view(), samples.view()])?;
    let sets = fig2_trajectories(&mu, &all)?;

    let split = |traj: &Trajectory, rows: std::ops::Range<usize>| -> Result<Trajectory> {
        let p: Array3<f64> = traj.positions().slice(ndarray::s![.., rows, ..]).to_owned();
        Ok(Trajectory::new(p, traj.times().to_vec())?)
    };
    let mut panels: Vec<Panel> = Vec::new();
    let mut numbers = Vec::new();
    let mut times_json = serde_json::Map::new();
    for (name, title, traj) in &sets {
        let marks = midpoints(traj.times());
        let grey = TrajectoryLayer::grey(split(traj, 0..n_grid)?).markers(marks.clone());
        let coloured = TrajectoryLayer::coloured(split(traj, n_grid..traj.n_points())?)
            .markers(marks)
            .colouring(Colouring::ByPoint);
        panels.push(
            TrajectoryPanel::new(
                Axes::new(title.as_str(), "x₁", "x₂")
                    .x_range(-3.5, 3.5)
                    .y_range(-2.6, 2.6)
                    .equal_aspect(),
            )
            .layer(grey)
            .layer(coloured)
            .into(),
        );
        numbers.extend(write_trajectory(dir, name, traj)?);
        times_json.insert(name.clone(), json!(traj.times()));
    }
    let fig = Figure::grid(
        "Trajectories under DAEs of μ₀ = N(0, diag[2, 1]): grey from a grid, coloured from \
         samples (○ start), dots every 0.2 in t",
        2,
        panels,
    );
    let rendered = render(&dir.join("fig2"), 1300, 1000, &fig)?;
    let summary = json!({
        "figure": "fig2",
        "svg": rendered.svg, "png": rendered.png, "numbers": numbers,
        "seed": seed, "n_grid": n_grid, "n_samples": FIG2_SAMPLES,
        "singular_time": singular_time(&mu), "taus": TAUS, "times": times_json,
    });
    Ok(Written {
        name: "fig2",
        rendered,
        numbers,
        summary,
    })
}

/// One path of Figure 3: `(t, σ₁, σ₂, H)` rows, `H` the Shannon entropy of `N(0, diag[σ²])`.
type SigmaPath = Vec<Vec<f64>>;

/// `(t, σ₁, σ₂, H)` of a diagonal Gaussian.
fn sigma_row(t: f64, g: &Gaussian) -> Result<Vec<f64>> {
    let c = g.cov();
    Ok(vec![
        t,
        c[[0, 0]].sqrt(),
        c[[1, 1]].sqrt(),
        gaussian_entropy(c)?,
    ])
}

/// The largest number of layers `≤ layers` for which [`composition`] still represents the
/// measures (no collapse below [`COLLAPSE_RATIO`]), and those measures.
fn composition_until_collapse(mu: &Gaussian, tau: f64, layers: usize) -> Result<Vec<Gaussian>> {
    for l in (1..=layers).rev() {
        if let Ok(ms) = composition(mu, &vec![tau; l]) {
            return Ok(ms);
        }
    }
    Ok(vec![mu.clone()])
}

/// The four paths of Figure 3 from `μ₀ = N(0, diag[2, 1])`: (file name, legend, rows).
pub fn fig3_paths() -> Result<Vec<(String, String, SigmaPath)>> {
    let mu = paper_gaussian();
    let t_star = singular_time(&mu);
    let n_flow = ((t_star - T_STAR_GAP) / 0.005).round() as usize;
    let mut flow = vec![sigma_row(0.0, &mu)?];
    // Two more times close to t* so that the curve visibly reaches the σ₁ axis
    // (σ₂ = √(1 − 2t) = 0.032 and 0.010); at t* itself H = −∞.
    let mut flow_times = time_grid(0.005, n_flow);
    flow_times.extend([t_star - 5e-4, t_star - 5e-5]);
    for &t in &flow_times[1..] {
        flow.push(sigma_row(t, &continuous_pushforward(&mu, t)?)?);
    }
    let mut phi = vec![sigma_row(0.0, &mu)?];
    for &t in &time_grid(0.01, 100)[1..] {
        phi.push(sigma_row(t, &dae_pushforward(&mu, t)?)?);
    }
    let mut out = vec![
        (
            "fig3_flow".to_string(),
            "gradient flow = continuous DAE".to_string(),
            flow,
        ),
        ("fig3_dae".to_string(), "DAE Φₜ♯μ₀, t ≤ 1".to_string(), phi),
    ];
    for tau in TAUS {
        let layers = (T_END / tau).round() as usize;
        let ms = composition_until_collapse(&mu, tau, layers)?;
        let rows = ms
            .iter()
            .enumerate()
            .map(|(l, g)| sigma_row(l as f64 * tau, g))
            .collect::<Result<Vec<_>>>()?;
        let shown = ms.len() - 1;
        // Short: the legend sits in the corner below the lowest contour.
        let legend = if shown < layers {
            format!("composition, τ = {tau} × {shown}; σ₂ → 0")
        } else {
            format!("composition, τ = {tau} × {layers}")
        };
        out.push((format!("fig3_tau{tau}"), legend, rows));
    }
    Ok(out)
}

/// Figure 3 into `dir`: `fig3.svg`, `fig3.png` and one CSV per path (`fig3_flow.csv`,
/// `fig3_dae.csv`, `fig3_tau0.05.csv`, `fig3_tau0.5.csv`), columns `t,sigma1,sigma2,entropy`.
///
/// The flow is `σ_i(t) = √(σ_i² − 2t)` ([`continuous_pushforward`], on `t = 0, 0.005, …,
/// t* − 0.005` and `t* − 5·10⁻⁴`, `t* − 5·10⁻⁵`), the DAE `σ_i² ↦ σ_i⁶/(σ_i² + t)²`
/// ([`dae_pushforward`], `t ≤ 1`), the compositions the same
/// recursion per layer ([`composition`]) up to `t = 1` or until the measure collapses
/// (`σ₂²/σ₁² < 10⁻¹²`, reached by `τ = 0.05` after 14 layers). Entropy by [`gaussian_entropy`].
pub fn fig3(dir: &Path) -> Result<Written> {
    let paths = fig3_paths()?;
    let h0 = paths[0].2[0][3];
    // Just past μ₀ (σ₁ = √2) on the right; the figure's width (FIG3_SIZE) gives this range at
    // equal scales, and the legend goes to the lower left, where no contour or path passes
    // (σ₁σ₂ stays above the lowest contour's 0.28 there).
    let (x_max, y_max) = (1.6, 1.12);
    let mut chart = LineChart::new(
        Axes::new(
            "W₂ is Euclidean here; grey: H = log σ₁σ₂ + log 2πe; dots every 0.1 in t or every layer",
            "σ₁",
            "σ₂",
        )
        .x_range(0.0, x_max)
        .y_range(0.0, y_max)
        .equal_aspect()
        .legend(LegendAt::LowerLeft),
    );
    // Entropy contours σ₁σ₂ = c (H = log c + log(2πe)), the first through μ₀, the others
    // chosen to leave the top edge at σ₁ = 1, 0.75, 0.5, 0.25, where their labels go.
    let log_2pi_e = (2.0 * PI * std::f64::consts::E).ln();
    let levels = [std::f64::consts::SQRT_2, 1.0, 0.75, 0.5, 0.25].map(|x_top| {
        if x_top == std::f64::consts::SQRT_2 {
            x_top
        } else {
            x_top * y_max
        }
    });
    for c in levels {
        let x_top = c / y_max;
        let pts: Vec<(f64, f64)> = (0..=300)
            .map(|i| {
                let s1 = x_top + (x_max - x_top) * i as f64 / 300.0;
                (s1, c / s1)
            })
            .collect();
        chart = chart.series(Series::unlabelled(pts, CONTOUR).width(1));
        chart = chart.note(
            1.07 * x_top + 0.015,
            0.975 * y_max,
            format!("H = {:.2}", c.ln() + log_2pi_e),
            palette::DARK_GREY,
        );
    }
    // Four hues, not shades of one: the DAE (dashed) and the compositions were two near-identical
    // greens, hard to tell apart on screen and indistinguishable in print.
    let styles = [
        (palette::BLUE, false, 3u32),
        (palette::GREEN, true, 3),
        (palette::ORANGE, false, 2),
        (palette::PURPLE, false, 2),
    ];
    let mut numbers = Vec::new();
    let mut summary_paths = serde_json::Map::new();
    for ((name, legend, rows), (colour, dashed, width)) in paths.iter().zip(styles) {
        let mut pts: Vec<(f64, f64)> = rows.iter().map(|r| (r[1], r[2])).collect();
        if name == "fig3_flow" {
            // The flow ends on the σ₁ axis at t* (σ₂ = 0, H = −∞: drawn, not in the CSV).
            pts.push(((2.0f64 - 1.0).sqrt(), 0.0));
        }
        // Dots at equal times, every 0.1 along the flow and the DAE; at every layer otherwise.
        let marks: Vec<usize> = if name.contains("tau") {
            (0..rows.len()).collect()
        } else {
            (0..rows.len())
                .filter(|&k| {
                    let r = rows[k][0] * 10.0;
                    (r - r.round()).abs() < 1e-9
                })
                .collect()
        };
        let mut s = Series::line(legend.clone(), pts, colour)
            .width(width)
            .markers(marks, if name.contains("0.05") { 3 } else { 4 });
        if dashed {
            s = s.dashed();
        }
        chart = chart.series(s);
        numbers.push(write_csv(
            &dir.join(format!("{name}.csv")),
            &["t", "sigma1", "sigma2", "entropy"],
            rows,
        )?);
        let last = rows.last().expect("every path has its start");
        summary_paths.insert(
            name.clone(),
            json!({"points": rows.len(), "t_end": last[0], "entropy_end": last[3]}),
        );
    }
    chart =
        chart
            .note(1.43, 1.0, "μ₀", RGBColor(0, 0, 0))
            .note(1.02, 0.03, "t* = 1/2", palette::BLUE);
    let fig = Figure::grid(
        "Pushforwards of μ₀ = N(0, diag[2, 1]) in the plane of N(0, diag[σ₁², σ₂²])",
        1,
        vec![chart.into()],
    );
    let rendered = render(&dir.join("fig3"), FIG3_SIZE.0, FIG3_SIZE.1, &fig)?;
    let summary = json!({
        "figure": "fig3",
        "svg": rendered.svg, "png": rendered.png, "numbers": numbers,
        "initial_entropy": h0, "paths": summary_paths,
    });
    Ok(Written {
        name: "fig3",
        rendered,
        numbers,
        summary,
    })
}

/// Figure 3's size in pixels: at equal scales on both axes, σ₂ ∈ [0, 1.12] and σ₁ ∈ [0, 1.6] fill
/// it (a wider figure left a third of the σ₁ axis empty).
pub const FIG3_SIZE: (u32, u32) = (940, 780);

/// Figure 3's entropy contours: lighter than the grey of Figure 2's grid lines.
const CONTOUR: RGBColor = RGBColor(190, 190, 190);

/// Writes every figure into `dir` (which must exist).
pub fn all(dir: &Path, seed: u64) -> Result<Vec<Written>> {
    Ok(vec![
        fig1(dir).context("fig1")?,
        fig2(dir, seed).context("fig2")?,
        fig3(dir).context("fig3")?,
    ])
}
