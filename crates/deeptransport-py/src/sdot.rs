//! `sdot`: semi-discrete optimal transport from the cube `[−½, ½]ᵈ` or `N(0, I)` to a user's
//! points (METHODS §8), and generation through the OT map or the AE-OT extended map.

use crate::convert::{self, bad, err};
use deeptransport::sdot::{self, Method, Sdot, SdotOptions, Source, extended};
use ndarray::Array1;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SdotSolution>()?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    Ok(())
}

/// A solved semi-discrete problem, kept in Rust so that `generate` reuses it.
#[pyclass(frozen, name = "_Sdot", module = "deeptransport._core")]
pub(crate) struct SdotSolution(Sdot);

/// Generated points above this many bytes are refused before any work (as the command does).
const MAX_GENERATED_BYTES: f64 = 8e9;

#[pymethods]
impl SdotSolution {
    /// `m` points from `m` seeded source samples: each sample's cell target (`max_angle = 0`), or
    /// with a positive angle the AE-OT extended map (interpolation across cell boundaries whose
    /// dihedral angle is below `max_angle` radians). Returns `(points, interpolated_fraction)`.
    #[pyo3(signature = (m, max_angle=0.0, seed=0))]
    fn generate<'py>(
        &self,
        py: Python<'py>,
        m: usize,
        max_angle: f64,
        seed: u64,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, f64)> {
        if m == 0 {
            return Err(bad("m=0: generate at least one point"));
        }
        let d = self.0.targets.ncols();
        let bytes = 3.0 * 8.0 * m as f64 * d as f64;
        if bytes > MAX_GENERATED_BYTES {
            return Err(bad(format!(
                "m={m}: {m} points in dimension {d} would need about {:.1} GB; generate at most \
                 {} points per call",
                bytes / 1e9,
                (MAX_GENERATED_BYTES / (24.0 * d as f64)) as u64
            )));
        }
        let g = py
            .detach(|| extended::generate(&self.0, m, max_angle, seed))
            .map_err(err)?;
        let frac = g.interpolated_fraction();
        Ok((g.points.into_pyarray(py), frac))
    }
}

/// Solves for the potential `h` (mean zero) whose power cells
/// `W_i = {x : ⟨x, y_i⟩ + h_i ≥ ⟨x, y_j⟩ + h_j ∀j}` have source mass `μ(W_i) = ν_i` to the
/// relative tolerance `tol`. Returns the solution, the `--json` summary of `deeptransport sdot`
/// and `h` per input row (duplicate rows share their merged target's value).
#[pyfunction]
#[pyo3(name = "_sdot", signature = (target, *, weights=None, source="cube", tol=1e-3, method="auto", max_iter=20_000, seed=0))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn solve<'py>(
    py: Python<'py>,
    target: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    source: &str,
    tol: f64,
    method: &str,
    max_iter: usize,
    seed: u64,
) -> PyResult<(SdotSolution, Bound<'py, PyDict>, Bound<'py, PyArray1<f64>>)> {
    if !(tol > 0.0 && tol < 1.0) {
        return Err(bad(format!(
            "tol={tol:?}: the relative mass tolerance must lie in (0, 1)"
        )));
    }
    if max_iter == 0 {
        return Err(bad("max_iter=0: must be at least 1"));
    }
    let source = match source {
        "cube" => Source::Cube,
        "normal" => Source::Normal,
        other => {
            return Err(bad(format!(
                "source={other:?}: expected \"cube\" (uniform on [−½, ½]ᵈ) or \"normal\""
            )));
        }
    };
    let method = match method {
        "auto" => Method::Auto,
        "newton" => Method::Newton,
        "adam" => Method::Adam,
        other => {
            return Err(bad(format!(
                "method={other:?}: expected \"auto\", \"newton\" or \"adam\""
            )));
        }
    };
    let y = convert::points("target", target)?;
    let w = convert::vector_opt("weights", weights)?;
    let n_input = y.nrows();
    let d = y.ncols();
    let opts = SdotOptions {
        method,
        tol,
        max_iter,
        seed,
    };
    let s = py
        .detach(move || sdot::solve(y.view(), w.as_ref().map(|w| w.view()), source, &opts))
        .map_err(err)?;
    let h: Array1<f64> = s.merged_index.iter().map(|&i| s.h[i]).collect();
    let summary = PyDict::new(py);
    summary.set_item("n_target", n_input)?;
    summary.set_item("distinct_targets", s.targets.nrows())?;
    summary.set_item("dim", d)?;
    summary.set_item("source", source.name())?;
    summary.set_item(
        "method",
        match s.method {
            Method::Adam => "adam",
            _ => "newton",
        },
    )?;
    summary.set_item("iterations", s.iterations)?;
    summary.set_item("converged", s.converged)?;
    summary.set_item("max_mass_error", s.max_mass_error)?;
    summary.set_item("empty_cells", s.empty_cells)?;
    summary.set_item("transport_cost", s.transport_cost)?;
    summary.set_item("samples", s.samples)?;
    Ok((SdotSolution(s), summary, h.into_pyarray(py)))
}
