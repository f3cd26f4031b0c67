//! `tracks`: line-shape and optimal-transport scores of a network's layers (METHODS §7), streamed
//! layer by layer through the library's `TrackScorer`, with the keys of `deeptransport tracks
//! --json` and the per-input arrays.

use crate::convert::{self, bad, shape_str};
use deeptransport::tracks::{TrackOptions, TrackScorer};
use ndarray::{Array1, Array2, ArrayD, Ix2};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySequence};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tracks, m)?)?;
    Ok(())
}

/// Layer `k` as `(n, width)`: 2-D as is; more dimensions flattened per row when asked.
fn layer_2d(k: usize, a: ArrayD<f64>, flatten: bool) -> PyResult<Array2<f64>> {
    match a.ndim() {
        2 => Ok(a.into_dimensionality::<Ix2>().expect("2-D")),
        nd if nd > 2 && flatten => {
            let n = a.shape()[0];
            let w = a.len().checked_div(n).unwrap_or(0);
            Ok(a.into_shape_with_order((n, w)).expect("C order"))
        }
        nd if nd > 2 => Err(bad(format!(
            "layers[{k}] has shape {}: one row per input is expected; pass flatten=True to \
             flatten feature maps (n, C, H, W) per input",
            shape_str(a.shape())
        ))),
        _ => Err(bad(format!(
            "layers[{k}] has shape {}: each layer must be an array (n, width), one row per input",
            shape_str(a.shape())
        ))),
    }
}

/// Scores the tracks `x_i⁽ˢᵗᵃʳᵗ⁾ → … → x_i⁽ˢᵗᵒᵖ⁾` of `n` inputs: per input the line-shape score
/// `LSS_i = m_i / |Σ_ℓ Δ_ℓ x_i / |Δ_ℓ x_i||`, path length and chord; over the inputs the OTS (the
/// fraction of inputs the optimal assignment between the first and last layers keeps in place),
/// W₂ per step, the geodesic ratio and the action ratio. `layers`: a sequence of `(n, width_ℓ)`
/// arrays, input first (widths zero-padded with `embed="pad"`), or one `(T, n, d)` array.
#[pyfunction]
#[pyo3(signature = (layers, *, embed="pad", start=0, stop=None, max_samples=10_000, seed=0, flatten=false))]
#[allow(clippy::too_many_arguments)]
fn tracks<'py>(
    py: Python<'py>,
    layers: &Bound<'py, PyAny>,
    embed: &str,
    start: usize,
    stop: Option<usize>,
    max_samples: usize,
    seed: u64,
    flatten: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let pad = match embed {
        "pad" => true,
        "none" => false,
        other => {
            return Err(bad(format!(
                "embed={other:?}: expected \"pad\" (zero-pad to the widest layer) or \"none\""
            )));
        }
    };
    // A list or tuple is used as is; any other iterable (a NumPy array (T, n, d): its slices) is
    // listed first.
    let listed;
    let seq = match layers.cast::<PySequence>() {
        Ok(s) => s,
        Err(_) => {
            listed = py
                .import("builtins")?
                .getattr("list")?
                .call1((layers,))
                .map_err(|_| {
                    bad(
                        "layers must be a sequence of arrays (n, width), input first, or one \
                         array (T, n, d)",
                    )
                })?;
            listed.cast::<PySequence>()?
        }
    };
    let count = seq.len()?;
    let last = count
        .checked_sub(1)
        .ok_or_else(|| bad("layers is empty: give at least two layers"))?;
    let stop = stop.unwrap_or(last);
    if stop > last || start >= stop {
        return Err(bad(format!(
            "start={start}, stop={stop}: the layers are numbered 0..={last}; need start < stop"
        )));
    }
    if max_samples == 0 {
        return Err(bad("max_samples=0: must be at least 1"));
    }
    let read = |k: usize| -> PyResult<Array2<f64>> {
        let item = seq.get_item(k)?;
        layer_2d(
            k,
            convert::array_dyn(&format!("layers[{k}]"), &item)?,
            flatten,
        )
    };
    let first = read(start)?;
    let (n, w0) = first.dim();
    let opts = TrackOptions { max_samples, seed };
    let mut scorer = py
        .detach(move || TrackScorer::new(first.view(), opts))
        .map_err(|e| bad(format!("layers[{start}]: {e}")))?;
    for k in start + 1..=stop {
        let layer = read(k)?;
        if layer.nrows() != n {
            return Err(bad(format!(
                "layers[{k}] has {} rows but layers[{start}] has {n}: every layer must hold the \
                 same inputs in the same order",
                layer.nrows()
            )));
        }
        if !pad && layer.ncols() != w0 {
            return Err(bad(format!(
                "embed=\"none\": layers[{k}] has width {} but layers[{start}] has width {w0}",
                layer.ncols()
            )));
        }
        py.detach(|| scorer.push(layer.view()))
            .map_err(|e| bad(format!("scoring layers[{k}]: {e}")))?;
    }
    let s = py
        .detach(move || scorer.finish())
        .map_err(crate::convert::err)?;
    let d = PyDict::new(py);
    d.set_item("n", s.n)?;
    d.set_item("layers", s.layers)?;
    d.set_item("widths", s.widths.clone())?;
    d.set_item("embed", embed)?;
    d.set_item("from", start)?;
    d.set_item("to", stop)?;
    d.set_item("lss_mean", s.lss_mean)?;
    d.set_item("lss_median", s.lss_median)?;
    d.set_item("lss_undefined", s.lss_undefined)?;
    d.set_item("ots", s.ots)?;
    d.set_item("ots_cost_ratio", s.ots_cost_ratio)?;
    d.set_item("ots_n", s.ots_n)?;
    d.set_item("w2_steps", s.w2_steps.clone())?;
    d.set_item("w2_end_to_end", s.w2_end_to_end)?;
    d.set_item("geodesic_ratio", s.geodesic_ratio)?;
    d.set_item("action", s.action)?;
    d.set_item("action_ratio", s.action_ratio)?;
    let lss: Array1<f64> = s.lss.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    let fixed: Array1<f64> = s
        .fixed_point
        .iter()
        .map(|v| v.map_or(f64::NAN, |f| if f { 1.0 } else { 0.0 }))
        .collect();
    d.set_item("lss", lss.into_pyarray(py))?;
    d.set_item("path_length", Array1::from(s.path_length).into_pyarray(py))?;
    d.set_item("chord", Array1::from(s.chord).into_pyarray(py))?;
    d.set_item("fixed_point", fixed.into_pyarray(py))?;
    Ok(d)
}
