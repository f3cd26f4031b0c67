//! `deeptransport figure`: the paper's Figures 1–3 (SVG and PNG) with the numbers behind them.

use crate::experiments::check_destinations;
use crate::figures::paper::{self, Written};
use crate::{BadInput, Common};
use anyhow::Result;
use std::path::PathBuf;

/// Which figure to draw.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// N(0, 1) and its DAE pushforwards at t = 0.5, 1 with the transport lines.
    Fig1,
    /// Trajectories under the continuous DAE, the DAE and compositions (τ = 0.05, 0.5).
    Fig2,
    /// The same paths in the (σ₁, σ₂) plane over the entropy contours.
    Fig3,
    /// All three.
    All,
}

/// Redraw the paper's Figures 1–3 from the closed forms: DIR/figN.svg, DIR/figN.png and the numbers
/// behind each figure (.csv, and .npy trajectories with NAME.times.csv).
///
/// fig1: μ₀ = N(0, 1) and Φ_t♯μ₀ = N(0, 1/(1+t)²) at t = 0.5, 1 (fig1.csv: densities; fig1_lines.csv:
/// transport-line endpoints). fig2: trajectories of a grid and of samples of N(0, diag[2, 1]) under
/// the continuous DAE (eq. 12, t < 1/2), the DAE (eq. 13) and compositions with τ = 0.05, 0.5,
/// t ≤ 1 (fig2_*.npy, T × n × 2, rows 0–62 the grid). fig3: the paths in the (σ₁, σ₂) plane with
/// entropy contours (fig3_*.csv: t, sigma1, sigma2, entropy).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    deeptransport figure fig1 --out figures\n  \
    deeptransport figure fig2 --out figures --seed 3 --json\n  \
    deeptransport figure all --out figures")]
pub struct Args {
    /// The figure: fig1, fig2, fig3 or all.
    #[arg(value_enum, value_name = "FIGURE")]
    which: Which,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of Figure 2's samples (ChaCha8).
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// Print a JSON summary of the written files on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    if a.out.exists() && !a.out.is_dir() {
        return Err(BadInput::new(format!(
            "--out {}: is a file; expected a folder (created if missing)",
            a.out.display()
        )));
    }
    std::fs::create_dir_all(&a.out).map_err(|e| {
        BadInput::new(format!(
            "--out {}: cannot create the folder: {e}",
            a.out.display()
        ))
    })?;
    // Every destination first: a folder where a file goes is bad input before anything is drawn.
    let names: &[&str] = match a.which {
        Which::Fig1 => &["fig1"],
        Which::Fig2 => &["fig2"],
        Which::Fig3 => &["fig3"],
        Which::All => &["fig1", "fig2", "fig3"],
    };
    let files: Vec<PathBuf> = names
        .iter()
        .flat_map(|f| paper::outputs(f))
        .map(|f| a.out.join(f))
        .collect();
    check_destinations(&files)?;
    let written: Vec<Written> = match a.which {
        Which::Fig1 => vec![paper::fig1(&a.out)?],
        Which::Fig2 => vec![paper::fig2(&a.out, a.seed)?],
        Which::Fig3 => vec![paper::fig3(&a.out)?],
        Which::All => paper::all(&a.out, a.seed)?,
    };
    if a.json {
        let summary = if let [one] = &written[..] {
            one.summary.clone()
        } else {
            serde_json::json!({
                "out": a.out,
                "figures": written.iter().map(|w| w.summary.clone()).collect::<Vec<_>>(),
            })
        };
        outln!("{summary}");
    } else {
        for w in &written {
            let files: Vec<String> = [&w.rendered.svg, &w.rendered.png]
                .into_iter()
                .chain(&w.numbers)
                .map(|p| p.display().to_string())
                .collect();
            outln!("{}: {}", w.name, files.join(", "));
        }
    }
    Ok(())
}
