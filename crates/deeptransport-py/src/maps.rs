//! The maps: `dae` (Φ_t, Theorem 2.1), `deep` (compositions of optimal DAEs), `flow` (the
//! continuous DAE), and `_shard_dae`, the partial reduction that `deeptransport.dask` merges.

use crate::convert::{self, bad, err};
use deeptransport::Error;
use deeptransport::dae::{self, Precision};
use deeptransport::flow::continuous::{self, FlowSource, SmoothedData};
use deeptransport::flow::deep as deep_dae;
use deeptransport::flow::ode::{ErrorNorm, OdeOptions};
use deeptransport::measure::Empirical;
use deeptransport::noise::Noise;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(empirical_dae, m)?)?;
    m.add_function(wrap_pyfunction!(shard_dae, m)?)?;
    m.add_function(wrap_pyfunction!(no_posterior_message, m)?)?;
    m.add_function(wrap_pyfunction!(schedule, m)?)?;
    m.add_function(wrap_pyfunction!(deep, m)?)?;
    m.add_function(wrap_pyfunction!(flow, m)?)?;
    Ok(())
}

/// Parses a noise name as the command line does, naming the keyword in errors.
pub(crate) fn parse_noise(s: &str) -> PyResult<Noise> {
    s.parse()
        .map_err(|e: Error| bad(format!("noise={s:?}: {e}")))
}

fn parse_precision(s: &str) -> PyResult<Precision> {
    s.parse()
        .map_err(|e: Error| bad(format!("precision={s:?}: {e}")))
}

/// The point cloud `Σ w_i δ_{x_i}` (uniform weights `1/n` without `weights`).
fn empirical(x: Array2<f64>, w: Option<Array1<f64>>) -> Result<Empirical, Error> {
    match w {
        Some(w) => Empirical::weighted(x, w),
        None => Empirical::new(x),
    }
}

/// `Φ_t(q) = Σ_i w_i ν_t(q − x_i) x_i / Σ_i w_i ν_t(q − x_i)`, eq. (3) on the point cloud.
///
/// One output row per query row (default queries: the data). Exact up to rounding for every noise
/// family (streaming log-sum-exp, `O(n_query · n_data · d)`); the GIL is released while it runs.
#[pyfunction]
#[pyo3(name = "dae", signature = (data, t, queries=None, *, noise="gaussian", weights=None, precision="f64"))]
fn empirical_dae<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    t: f64,
    queries: Option<&Bound<'py, PyAny>>,
    noise: &str,
    weights: Option<&Bound<'py, PyAny>>,
    precision: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let noise = parse_noise(noise)?;
    let precision = parse_precision(precision)?;
    let x = convert::points("data", data)?;
    let q = convert::points_opt("queries", queries)?;
    let w = convert::vector_opt("weights", weights)?;
    let phi = py
        .detach(move || {
            let mu = empirical(x, w)?;
            let q = q.as_ref().map_or(mu.points(), |q| q.view());
            dae::empirical_with(&mu, noise, t, q, precision, &|_| {})
        })
        .map_err(err)?;
    Ok(phi.into_pyarray(py))
}

/// Shifts the 1-based row of a non-finite-value error about `what` by `offset` rows, so that a
/// shard names the row of the whole array.
fn shift_row(e: Error, what: &str, offset: usize) -> Error {
    match e {
        Error::NonFinite {
            what: w,
            row,
            col,
            value,
        } if w == what => Error::NonFinite {
            what: w,
            row: row + offset,
            col,
            value,
        },
        other => other,
    }
}

/// One data shard's partial reduction for one block of queries, for `deeptransport.dask`:
/// returns `(log_z, log_w, mean)` with
///
/// ```text
/// log_w   = log W_s,  W_s = Σ_{i∈s} w_i        (w_i = 1 without weights)
/// log_z_j = log Σ_{i∈s} w_i ν_t(q_j − x_i)      (up to the noise's constant; −∞ if none)
/// mean_j  = Σ_{i∈s} w_i ν_t(q_j − x_i) x_i / e^{log_z_j}     (NaN where log_z_j = −∞)
/// ```
///
/// Shards merge associatively: `log Z = logsumexp_s log_z_s`, `Φ = Σ_s e^{log_z_s − log Z}
/// mean_s`, which is Φ_t on the union of the shards. `data_offset`, `query_offset`: the rows of
/// the whole arrays before this shard and block (for error messages).
#[pyfunction]
#[pyo3(name = "_shard_dae", signature = (data, t, queries, noise, weights, data_offset, query_offset))]
#[allow(clippy::type_complexity)]
fn shard_dae<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    t: f64,
    queries: &Bound<'py, PyAny>,
    noise: &str,
    weights: Option<&Bound<'py, PyAny>>,
    data_offset: usize,
    query_offset: usize,
) -> PyResult<(Bound<'py, PyArray1<f64>>, f64, Bound<'py, PyArray2<f64>>)> {
    let noise = parse_noise(noise)?;
    let x = convert::points("data", data)?;
    let q = convert::points("queries", queries)?;
    let w = convert::vector_opt("weights", weights)?;
    let (log_z, log_w, mean) = py
        .detach(move || shard(x, q, w, noise, t, data_offset))
        .map_err(|e| err(shift_row(e, "query", query_offset)))?;
    Ok((log_z.into_pyarray(py), log_w, mean.into_pyarray(py)))
}

fn shard(
    x: Array2<f64>,
    q: Array2<f64>,
    w: Option<Array1<f64>>,
    noise: Noise,
    t: f64,
    offset: usize,
) -> Result<(Array1<f64>, f64, Array2<f64>), Error> {
    deeptransport::error::check_points("data", x.view(), None)
        .map_err(|e| shift_row(e, "data", offset))?;
    let log_w = match &w {
        None => (x.nrows() as f64).ln(),
        Some(w) => {
            if w.len() != x.nrows() {
                return Err(Error::InvalidWeights(format!(
                    "{} weights given for {} points",
                    w.len(),
                    x.nrows()
                )));
            }
            // The library's own check, its rows shifted to the whole array's.
            if let Some((i, v)) = w
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
            {
                return Err(Error::InvalidWeights(format!(
                    "weight at row {} is {v}; weights must be finite and non-negative",
                    offset + i + 1
                )));
            }
            w.sum().ln()
        }
    };
    if log_w == f64::NEG_INFINITY {
        // A shard of zero mass contributes nothing (the weights' total is checked on merging).
        deeptransport::error::check_points("query", q.view(), Some(x.ncols()))?;
        let m = q.nrows();
        return Ok((
            Array1::from_elem(m, f64::NEG_INFINITY),
            log_w,
            Array2::from_elem((m, x.ncols()), f64::NAN),
        ));
    }
    let mu = empirical(x, w)?;
    let r = dae::empirical_reduction(&mu, noise, t, q.view(), &|_| {})?;
    Ok((r.log_normalizer + log_w, log_w, r.mean))
}

/// The library's message for a query row (1-based) without a posterior (`log Z = −∞` after
/// merging every shard).
#[pyfunction]
#[pyo3(name = "_no_posterior_message")]
fn no_posterior_message(row: usize, noise: &str, t: f64) -> PyResult<String> {
    Ok(dae::no_posterior(row, parse_noise(noise)?, t).to_string())
}

/// The per-layer variances: `tau` a number (for `layers` layers, default 1) or a sequence (one per
/// layer; `layers`, if given, must equal its length).
#[pyfunction]
#[pyo3(name = "_schedule", signature = (tau, layers=None))]
pub(crate) fn schedule(tau: &Bound<'_, PyAny>, layers: Option<u64>) -> PyResult<Vec<f64>> {
    if let Ok(t) = tau.extract::<f64>() {
        return deep_dae::constant_schedule(t, layers.unwrap_or(1)).map_err(err);
    }
    let list: Vec<f64> = tau.extract().map_err(|_| {
        bad("tau must be a number or a sequence of numbers (one noise variance per layer)")
    })?;
    if list.is_empty() {
        return Err(bad("tau is empty: give one noise variance per layer"));
    }
    if let Some(l) = layers.filter(|&l| l != list.len() as u64) {
        return Err(bad(format!(
            "layers={l} but tau lists {} values; give one per layer",
            list.len()
        )));
    }
    for (k, &t) in list.iter().enumerate() {
        deeptransport::error::check_time(&format!("tau[{k}]"), t).map_err(err)?;
    }
    Ok(list)
}

/// The deep DAE on particles: `x_{ℓ+1} = Φ_ℓ(x_ℓ)`, `y_{ℓ+1} = Φ_ℓ(y_ℓ)` with `Φ_ℓ` the optimal
/// DAE (3) of the particle cloud `μ_ℓ` and noise variance `τ_ℓ`. Returns the trajectory of the
/// queries (or of the particles without queries), `(L + 1, n, d)`, and the times
/// `0, τ_0, τ_0 + τ_1, …`.
#[pyfunction]
#[pyo3(signature = (data, tau, layers=None, queries=None, *, noise="gaussian", weights=None, precision="f64"))]
#[allow(clippy::type_complexity)]
fn deep<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    tau: &Bound<'py, PyAny>,
    layers: Option<u64>,
    queries: Option<&Bound<'py, PyAny>>,
    noise: &str,
    weights: Option<&Bound<'py, PyAny>>,
    precision: &str,
) -> PyResult<(Bound<'py, PyArray3<f64>>, Vec<f64>)> {
    let taus = schedule(tau, layers)?;
    let noise = parse_noise(noise)?;
    let precision = parse_precision(precision)?;
    let x = convert::points("data", data)?;
    let q = convert::points_opt("queries", queries)?;
    let w = convert::vector_opt("weights", weights)?;
    let (positions, times) = py
        .detach(move || {
            let r = deep_dae::deep_dae_with(
                x.view(),
                w.as_ref().map(|w| w.view()),
                noise,
                &taus,
                q.as_ref().map(|q| q.view()),
                precision,
                &|_| {},
            )?;
            let traj = r.queries.unwrap_or(r.particles);
            Ok::<_, Error>((traj.positions().to_owned(), traj.times().to_vec()))
        })
        .map_err(err)?;
    Ok((positions.into_pyarray(py), times))
}

/// Mean over points of `|last − first|`, the `mean_displacement` of the summaries.
fn mean_displacement(first: ArrayView2<f64>, last: ArrayView2<f64>) -> f64 {
    (&last - &first)
        .map_axis(Axis(1), |r| r.dot(&r).sqrt())
        .mean()
        .unwrap_or(0.0)
}

/// The continuous DAE `dx/dt = ∇log μ_t(x)` (Definition 3.1) of the data smoothed by a Gaussian
/// of variance `bandwidth`, `μ_t = Σ_i w_i N(x_i, (H − 2t)I)`, integrated by adaptive
/// Dormand–Prince 5(4) up to `t < t* = H/2`. Returns the trajectory `(T, n, d)` at
/// `0, times…, t` and the `--json` summary of `deeptransport flow`.
#[pyfunction]
#[pyo3(signature = (data, bandwidth, t, queries=None, *, times=None, rtol=None, atol=None, weights=None, error_norm="rms", max_steps=100_000))]
#[allow(clippy::type_complexity)]
fn flow<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    bandwidth: f64,
    t: f64,
    queries: Option<&Bound<'py, PyAny>>,
    times: Option<Vec<f64>>,
    rtol: Option<f64>,
    atol: Option<f64>,
    weights: Option<&Bound<'py, PyAny>>,
    error_norm: &str,
    max_steps: usize,
) -> PyResult<(Bound<'py, PyArray3<f64>>, Bound<'py, PyDict>)> {
    if !(t.is_finite() && t > 0.0) {
        return Err(bad(format!(
            "t={t:?}: the final time must be a finite number > 0"
        )));
    }
    let norm = match error_norm {
        "rms" => ErrorNorm::Rms,
        "max" => ErrorNorm::Max,
        other => {
            return Err(bad(format!(
                "error_norm={other:?}: expected \"rms\" or \"max\""
            )));
        }
    };
    let mut out_times = times.unwrap_or_default();
    let mut prev = 0.0;
    for (k, &s) in out_times.iter().enumerate() {
        if !(s.is_finite() && s >= prev && s <= t) {
            return Err(bad(format!(
                "times[{k}] = {s:?}; times must be finite, non-decreasing and in [0, t = {t:?}]"
            )));
        }
        prev = s;
    }
    if out_times.last() != Some(&t) {
        out_times.push(t);
    }
    let rtol = rtol.unwrap_or(OdeOptions::default().rtol);
    let opts = OdeOptions {
        rtol,
        atol: atol.unwrap_or(rtol),
        max_steps,
        norm,
        ..OdeOptions::default()
    };
    let x = convert::points("data", data)?;
    let q = convert::points_opt("queries", queries)?;
    let w = convert::vector_opt("weights", weights)?;
    let (positions, flow) = py
        .detach(move || {
            let q = q.unwrap_or_else(|| x.clone());
            let source = FlowSource::SmoothedData(SmoothedData::new(empirical(x, w)?, bandwidth)?);
            let f = continuous::continuous_dae(&source, q.view(), &out_times, &opts, &mut |_| {})?;
            Ok::<_, Error>((f.trajectory.positions().to_owned(), f))
        })
        .map_err(err)?;
    let traj = &flow.trajectory;
    let s = flow.stats;
    let d = PyDict::new(py);
    d.set_item("t", t)?;
    d.set_item("singular_time", flow.singular_time)?;
    d.set_item("steps", s.steps)?;
    d.set_item("rejected_steps", s.rejected_steps)?;
    d.set_item("max_error_estimate", s.max_error_estimate)?;
    d.set_item("rhs_evaluations", s.rhs_evaluations)?;
    d.set_item("n_query", traj.n_points())?;
    d.set_item("dim", traj.dim())?;
    d.set_item("times", traj.times().to_vec())?;
    d.set_item("source", "data")?;
    d.set_item("bandwidth", bandwidth)?;
    d.set_item(
        "method",
        if flow.closed_form {
            "closed form (eq. 12)"
        } else {
            "dopri5"
        },
    )?;
    d.set_item("simd", deeptransport::kernel::simd_path().name())?;
    d.set_item("rtol", opts.rtol)?;
    d.set_item("atol", opts.atol)?;
    d.set_item("error_norm", error_norm)?;
    d.set_item(
        "mean_displacement",
        mean_displacement(traj.first(), traj.last()),
    )?;
    Ok((positions.into_pyarray(py), d))
}
