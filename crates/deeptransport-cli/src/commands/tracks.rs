//! `deeptransport tracks`: how a network moves its inputs (seed 002; METHODS §7) — line-shape and
//! optimal-transport scores of a user's layer activations, streamed layer by layer.

use crate::activations::Layers;
use crate::io::Output;
use crate::{BadInput, Common, progress};
use anyhow::{Context, Result};
use deeptransport::tracks::{TrackOptions, TrackScorer, TrackScores};
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;

/// How layers of different widths are compared.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Embed {
    /// Zero-pad every layer to the largest width.
    Pad,
    /// Refuse layers of different widths.
    None,
}

/// Score the tracks of a network's inputs through its layers: line-shape score (LSS), optimal-
/// transport score (OTS), W₂ per step, geodesic and action ratios (METHODS.md §7).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  deeptransport tracks --layers l0.npy,l1.npy,l2.npy --json\n  \
    deeptransport tracks --activations acts.npz --keys input,block1,block2,out --out per_input.csv\n  \
    deeptransport tracks --trajectory traj.npy --from 0 --to 10 --max-samples 2000 --json"
)]
pub struct Args {
    /// Layer files (CSV or NPY, one row per input, the same inputs in the same order), comma
    /// separated, input layer first.
    #[arg(long, value_delimiter = ',', value_name = "F0,F1,...")]
    layers: Option<Vec<PathBuf>>,
    /// A .npz archive or a .safetensors file holding one array per layer.
    #[arg(long, value_name = "FILE")]
    activations: Option<PathBuf>,
    /// The archive's arrays to score, in layer order (default: all, in the archive's order).
    #[arg(long, value_delimiter = ',', value_name = "K0,K1,...")]
    keys: Option<Vec<String>>,
    /// A trajectory .npy of shape (T, n, d): slice k is layer k.
    #[arg(long, value_name = "TRAJ.npy")]
    trajectory: Option<PathBuf>,
    /// Flatten arrays of more than two dimensions per row (conv feature maps (n, C, H, W)).
    #[arg(long)]
    flatten: bool,
    /// Layers of different widths: zero-pad (pad) or refuse (none).
    #[arg(long, value_enum, default_value = "pad")]
    embed: Embed,
    /// First layer scored (0-based).
    #[arg(long, value_name = "I")]
    from: Option<usize>,
    /// Last layer scored (0-based, default: the last).
    #[arg(long, value_name = "J")]
    to: Option<usize>,
    /// Inputs used by OTS and the W₂ quantities (a seeded subsample when n is larger).
    #[arg(long, default_value_t = 10_000, value_name = "M")]
    max_samples: usize,
    /// Seed of that subsample.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// Per-input CSV: lss,path_length,chord,fixed_point.
    #[arg(long, value_name = "PER_SAMPLE.csv")]
    out: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(a: Args) -> Result<()> {
    let mut layers = Layers::open(a.layers, a.activations, a.keys, a.trajectory, a.flatten)?;
    let last = layers.len().checked_sub(1).context("no layers")?;
    let from = a.from.unwrap_or(0);
    let to = a.to.unwrap_or(last);
    if to > last || from >= to {
        return Err(BadInput::new(format!(
            "--from {from} --to {to}: the layers are numbered 0..={last}; need from < to"
        )));
    }
    if a.max_samples == 0 {
        return Err(BadInput::new("--max-samples must be at least 1"));
    }
    let out = match &a.out {
        Some(p) => {
            if p.extension().and_then(|e| e.to_str()) != Some("csv") {
                return Err(BadInput::new(format!(
                    "{}: the per-input output is a .csv file",
                    p.display()
                )));
            }
            Some(Output::file(p)?)
        }
        None => None,
    };
    let first = layers.read(from)?;
    let (n, w0) = (first.nrows(), first.ncols());
    let opts = TrackOptions {
        max_samples: a.max_samples,
        seed: a.seed,
    };
    let mut scorer =
        TrackScorer::new(first.view(), opts).with_context(|| layers.name(from).to_string())?;
    drop(first);
    let pairs = (n.min(a.max_samples) as f64).powi(2) * (to - from) as f64;
    let bar = progress::bar((to - from) as u64, pairs, a.common.quiet, "tracks");
    for k in from + 1..=to {
        let layer = layers.read(k)?;
        if layer.nrows() != n {
            return Err(BadInput::new(format!(
                "{} has {} rows but {} has {n}: every layer must hold the same inputs in the same \
                 order",
                layers.name(k),
                layer.nrows(),
                layers.name(from)
            )));
        }
        if a.embed == Embed::None && layer.ncols() != w0 {
            return Err(BadInput::new(format!(
                "--embed none: {} has width {} but {} has width {w0}",
                layers.name(k),
                layer.ncols(),
                layers.name(from)
            )));
        }
        scorer
            .push(layer.view())
            .with_context(|| format!("scoring {}", layers.name(k)))?;
        bar.inc(1);
    }
    let s = scorer.finish()?;
    bar.finish_and_clear();
    if let Some(out) = out {
        out.commit_bytes(per_input_csv(&s).as_bytes())?;
    }
    let summary = json!({
        "n": s.n, "layers": s.layers, "widths": s.widths,
        "embed": if a.embed == Embed::Pad { "pad" } else { "none" },
        "from": from, "to": to,
        "lss_mean": s.lss_mean, "lss_median": s.lss_median, "lss_undefined": s.lss_undefined,
        "ots": s.ots, "ots_cost_ratio": s.ots_cost_ratio, "ots_n": s.ots_n,
        "w2_steps": s.w2_steps, "w2_end_to_end": s.w2_end_to_end,
        "geodesic_ratio": s.geodesic_ratio, "action": s.action, "action_ratio": s.action_ratio,
    });
    if a.json {
        outln!("{summary}");
    } else {
        let opt = |v: Option<f64>| v.map_or("undefined".to_string(), |v| format!("{v:.4}"));
        outln!(
            "tracks of {} inputs through layers {from}..={to} ({} steps)",
            s.n,
            s.layers - 1
        );
        outln!(
            "  LSS mean {}, median {} ({} undefined: no motion)",
            opt(s.lss_mean),
            opt(s.lss_median),
            s.lss_undefined
        );
        outln!(
            "  OTS {:.4} on {} inputs, cost ratio {:.4}",
            s.ots,
            s.ots_n,
            s.ots_cost_ratio
        );
        outln!(
            "  W₂ end to end {:.6}, geodesic ratio {:.4}, action ratio {:.4}",
            s.w2_end_to_end,
            s.geodesic_ratio,
            s.action_ratio
        );
    }
    Ok(())
}

/// `lss,path_length,chord,fixed_point`, one row per input (empty `lss` where undefined, empty
/// `fixed_point` outside the OT subsample); numbers in shortest round-trip form.
fn per_input_csv(s: &TrackScores) -> String {
    let mut csv = String::from("lss,path_length,chord,fixed_point\n");
    for i in 0..s.n {
        let lss = s.lss[i].map(|v| format!("{v:?}")).unwrap_or_default();
        let fixed = s.fixed_point[i]
            .map(|f| if f { "1" } else { "0" })
            .unwrap_or("");
        let _ = writeln!(csv, "{lss},{:?},{:?},{fixed}", s.path_length[i], s.chord[i]);
    }
    csv
}
