//! `deeptransport experiment NAME`: one of the seeds' experiments, reproduced (module
//! `experiments`, one file each).

use crate::Common;
use crate::experiments::{self, Options, Outcome, REPORT_FILES, check_destinations};
use crate::report::Provenance;
use anyhow::Result;
use std::path::PathBuf;

/// The seeds' experiments (the contract's names).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Name {
    /// Trained DAEs against the optimal DAE Φ_t, and stacked DAEs (seed 001, Sections 2–3).
    DaeTraining,
    /// ResNets against plain nets trained with weight decay: line-shape and optimal transport
    /// scores of their tracks (seed 002).
    Geodesic,
    /// Semi-discrete OT generators (the OT map, the AE-OT extended map) against a continuous one:
    /// mode coverage and mode mixture on 2-D mixtures, AE-OT on the digits (seed 003).
    Aeot,
    /// What an autoencoder must lose on a circle, two linked circles, a sphere and a torus: the
    /// reach bound on its supremum error, exceptional sets, and the homology of its codes
    /// (seed 004).
    Topology,
}

impl Name {
    /// The contract's name.
    pub fn label(self) -> &'static str {
        match self {
            Name::DaeTraining => "dae-training",
            Name::Geodesic => "geodesic",
            Name::Aeot => "aeot",
            Name::Topology => "topology",
        }
    }

    /// Every file the experiment writes into its folder (names relative to it).
    pub fn outputs(self, quick: bool) -> Vec<String> {
        let own = match self {
            Name::DaeTraining => experiments::dae_training::outputs(quick),
            Name::Geodesic => experiments::geodesic::outputs(quick),
            Name::Aeot => experiments::aeot::outputs(quick),
            Name::Topology => experiments::topology::outputs(quick),
        };
        REPORT_FILES
            .iter()
            .map(|s| s.to_string())
            .chain(own)
            .collect()
    }

    fn run(self, o: &Options) -> Result<Outcome> {
        match self {
            Name::DaeTraining => experiments::dae_training::run(o),
            Name::Geodesic => experiments::geodesic::run(o),
            Name::Aeot => experiments::aeot::run(o),
            Name::Topology => experiments::topology::run(o),
        }
    }
}

/// Reproduce one of the seeds' experiments: train the networks it needs on built-in data, write
/// DIR/report.html, DIR/summary.json and the figures. Exit 1 when a claim does not hold.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  deeptransport experiment dae-training --quick --out dae-run --json"
)]
pub struct Args {
    /// Which experiment.
    #[arg(value_enum)]
    name: Name,
    /// Output folder (created if missing; default ./deeptransport-NAME).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Seed of every sample, initialisation and shuffle.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// The reduced version (under a minute).
    #[arg(long)]
    quick: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Creates `name`'s output folder `out` and checks every file it will write there (exit 2 before
/// any work when one cannot be written).
pub fn prepare(name: Name, out: &std::path::Path, quick: bool) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| {
        crate::BadInput::new(format!("{}: cannot create folder: {e}", out.display()))
    })?;
    let files: Vec<PathBuf> = name.outputs(quick).iter().map(|f| out.join(f)).collect();
    check_destinations(&files)
}

/// Runs `name` into `out` and returns its summary; prints nothing.
pub fn run_into(
    name: Name,
    out: PathBuf,
    seed: u64,
    quick: bool,
    quiet: bool,
    provenance: &Provenance,
) -> Result<(Outcome, serde_json::Value)> {
    prepare(name, &out, quick)?;
    crate::figures::plot::init_font()?;
    let o = Options {
        out,
        seed,
        quick,
        quiet,
        provenance: provenance.clone(),
    };
    let outcome = name.run(&o)?;
    let summary = outcome.write(&o)?;
    Ok((outcome, summary))
}

pub fn run(a: Args) -> Result<()> {
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("deeptransport-{}", a.name.label())));
    let provenance = Provenance::current();
    let (outcome, summary) = run_into(
        a.name,
        out.clone(),
        a.seed,
        a.quick,
        a.common.quiet,
        &provenance,
    )?;
    if a.json {
        outln!("{summary}");
    } else {
        outln!("{}", outcome.report.title);
        for s in &outcome.report.sections {
            for c in &s.claims {
                outln!("  {} {}", if c.holds { "ok  " } else { "FAIL" }, c.paper);
                outln!("       {}", c.measured);
            }
        }
        outln!(
            "  wrote {0}/report.html and {0}/summary.json",
            out.display()
        );
    }
    if !outcome.all_hold() {
        anyhow::bail!(
            "experiment {}: a claim did not hold (see {}/report.html)",
            a.name.label(),
            out.display()
        );
    }
    Ok(())
}
