//! `deeptransport tracks`: how a network moves its inputs (seed 002; METHODS §7) — line-shape and
//! optimal-transport scores of a user's layer activations, streamed layer by layer.

use crate::activations::Layers;
use crate::figures::plot::render;
use crate::figures::tracks::{self as figs, Colour, LEGEND_CLASSES, Labels, Sketch, Sketched};
use crate::interrupt::Live;
use crate::io::Output;
use crate::report::{self, Report, Section, Table};
use crate::{BadInput, Common, limits, progress};
use anyhow::{Context, Result};
use deeptransport::tracks::{TrackOptions, TrackScorer, TrackScores};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    deeptransport tracks --trajectory traj.npy --from 0 --to 10 --max-samples 2000 --json\n  \
    deeptransport tracks --activations acts.npz --labels classes.csv --report tracks-report"
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
    #[arg(long, value_name = "I", allow_negative_numbers = true,
          value_parser = limits::count::<0, usize>)]
    from: Option<usize>,
    /// Last layer scored (0-based, default: the last).
    #[arg(long, value_name = "J", allow_negative_numbers = true,
          value_parser = limits::count::<0, usize>)]
    to: Option<usize>,
    /// Inputs used by OTS and the W₂ quantities (a seeded subsample when n is larger).
    #[arg(long, default_value_t = 10_000, value_name = "M", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    max_samples: usize,
    /// Seed of that subsample.
    #[arg(long, default_value_t = 0, value_name = "S", allow_negative_numbers = true,
          value_parser = limits::count::<0, u64>)]
    seed: u64,
    /// Per-input CSV: lss,path_length,chord,fixed_point.
    #[arg(long, value_name = "PER_SAMPLE.csv")]
    out: Option<PathBuf>,
    /// One label (an integer or a name) per input, one per line or a one-column CSV (header
    /// optional): colours the tracks in the report's principal-component figure.
    #[arg(long, value_name = "FILE", requires = "report")]
    labels: Option<PathBuf>,
    /// Write DIR/report.html, DIR/summary.json and the figures (SVG + PNG); DIR is created if
    /// missing (its parent must exist).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(a: Args) -> Result<()> {
    // Every destination is checked (the report's staging folder made) before any layer is read.
    let staging = a.report.as_deref().map(Staging::new).transpose()?;
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
    let mut layers = Layers::open(a.layers, a.activations, a.keys, a.trajectory, a.flatten)?;
    let last = layers.len().checked_sub(1).context("no layers")?;
    let from = a.from.unwrap_or(0);
    let to = a.to.unwrap_or(last);
    if to > last || from >= to {
        return Err(BadInput::new(format!(
            "--from {from} --to {to}: the layers are numbered 0..={last}; need from < to"
        )));
    }
    let first = layers.read(from)?;
    let (n, w0) = (first.nrows(), first.ncols());
    let labels = match &a.labels {
        Some(p) => Some(read_labels(p, n)?),
        None => None,
    };
    let opts = TrackOptions {
        max_samples: a.max_samples,
        seed: a.seed,
    };
    let mut scorer =
        TrackScorer::new(first.view(), opts).with_context(|| layers.name(from).to_string())?;
    let mut sketch = staging
        .is_some()
        .then(|| Sketch::new(first.view(), to - from + 1, a.max_samples, a.seed));
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
        if let Some(sk) = &mut sketch {
            sk.push(layer.view());
        }
        bar.inc(1);
    }
    let s = scorer.finish()?;
    bar.finish_and_clear();
    let summary = json!({
        "n": s.n, "layers": s.layers, "widths": s.widths,
        "embed": if a.embed == Embed::Pad { "pad" } else { "none" },
        "from": from, "to": to,
        "lss_mean": s.lss_mean, "lss_median": s.lss_median, "lss_undefined": s.lss_undefined,
        "ots": s.ots, "ots_cost_ratio": s.ots_cost_ratio, "ots_n": s.ots_n,
        "w2_steps": s.w2_steps, "w2_end_to_end": s.w2_end_to_end,
        "geodesic_ratio": s.geodesic_ratio, "action": s.action, "action_ratio": s.action_ratio,
    });
    // Everything is computed and drawn before anything is moved into place.
    let staged = match (staging, sketch) {
        (Some(dir), Some(sk)) => {
            let sketched = sk.finish(&s)?;
            let source = (from..=to).map(|k| layers.name(k)).collect::<Vec<_>>();
            let view = View {
                s: &s,
                summary: &summary,
                from,
                to,
                source: &source,
                labels: labels.as_ref(),
                labels_file: a.labels.as_deref(),
                sketched: &sketched,
            };
            write_report(dir.path(), &view)?;
            Some(dir)
        }
        _ => None,
    };
    if let Some(out) = out {
        out.commit_bytes(per_input_csv(&s).as_bytes())?;
    }
    if let Some(dir) = staged {
        dir.commit()?;
    }
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

/// The report's folder, built in a hidden temporary folder and moved into place only when it is
/// complete: a new `DIR` is the temporary folder renamed (atomic); into an existing `DIR` each
/// file is renamed in turn, `report.html` last. A failed run leaves no trace.
struct Staging {
    dest: PathBuf,
    // Declared before `live`: the folder is removed before the interrupt handler forgets it.
    tmp: tempfile::TempDir,
    live: Live,
    fresh: bool,
}

impl Staging {
    /// Checks `dest` before any work: an existing folder, or a new name in an existing folder.
    fn new(dest: &Path) -> Result<Self> {
        let shown = dest.display();
        if dest.exists() && !dest.is_dir() {
            return Err(BadInput::new(format!(
                "--report {shown}: exists and is not a folder; --report takes a folder"
            )));
        }
        let fresh = !dest.is_dir();
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if fresh && !parent.is_dir() {
            return Err(BadInput::new(format!(
                "--report {shown}: cannot create the folder: {} does not exist",
                parent.display()
            )));
        }
        let (tmp, live) = Live::create(
            || {
                tempfile::Builder::new()
                    .prefix(".deeptransport-report-")
                    .tempdir_in(if fresh { &parent } else { dest })
            },
            |t| t.path(),
        )
        .map_err(|e| BadInput::new(format!("--report {shown}: cannot write there: {e}")))?;
        Ok(Staging {
            dest: dest.to_path_buf(),
            tmp,
            live,
            fresh,
        })
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn commit(self) -> Result<()> {
        let Staging {
            dest,
            tmp,
            live,
            fresh,
        } = self;
        // The moves run with the interrupt handler held off: it finds the staging folder whole,
        // or nothing.
        live.finish(|| Self::move_into_place(&dest, tmp, fresh))
    }

    fn move_into_place(dest: &Path, tmp: tempfile::TempDir, fresh: bool) -> Result<()> {
        let shown = dest.display().to_string();
        if fresh {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let _ =
                    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755));
            }
            let tmp = tmp.keep();
            if let Err(e) = std::fs::rename(&tmp, dest) {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e)
                    .with_context(|| format!("{shown}: cannot move the report into place"));
            }
            return Ok(());
        }
        let mut names: Vec<_> = std::fs::read_dir(tmp.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()?;
        // report.html last, so that it never links figures that are not there yet.
        names.sort_by_key(|n| (n == "report.html", n.clone()));
        for name in names {
            std::fs::rename(tmp.path().join(&name), dest.join(&name)).with_context(|| {
                format!("{shown}: cannot move {} into place", name.to_string_lossy())
            })?;
        }
        Ok(())
    }
}

/// Reads `--labels`: one label per line or a one-column CSV, blank lines skipped. The first line
/// is a header when it is not an integer and every other line is, or when the file has exactly
/// one line more than there are inputs. Integer labels are ordered numerically, names
/// alphabetically.
fn read_labels(path: &Path, n: usize) -> Result<Labels> {
    let file = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| BadInput::new(format!("--labels {file}: cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(&bytes[..]);
    let mut cells: Vec<String> = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| BadInput::new(format!("--labels {file}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if fields.len() != 1 {
            return Err(BadInput::new(format!(
                "--labels {file}: row {line}: {} columns; expected one label per row",
                fields.len()
            )));
        }
        cells.push(fields[0].to_string());
    }
    let int = |c: &String| c.parse::<i64>().ok();
    let header = cells.len() >= 2
        && ((int(&cells[0]).is_none() && cells[1..].iter().all(|c| int(c).is_some()))
            || cells.len() == n + 1);
    if header {
        cells.remove(0);
    }
    if cells.len() != n {
        return Err(BadInput::new(format!(
            "--labels {file}: {} labels but the layers hold {n} inputs; give one label per \
             input, in the layers' row order",
            cells.len()
        )));
    }
    let mut names: Vec<String> = cells.clone();
    if cells.iter().all(|c| int(c).is_some()) {
        names.sort_by_key(|c| int(c));
    } else {
        names.sort();
    }
    names.dedup();
    let class = cells
        .iter()
        .map(|c| {
            names
                .binary_search_by(|x| cmp_label(x, c))
                .expect("a listed name")
        })
        .collect();
    Ok(Labels { names, class })
}

/// The order of [`read_labels`]' names: numeric when both are integers, else by text.
fn cmp_label(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// What the report shows.
struct View<'a> {
    s: &'a TrackScores,
    summary: &'a Value,
    from: usize,
    to: usize,
    source: &'a [&'a str],
    labels: Option<&'a Labels>,
    labels_file: Option<&'a Path>,
    sketched: &'a Sketched,
}

use figs::num as fmt;

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("undefined".into(), fmt)
}

/// Draws the figures into `dir` and writes `report.html` and `summary.json` there.
fn write_report(dir: &Path, v: &View) -> Result<()> {
    let s = v.s;
    let m = s.layers - 1;
    let mut figures: Vec<(&str, report::Figure)> = Vec::new();
    // Each figure: STEM.svg + STEM.png in `dir`, the PNG embedded in the report.
    let embed = |stem: &str, caption: String| -> Result<report::Figure> {
        let png = dir.join(format!("{stem}.png"));
        Ok(report::Figure {
            png: std::fs::read(&png).with_context(|| format!("reading {}", png.display()))?,
            caption,
            svg_name: Some(format!("{stem}.svg")),
        })
    };
    let (hist, over) = figs::lss_histogram(s);
    let infinite = s.lss.iter().flatten().filter(|x| x.is_infinite()).count();
    let mut cap = format!(
        "Line-shape score LSS = m / |Σ_ℓ Δ_ℓ/|Δ_ℓ|| of each input's track (METHODS §7): 1 when \
         every step points the same way, about √m = {:.2} for steps in random directions. \
         Mean {} (red), median {} (orange); {} of {} tracks have no LSS (they do not move).",
        (m as f64).sqrt(),
        fmt_opt(s.lss_mean),
        fmt_opt(s.lss_median),
        s.lss_undefined,
        s.n
    );
    if over > 0 {
        let _ = write!(
            cap,
            " The {over} values above the 99th percentile are counted in the last bin."
        );
    }
    if infinite > 0 {
        let _ = write!(
            cap,
            " {infinite} tracks return exactly to their start (LSS = ∞) and are not shown."
        );
    }
    render(&dir.join("lss_histogram"), 900, 560, &hist)?;
    figures.push(("lss_histogram", embed("lss_histogram", cap)?));

    let w2 = figs::w2_chart(s, v.from);
    let cap = format!(
        "W₂ between the input clouds of consecutive layers (blue), their running sum (green) and \
         the end-to-end W₂(μ_I, μ_J) = {} (red, dashed), on the OT subsample of {} inputs. The \
         green curve ends at Σ_ℓ W₂ = geodesic ratio × end-to-end W₂; geodesic ratio {} (≥ 1, \
         = 1 when the layers lie on a W₂ geodesic, in order).",
        fmt(s.w2_end_to_end),
        s.ots_n,
        fmt(s.geodesic_ratio)
    );
    render(&dir.join("w2_steps"), 900, 560, &w2)?;
    figures.push(("w2_steps", embed("w2_steps", cap)?));

    let terms = &v.sketched.action_steps;
    let action = figs::action_chart(s, v.from, terms);
    let on = if v.sketched.action_on_ots_subsample {
        format!("the OT subsample of {} inputs, as the action", s.ots_n)
    } else {
        format!(
            "all {} inputs (the OT subsample could not be matched; the action in the table is \
             on the {} inputs of the OT subsample)",
            s.n, s.ots_n
        )
    };
    let cap = format!(
        "Each step's term m · mean_i |Δ_ℓ x_i|² of the discrete action A = Σ_ℓ of them = {} \
         (purple), on {on}; the dashed line W₂²(μ_I, μ_J)/m is every term's value on a \
         constant-speed W₂ geodesic. A ≥ W₂² always; the action ratio A / W₂² = {} is 1 exactly \
         on a geodesic (straight, constant-speed tracks of the OT map). Terms above the line mark \
         the layers that move the inputs more than transport needs.",
        fmt(terms.iter().sum()),
        fmt(s.action_ratio)
    );
    render(&dir.join("action_steps"), 900, 560, &action)?;
    figures.push(("action_steps", embed("action_steps", cap)?));

    let k = v.sketched.pca_tracks.len();
    if let Some(p) = &v.sketched.pca {
        let colour = match v.labels {
            Some(l) => Colour::Labels(l),
            None => Colour::Lss,
        };
        let panel = figs::pca_panel(p, &v.sketched.pca_tracks, s, colour)?;
        let how = if p.exact {
            "the exact covariance"
        } else {
            "a randomized subspace iteration (the layers are too wide for the full covariance)"
        };
        let colours = match (v.labels, v.labels_file) {
            (Some(l), Some(f)) if l.names.len() <= LEGEND_CLASSES => format!(
                "coloured by the labels of {} (legend: class and its number of shown tracks)",
                f.display()
            ),
            (Some(l), Some(f)) => format!(
                "coloured by the labels of {} ({} classes, in viridis by class order; too many \
                 for a legend)",
                f.display(),
                l.names.len()
            ),
            _ => "coloured by LSS quartile (viridis, dark = straight; grey: no LSS)".into(),
        };
        let cap = format!(
            "{k} randomly chosen tracks (seeded) from layer {} to layer {}, projected on the first \
             two principal components of all their layers pooled (zero-padded to the widest \
             layer; PCA by {how}); a dot marks each track's last layer; {colours}. Straight \
             tracks are lines of the network that move inputs along one direction; equal axes \
             units, so distances read as in the layers (up to the discarded components, {:.0} % \
             of the variance).",
            v.from,
            v.to,
            100.0 * (1.0 - p.explained[0] - p.explained[1]).max(0.0)
        );
        render(&dir.join("tracks_pca"), 900, 820, &panel)?;
        figures.push(("tracks_pca", embed("tracks_pca", cap)?));
    }

    let keys = [
        ("n", "inputs"),
        ("layers", "layers scored, m + 1"),
        ("widths", "width of each scored layer"),
        ("embed", "how different widths are compared"),
        ("from", "first scored layer"),
        ("to", "last scored layer"),
        ("lss_mean", "mean line-shape score (1 = straight tracks)"),
        ("lss_median", "median line-shape score"),
        ("lss_undefined", "tracks that do not move (no LSS)"),
        (
            "ots",
            "optimal-transport score: fraction of inputs the OT assignment fixes",
        ),
        (
            "ots_cost_ratio",
            "W₂²(μ_I, μ_J) / mean |x⁽ᴶ⁾ − x⁽ᴵ⁾|², in [0, 1]",
        ),
        ("ots_n", "inputs in the OT subsample"),
        ("w2_end_to_end", "W₂(μ_I, μ_J)"),
        ("geodesic_ratio", "Σ_ℓ W₂ per step / end-to-end W₂ (≥ 1)"),
        ("action", "A = m Σ_ℓ mean_i |Δ_ℓ x_i|²"),
        (
            "action_ratio",
            "A / W₂²(μ_I, μ_J) (≥ 1; 1 on a W₂ geodesic)",
        ),
    ];
    let cell = |val: &Value| match val {
        Value::Number(x) if x.is_f64() => fmt(x.as_f64().unwrap_or(f64::NAN)),
        Value::Array(a) => a
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(t) => t.clone(),
        Value::Null => "undefined".into(),
        other => other.to_string(),
    };
    let summary_table = Table {
        caption: "Summary (the keys of --json and summary.json)".into(),
        header: vec!["key".into(), "value".into(), "meaning".into()],
        rows: keys
            .iter()
            .map(|(key, meaning)| {
                vec![key.to_string(), cell(&v.summary[*key]), meaning.to_string()]
            })
            .collect(),
    };
    let step_table = Table {
        caption: "Per step (w2_steps, and the action's terms)".into(),
        header: vec![
            "step".into(),
            "W₂(μ_ℓ₋₁, μ_ℓ)".into(),
            "m · mean |Δ_ℓ x|²".into(),
        ],
        rows: s
            .w2_steps
            .iter()
            .zip(terms)
            .enumerate()
            .map(|(l, (w, t))| {
                vec![
                    format!("{} → {}", v.from + l, v.from + l + 1),
                    fmt(*w),
                    fmt(*t),
                ]
            })
            .collect(),
    };
    let mut sections = vec![Section {
        title: "Summary".into(),
        text: vec![format!(
            "{} inputs through layers {}..={} ({m} steps) of {}. Definitions: METHODS.md §7.",
            s.n,
            v.from,
            v.to,
            summarise_sources(v.source)
        )],
        tables: vec![summary_table, step_table],
        ..Section::default()
    }];
    let titles = [
        ("lss_histogram", "Line-shape score"),
        ("w2_steps", "W₂ per step against the end-to-end W₂"),
        ("action_steps", "Action per step"),
        ("tracks_pca", "Tracks on the first two principal components"),
    ];
    for (stem, fig) in figures {
        let title = titles
            .iter()
            .find(|(s, _)| *s == stem)
            .map_or(stem.to_string(), |(_, t)| t.to_string());
        sections.push(Section {
            title,
            figures: vec![fig],
            ..Section::default()
        });
    }
    if v.sketched.pca.is_none() {
        sections.push(Section {
            title: "Tracks on the first two principal components".into(),
            text: vec![format!(
                "Not drawn: a projection needs at least two tracks, and {k} could be kept (at \
                 most {} of the {} inputs, fewer when the layers' values for them would exceed \
                 {} MB as f32).",
                figs::PCA_TRACKS,
                s.n,
                figs::PCA_BYTES >> 20
            )],
            ..Section::default()
        });
    }
    let report = Report {
        title: format!(
            "Tracks of {} inputs through layers {}..={}",
            s.n, v.from, v.to
        ),
        intro: vec![
            "How a network moves its inputs (deeptransport tracks, seed 002): each input's \
             representations across the layers form a track; the scores say how straight the \
             tracks are (LSS) and how far the network's layer-to-layer maps are from optimal \
             transport (OTS, W₂, action)."
                .into(),
        ],
        sections,
    };
    std::fs::write(dir.join("report.html"), report.to_html()).context("writing report.html")?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(v.summary)?,
    )
    .context("writing summary.json")?;
    Ok(())
}

/// The layers' names for the report: all of them when few, else the first and last.
fn summarise_sources(names: &[&str]) -> String {
    if names.len() <= 4 {
        names.join(", ")
    } else {
        format!("{}, …, {}", names[0], names[names.len() - 1])
    }
}
