//! The seeds' experiments, one file each: a function from [`Options`] to an [`Outcome`] — the
//! rows and claims of `summary.json`, an HTML report and the figures it embeds (written into the
//! options' folder). `deeptransport experiment NAME` runs one; `demo` composes their quick forms.

pub mod aeot;
pub mod dae_training;
pub mod data;
pub mod geodesic;
pub mod topology;

use crate::figures::plot::{Figure as Plot, render};
use crate::io::Output;
use crate::report::{Figure, Provenance, Report, Section};
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What every experiment is given.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder its report, summary and figures go to (created by the caller).
    pub out: PathBuf,
    /// Seed of every sample, initialisation and shuffle.
    pub seed: u64,
    /// The reduced version (under a minute on 2 cores).
    pub quick: bool,
    /// No progress bar.
    pub quiet: bool,
    /// Version, commit, command line and start time, for the report and `summary.json`.
    pub provenance: Provenance,
}

/// An experiment's result: its report (sections with claims, tables and figures), the rows of its
/// summary, and any further summary keys.
pub struct Outcome {
    /// The contract's name (`dae-training`, …).
    pub name: &'static str,
    /// The report; its sections' claims are the summary's `claims`.
    pub report: Report,
    /// One object per configuration (keys fixed by the contract for each experiment).
    pub rows: Vec<Value>,
    /// Further summary keys.
    pub extra: serde_json::Map<String, Value>,
}

impl Outcome {
    /// Whether every claim held.
    pub fn all_hold(&self) -> bool {
        claims(&self.report.sections).all(|c| c.holds)
    }

    /// The summary: `experiment`, `seed`, `quick`, `claims` (`{claim, holds, evidence}`), `rows`,
    /// then the extra keys and `provenance` (`{version, commit, command, date}`: the one key
    /// that differs between two runs of the same seed).
    pub fn summary(&self, o: &Options) -> Value {
        let mut s = serde_json::Map::new();
        s.insert("experiment".into(), json!(self.name));
        s.insert("seed".into(), json!(o.seed));
        s.insert("quick".into(), json!(o.quick));
        s.insert(
            "claims".into(),
            claims(&self.report.sections)
                .map(|c| json!({"claim": c.paper, "holds": c.holds, "evidence": c.measured}))
                .collect(),
        );
        s.insert("rows".into(), Value::Array(self.rows.clone()));
        s.insert("all_claims_hold".into(), json!(self.all_hold()));
        s.extend(self.extra.clone());
        s.insert("provenance".into(), o.provenance.to_json());
        Value::Object(s)
    }

    /// Writes `report.html` and `summary.json` into `o.out` (each atomically).
    pub fn write(&self, o: &Options) -> Result<Value> {
        let summary = self.summary(o);
        let html = self.report.to_html_with(Some(&o.provenance));
        write_file(&o.out, "report.html", html.as_bytes())?;
        write_file(
            &o.out,
            "summary.json",
            serde_json::to_string_pretty(&summary)?.as_bytes(),
        )?;
        Ok(summary)
    }
}

fn claims(sections: &[Section]) -> impl Iterator<Item = &crate::report::Claim> {
    sections.iter().flat_map(|s| &s.claims)
}

/// Writes `bytes` to `dir/name` through a temporary file renamed into place.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    Output::file(&dir.join(name))?
        .commit_bytes(bytes)
        .with_context(|| format!("writing {name}"))
}

/// Checks every file a command will write before it does any work, so that a destination it
/// cannot write (a folder of that name, a folder that is missing, not a folder or not writable)
/// is bad input (exit 2) with nothing written, not a failure after minutes of work. Each check is
/// the one [`Output`] makes when it opens its temporary file, which is dropped (and so removed)
/// at once. The folders must already exist: create them first.
pub fn check_destinations(paths: &[PathBuf]) -> Result<()> {
    for p in paths {
        drop(Output::file(p)?);
    }
    Ok(())
}

/// The files of a figure with its numbers: `STEM.csv`, `STEM.svg`, `STEM.png`.
pub(crate) fn figure_files(stem: &str) -> [String; 3] {
    ["csv", "svg", "png"].map(|e| format!("{stem}.{e}"))
}

/// The files every experiment writes besides its own (see each module's `outputs`).
pub const REPORT_FILES: [&str; 2] = ["report.html", "summary.json"];

/// A ChaCha8 stream of its own for each use, so that adding a configuration changes no other
/// configuration's numbers.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// A figure written into the output folder, as a report figure.
pub(crate) fn embed(
    o: &Options,
    stem: &str,
    plot: &Plot,
    size: (u32, u32),
    caption: String,
) -> Result<Figure> {
    let rendered = render(&o.out.join(stem), size.0, size.1, plot)?;
    Ok(Figure {
        png: std::fs::read(&rendered.png)
            .with_context(|| format!("reading {}", rendered.png.display()))?,
        caption,
        svg_name: Some(format!("{stem}.svg")),
    })
}
