//! `deeptransport sdot`: semi-discrete optimal transport from the cube or the normal source to a
//! user's target points, and generation through the OT map or the AE-OT extended map
//! (METHODS §8, library `sdot`).

use crate::io::{self, Output};
use crate::progress::{self, note};
use crate::{BadInput, Common, limits};
use anyhow::Result;
use deeptransport::sdot::{self, Method, SdotOptions, Source, extended};
use std::path::PathBuf;

/// The source measure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceArg {
    /// Uniform on the cube [−½, ½]ᵈ.
    Cube,
    /// The standard normal N(0, I).
    Normal,
}

/// The solver.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodArg {
    /// Exact cells where the source allows it (d = 1; d = 2 with the cube), else adam.
    Auto,
    /// Exact cells: closed form in d = 1, polygons and damped Newton in d = 2 (cube).
    Newton,
    /// Quasi-Monte-Carlo cell masses and Adam, any dimension (≤ 1000).
    Adam,
}

/// Semi-discrete optimal transport from a source measure (uniform on the cube [−½, ½]ᵈ, or
/// N(0, I)) to the target points Y with weights ν: writes the potential h (mean zero) whose power
/// cells W_i = {x : ⟨x, y_i⟩ + h_i ≥ ⟨x, y_j⟩ + h_j ∀j} have μ(W_i) = ν_i to the relative tolerance
/// --tol. The OT map sends x to the target of its cell.
///
/// Duplicate target rows are merged (their weights summed; both rows get the same h), with a
/// note on stderr. --generate M draws M seeded source points and writes their images: with
/// --max-angle 0 (default) target rows only; with a positive angle, points within half a typical
/// cell width of a boundary between cells whose supporting planes meet at a dihedral angle below
/// RAD are interpolated between the two targets (the AE-OT extended map), never across a larger
/// angle.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    deeptransport sdot --target codes.npy --potential h.npy --json\n  \
    deeptransport sdot --target y2d.csv --method newton --tol 1e-10 --potential h.npy\n  \
    deeptransport sdot --target latents.npy --source normal --potential h.npy --generate 10000 \
    --max-angle 0.5 --out generated.npy")]
pub struct Args {
    /// Target points Y (CSV or NPY, one point per row).
    #[arg(long, value_name = "Y")]
    target: PathBuf,
    /// One positive weight per target row (CSV column or NPY); default uniform; normalised.
    #[arg(long, value_name = "W")]
    target_weights: Option<PathBuf>,
    /// The source measure.
    #[arg(long, value_enum, default_value = "cube")]
    source: SourceArg,
    /// The solver.
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// Relative mass tolerance max_i |μ(W_i) − ν_i|/ν_i, in (0, 1).
    #[arg(
        long,
        value_name = "TOL",
        default_value_t = 1e-3,
        allow_negative_numbers = true
    )]
    tol: f64,
    /// Iteration limit (Adam steps; Newton steps, at most 1000).
    #[arg(long, value_name = "K", default_value_t = 20_000, allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    max_iter: usize,
    /// Seed of the QMC shift and of the generated source points.
    #[arg(long, value_name = "S", default_value_t = 0, allow_negative_numbers = true,
          value_parser = limits::count::<0, u64>)]
    seed: u64,
    /// Write the potential h here (.npy of shape (n,), or .csv with the header `h`).
    #[arg(long, value_name = "H.npy")]
    potential: PathBuf,
    /// Generate M points from M seeded source samples (needs --out).
    #[arg(long, value_name = "M", requires = "out", allow_negative_numbers = true,
          value_parser = limits::count::<1, usize>)]
    generate: Option<usize>,
    /// Interpolate across boundaries whose dihedral angle is below RAD (radians; 0: none).
    #[arg(
        long,
        value_name = "RAD",
        default_value_t = 0.0,
        allow_negative_numbers = true,
        requires = "generate"
    )]
    max_angle: f64,
    /// Where the generated points go (.csv or .npy, M × d).
    #[arg(long, value_name = "GEN", requires = "generate")]
    out: Option<PathBuf>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    // Flags and destinations first: nothing is read or computed for a run that cannot finish.
    if !(a.tol > 0.0 && a.tol < 1.0) {
        return Err(BadInput::new(format!(
            "--tol {:?}: the relative mass tolerance must lie in (0, 1)",
            a.tol
        )));
    }
    if !(a.max_angle.is_finite() && a.max_angle >= 0.0) {
        return Err(BadInput::new(format!(
            "--max-angle {:?}: must be a finite number of radians ≥ 0",
            a.max_angle
        )));
    }
    let potential_out = Output::create(&a.potential)?;
    let generated_out = a.out.as_deref().map(Output::create).transpose()?;

    let y = io::read_points(&a.target)?;
    let (n_input, d) = y.dim();
    if let Some(m) = a.generate {
        // The source sample, the images and their interpolation weights: three M × d arrays.
        limits::check_memory(
            3.0 * 8.0 * m as f64 * d as f64,
            &format!("--generate {m}: {m} points in dimension {d}"),
            "lower --generate (and run several seeds for more points)",
        )?;
    }
    let w = a
        .target_weights
        .as_ref()
        .map(|p| io::read_weights(p, n_input))
        .transpose()?;
    let source = match a.source {
        SourceArg::Cube => Source::Cube,
        SourceArg::Normal => Source::Normal,
    };
    let opts = SdotOptions {
        method: match a.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Newton => Method::Newton,
            MethodArg::Adam => Method::Adam,
        },
        tol: a.tol,
        max_iter: a.max_iter,
        seed: a.seed,
    };
    let target = a.target.display().to_string();
    let spinner = progress::spinner(
        // Roughly: QMC steps touch every sample's candidates; a few full scans.
        1e3 * n_input as f64 * d as f64 * 100.0,
        a.common.quiet,
        format!("semi-discrete OT to {n_input} targets in dimension {d}"),
    );
    let s = sdot::solve(y.view(), w.as_ref().map(|w| w.view()), source, &opts)
        .map_err(|e| anyhow::Error::new(e).context(target.clone()))?;
    drop(spinner);
    let merged = n_input - s.targets.nrows();
    if merged > 0 && !a.common.quiet {
        note(&format!(
            "note: {target}: {merged} duplicate target rows merged into their first occurrence \
             (weights summed; duplicates share one potential value)"
        ));
    }
    if !s.converged {
        note(&format!(
            "warning: {target}: stopped after {} iterations with max relative mass error {:e} \
             (target {:e}); raise --max-iter or --tol",
            s.iterations, s.max_mass_error, a.tol
        ));
    }
    let h: Vec<f64> = s.merged_index.iter().map(|&i| s.h[i]).collect();

    let mut summary = serde_json::Map::new();
    summary.insert("n_target".into(), n_input.into());
    summary.insert("distinct_targets".into(), s.targets.nrows().into());
    summary.insert("dim".into(), d.into());
    summary.insert("source".into(), source.name().into());
    summary.insert(
        "method".into(),
        match s.method {
            Method::Adam => "adam",
            _ => "newton",
        }
        .into(),
    );
    summary.insert("iterations".into(), s.iterations.into());
    summary.insert("converged".into(), s.converged.into());
    summary.insert("max_mass_error".into(), s.max_mass_error.into());
    summary.insert("empty_cells".into(), s.empty_cells.into());
    summary.insert("transport_cost".into(), s.transport_cost.into());
    summary.insert("samples".into(), s.samples.into());
    let generated = match a.generate {
        Some(m) => {
            let g = extended::generate(&s, m, a.max_angle, a.seed)
                .map_err(|e| anyhow::Error::new(e).context(target.clone()))?;
            summary.insert("generated".into(), m.into());
            summary.insert("max_angle".into(), a.max_angle.into());
            summary.insert(
                "interpolated_fraction".into(),
                g.interpolated_fraction().into(),
            );
            Some(g)
        }
        None => None,
    };
    potential_out.commit_vector(&h, "h")?;
    if let (Some(out), Some(g)) = (generated_out, &generated) {
        out.commit_points(&g.points)?;
    }
    if a.json {
        outln!("{}", serde_json::Value::Object(summary));
    } else {
        outln!(
            "h written to {} ({n_input} targets in d = {d}, source {}, {}: {} iterations, max \
             relative mass error {:.2e}, {} empty cells, transport cost {:?}{})",
            a.potential.display(),
            source.name(),
            if s.method == Method::Adam {
                "QMC + Adam"
            } else {
                "exact cells"
            },
            s.iterations,
            s.max_mass_error,
            s.empty_cells,
            s.transport_cost,
            match (&generated, &a.out) {
                (Some(g), Some(p)) => format!(
                    "; {} points generated into {}, {:.1} % interpolated",
                    g.points.nrows(),
                    p.display(),
                    100.0 * g.interpolated_fraction()
                ),
                _ => String::new(),
            }
        );
    }
    Ok(())
}
