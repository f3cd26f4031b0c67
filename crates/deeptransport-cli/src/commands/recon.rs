//! `deeptransport recon`: what an autoencoder loses (METHODS §9, library `topology`) — the
//! reconstruction-error field of a user's inputs and reconstructions, the measure of its
//! exceptional sets, and the homology of the data, the reconstructions and the codes.

use crate::io::{self, Output};
use crate::progress;
use crate::{BadInput, Common, limits};
use anyhow::Result;
use deeptransport::kernel::farthest::farthest_points;
use deeptransport::topology::{self, error_field::QUANTILE_LEVELS};
use ndarray::{Array2, Axis};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Persistence that makes a class count in `betti_*`: this fraction of the cloud's diameter.
const BETTI_FRACTION: f64 = 0.1;

/// Clouds larger than this are refused by --max-samples (their distance matrix: 8·M² bytes).
const MAX_HOMOLOGY_SAMPLES: usize = 20_000;

/// The reconstruction errors e_i = |x̂_i − x_i| of an autoencoder on its inputs: their maximum,
/// mean, RMS and quantiles, and for each ε the fraction of inputs with e_i ≥ ε (the measure of
/// the exceptional set, where the autoencoder is allowed to fail). With --homology, the Betti
/// numbers b₀, b₁ of the inputs, the reconstructions and the codes: the classes of each
/// Vietoris–Rips filtration whose persistence exceeds 10 % of that cloud's diameter. A latent
/// space that has cut a loop of the data shows a smaller b₁ than the inputs.
///
/// Row i of every file belongs to input i. Homology uses at most --max-samples rows, the same
/// rows in every cloud: max–min landmarks of the inputs (a δ-net that keeps every feature
/// larger than 2δ; δ is reported as `homology_delta`).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    deeptransport recon --input x.npy --recon xhat.npy --eps 0.1,0.5 --json\n  \
    deeptransport recon --input x.csv --recon xhat.csv --latent z.csv --homology --out errors.csv")]
pub struct Args {
    /// The inputs X (CSV or NPY, one per row).
    #[arg(long, value_name = "X")]
    input: PathBuf,
    /// The reconstructions X̂, row i of X̂ reconstructing row i of X (same width as X).
    #[arg(long, value_name = "XHAT")]
    recon: PathBuf,
    /// The codes Z, row i encoding row i of X (any width).
    #[arg(long, value_name = "Z")]
    latent: Option<PathBuf>,
    /// Thresholds ε for the exceptional fraction #{e_i ≥ ε}/n (comma list, each ≥ 0).
    #[arg(
        long,
        value_name = "E1,E2,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    eps: Vec<f64>,
    /// Betti numbers b₀, b₁ of the inputs, reconstructions and codes (persistent homology).
    #[arg(long)]
    homology: bool,
    /// Rows used by --homology (max–min landmarks when there are more).
    #[arg(long, value_name = "M", default_value_t = 2000, requires = "homology",
          allow_negative_numbers = true, value_parser = limits::count::<1, usize>)]
    max_samples: usize,
    /// Write the per-row errors here (.csv with the header `error`, or .npy of shape (n,)).
    #[arg(long, value_name = "ERRORS.csv")]
    out: Option<PathBuf>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    if let Some(e) = a.eps.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
        return Err(BadInput::new(format!(
            "--eps {e:?}: every threshold must be a finite number ≥ 0"
        )));
    }
    if a.homology && a.max_samples > MAX_HOMOLOGY_SAMPLES {
        return Err(BadInput::new(format!(
            "--max-samples {}: must lie in 1..={MAX_HOMOLOGY_SAMPLES} (the distance matrix of M \
             rows takes 8·M² bytes)",
            a.max_samples
        )));
    }
    let out = a.out.as_deref().map(Output::create).transpose()?;

    let x = io::read_points(&a.input)?;
    let xhat = io::read_points(&a.recon)?;
    let z = a.latent.as_deref().map(io::read_points).transpose()?;
    check_rows(&a.input, &x, &a.recon, &xhat)?;
    if let (Some(p), Some(z)) = (&a.latent, &z) {
        check_rows(&a.input, &x, p, z)?;
    }
    if x.ncols() != xhat.ncols() {
        return Err(BadInput::new(format!(
            "{}: {} columns, but the inputs {} have {}: a reconstruction has the inputs' width",
            a.recon.display(),
            xhat.ncols(),
            a.input.display(),
            x.ncols()
        )));
    }
    let (n, d) = x.dim();
    let input = a.input.display().to_string();
    let recon = a.recon.display().to_string();
    let e = topology::errors(x.view(), xhat.view(), &input, &recon)?;
    let s = topology::summarize(&e);

    let mut summary = serde_json::Map::new();
    summary.insert("n".into(), n.into());
    summary.insert("dim".into(), d.into());
    summary.insert("latent_dim".into(), json!(z.as_ref().map(|z| z.ncols())));
    summary.insert("error_max".into(), s.max.into());
    summary.insert("error_mean".into(), s.mean.into());
    summary.insert("error_rms".into(), s.rms.into());
    summary.insert(
        "error_quantiles".into(),
        Value::Object(
            QUANTILE_LEVELS
                .iter()
                .zip(s.quantiles)
                .map(|(q, v)| (q.to_string(), json!(v)))
                .collect(),
        ),
    );
    let fractions: Vec<f64> = a
        .eps
        .iter()
        .map(|&eps| topology::exceptional_fraction(&e, eps))
        .collect();
    summary.insert("eps".into(), json!(a.eps));
    summary.insert("exceptional_fraction".into(), json!(fractions));

    if a.homology {
        // Persistence peaks at about 2.4 × the 8·M²-byte distance matrix (topology::persistence).
        let m = a.max_samples.min(n) as f64;
        limits::check_memory(
            2.4 * 8.0 * m * m,
            &format!(
                "--max-samples {}: persistent homology of {m} rows",
                a.max_samples
            ),
            "lower --max-samples",
        )?;
        let (rows, radii) = farthest_points(x.view(), a.max_samples);
        let delta = radii.last().copied().unwrap_or(0.0);
        let diameter =
            deeptransport::topology::persistence::diameter(x.select(Axis(0), &rows).view());
        if 2.0 * delta > BETTI_FRACTION * diameter && !a.common.quiet {
            progress::note(&format!(
                "note: {input}: the {} landmarks leave gaps up to 2δ = {:.3e}, more than 10 % of \
                 the diameter ({diameter:.3e}): sampling gaps may count as classes; raise \
                 --max-samples",
                rows.len(),
                2.0 * delta
            ));
        }
        let spinner = progress::spinner(
            // Persistence of M points: about M³/6 triangle visits at worst, far fewer in practice.
            (rows.len() as f64).powi(3) / 6.0,
            a.common.quiet,
            format!("persistent homology of {} rows", rows.len()),
        );
        let betti = |cloud: &Array2<f64>, name: &str| -> Result<Value> {
            let sub = cloud.select(Axis(0), &rows);
            let b = topology::betti(sub.view(), BETTI_FRACTION)
                .map_err(|e| anyhow::Error::new(e).context(name.to_string()))?;
            Ok(json!(b))
        };
        summary.insert("betti_input".into(), betti(&x, &input)?);
        summary.insert("betti_recon".into(), betti(&xhat, &recon)?);
        let latent = match (&z, &a.latent) {
            (Some(z), Some(p)) => betti(z, &p.display().to_string())?,
            _ => Value::Null,
        };
        summary.insert("betti_latent".into(), latent);
        summary.insert("homology_n".into(), rows.len().into());
        summary.insert("homology_delta".into(), delta.into());
        drop(spinner);
    }
    if let Some(out) = out {
        out.commit_vector(&e, "error")?;
    }
    if a.json {
        outln!("{}", Value::Object(summary));
    } else {
        outln!(
            "{n} inputs in dimension {d}: reconstruction error max {:.6e}, mean {:.6e}, rms \
             {:.6e}, median {:.6e}, 99 % {:.6e}",
            s.max,
            s.mean,
            s.rms,
            s.quantiles[0],
            s.quantiles[2]
        );
        for (eps, f) in a.eps.iter().zip(&fractions) {
            outln!("  P(error ≥ {eps}) = {f}");
        }
        if a.homology {
            outln!(
                "  Betti numbers [b0, b1] (persistence > 10 % of the diameter, {} rows): inputs \
                 {}, reconstructions {}, codes {}",
                summary["homology_n"],
                summary["betti_input"],
                summary["betti_recon"],
                summary["betti_latent"]
            );
        }
        if let Some(p) = &a.out {
            outln!("  per-row errors written to {}", p.display());
        }
    }
    Ok(())
}

/// Row i of every file is input i: a count mismatch names both files.
fn check_rows(xp: &Path, x: &Array2<f64>, op: &Path, other: &Array2<f64>) -> Result<()> {
    if x.nrows() != other.nrows() {
        return Err(BadInput::new(format!(
            "{} has {} rows but {} has {}: row i of every file must belong to input i",
            op.display(),
            other.nrows(),
            xp.display(),
            x.nrows()
        )));
    }
    Ok(())
}
