//! `recon`: what an autoencoder loses (METHODS §9, library `topology`) — the reconstruction-error
//! field, the measure of its exceptional sets, and the Betti numbers of the inputs, the
//! reconstructions and the codes, with the keys of `deeptransport recon --json`.

use crate::convert::{self, bad, err};
use deeptransport::kernel::farthest::farthest_points;
use deeptransport::topology::{self, error_field::QUANTILE_LEVELS};
use ndarray::{Array1, Array2, Axis};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(recon, m)?)?;
    Ok(())
}

/// Persistence that makes a class count in `betti_*`: this fraction of the cloud's diameter
/// (the command's constant).
const BETTI_FRACTION: f64 = 0.1;

/// Clouds larger than this are refused by `max_samples` (their distance matrix: 8·M² bytes).
const MAX_HOMOLOGY_SAMPLES: usize = 20_000;

/// The reconstruction errors `e_i = |x̂_i − x_i|`, their maximum, mean, RMS and quantiles, and
/// for each ε the fraction `#{e_i ≥ ε}/n` (the measure of the exceptional set). With
/// `homology=True`, the Betti numbers `[b₀, b₁]` of the inputs, the reconstructions and the codes:
/// the Vietoris–Rips classes whose persistence exceeds 10 % of the cloud's diameter, on at most
/// `max_samples` max–min landmarks of the inputs (the same rows in every cloud).
#[pyfunction]
#[pyo3(signature = (x, xhat, latent=None, *, eps=Vec::new(), homology=false, max_samples=2000))]
fn recon<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    xhat: &Bound<'py, PyAny>,
    latent: Option<&Bound<'py, PyAny>>,
    eps: Vec<f64>,
    homology: bool,
    max_samples: usize,
) -> PyResult<Bound<'py, PyDict>> {
    if let Some(e) = eps.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
        return Err(bad(format!(
            "eps contains {e:?}: every threshold must be a finite number ≥ 0"
        )));
    }
    if homology && !(1..=MAX_HOMOLOGY_SAMPLES).contains(&max_samples) {
        return Err(bad(format!(
            "max_samples={max_samples}: must lie in 1..={MAX_HOMOLOGY_SAMPLES} (the distance \
             matrix of M rows takes 8·M² bytes)"
        )));
    }
    let x = convert::points("x", x)?;
    let xhat = convert::points("xhat", xhat)?;
    let z = convert::points_opt("latent", latent)?;
    if let Some(z) = &z
        && z.nrows() != x.nrows()
    {
        return Err(bad(format!(
            "latent has {} rows but x has {}: row i of every array must belong to input i",
            z.nrows(),
            x.nrows()
        )));
    }
    let (n, d) = x.dim();
    let latent_dim = z.as_ref().map(|z| z.ncols());
    let out = py
        .detach(move || -> Result<_, deeptransport::Error> {
            let e = topology::errors(x.view(), xhat.view(), "x", "xhat")?;
            let s = topology::summarize(&e);
            let fractions: Vec<f64> = eps
                .iter()
                .map(|&v| topology::exceptional_fraction(&e, v))
                .collect();
            let hom = if homology {
                let (rows, radii) = farthest_points(x.view(), max_samples);
                let delta = radii.last().copied().unwrap_or(0.0);
                let diameter = topology::persistence::diameter(x.select(Axis(0), &rows).view());
                // As the command notes it: gaps between landmarks may count as classes.
                let note = (2.0 * delta > BETTI_FRACTION * diameter).then(|| {
                    format!(
                        "the {} landmarks leave gaps up to 2δ = {:.3e}, more than 10 % of the \
                         diameter ({diameter:.3e}): sampling gaps may count as classes; raise \
                         max_samples",
                        rows.len(),
                        2.0 * delta
                    )
                });
                let betti = |cloud: &Array2<f64>| {
                    topology::betti(cloud.select(Axis(0), &rows).view(), BETTI_FRACTION)
                };
                let bx = betti(&x)?;
                let bxh = betti(&xhat)?;
                let bz = z.as_ref().map(betti).transpose()?;
                Some((bx, bxh, bz, rows.len(), delta, note))
            } else {
                None
            };
            Ok((e, s, eps, fractions, hom))
        })
        .map_err(err)?;
    let (e, s, eps, fractions, hom) = out;
    let summary = PyDict::new(py);
    summary.set_item("n", n)?;
    summary.set_item("dim", d)?;
    summary.set_item("latent_dim", latent_dim)?;
    summary.set_item("error_max", s.max)?;
    summary.set_item("error_mean", s.mean)?;
    summary.set_item("error_rms", s.rms)?;
    let q = PyDict::new(py);
    for (level, v) in QUANTILE_LEVELS.iter().zip(s.quantiles) {
        q.set_item(level.to_string(), v)?;
    }
    summary.set_item("error_quantiles", q)?;
    summary.set_item("eps", eps)?;
    summary.set_item("exceptional_fraction", fractions)?;
    if let Some((bx, bxh, bz, rows, delta, note)) = hom {
        if let Some(note) = note {
            summary.set_item("_note", note)?;
        }
        summary.set_item("betti_input", bx.to_vec())?;
        summary.set_item("betti_recon", bxh.to_vec())?;
        summary.set_item("betti_latent", bz.map(|b| b.to_vec()))?;
        summary.set_item("homology_n", rows)?;
        summary.set_item("homology_delta", delta)?;
    }
    summary.set_item("errors", Array1::from(e).into_pyarray(py))?;
    Ok(summary)
}
