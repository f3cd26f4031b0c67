//! The measurements: `entropy` (k-NN estimators, METHODS §6) and `w2` (exact, 1-D, Sinkhorn,
//! Bures; METHODS §5–6), with the `--json` keys of `deeptransport entropy` and `deeptransport w2`.

use crate::convert::{self, bad, err, shape_str};
use deeptransport::Error;
use deeptransport::flow::Trajectory;
use deeptransport::functional::knn::{self, Estimator};
use deeptransport::measure::{Empirical, Gaussian};
use deeptransport::wasserstein::exact::{ExactOptions, exact};
use deeptransport::wasserstein::one_d::w2_1d;
use deeptransport::wasserstein::sinkhorn::{SinkhornOptions, sinkhorn_divergence};
use deeptransport::wasserstein::{self, OtStatus, Plan, bures};
use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(entropy, m)?)?;
    m.add_function(wrap_pyfunction!(w2, m)?)?;
    Ok(())
}

/// Differential entropy (nats) by k-nearest neighbours: Kozachenko–Leonenko
/// `Ĥ = ψ(N) − ψ(k) + log V_d + (d/N) Σ_i log ε_i` (`kl`), or the Leonenko–Pronzato–Savani
/// Rényi / Tsallis estimators of order α (`renyi:ALPHA`, `tsallis:ALPHA`). A 3-D trajectory
/// `(T, n, d)` gives one entropy per slice.
#[pyfunction]
#[pyo3(signature = (x, *, k=3, estimator="kl"))]
fn entropy<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    k: usize,
    estimator: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let est: Estimator = estimator
        .parse()
        .map_err(|e: Error| bad(format!("estimator={estimator:?}: {e}")))?;
    if k == 0 {
        return Err(bad("k=0: the neighbour rank must be at least 1"));
    }
    match convert::points_or_trajectory("x", x)? {
        Err(points) => {
            check_k(k, points.nrows())?;
            let h = py
                .detach(move || knn::entropy(points.view(), est, k))
                .map_err(err)?;
            Ok(h.into_pyobject(py)?.into_any())
        }
        Ok(positions) => {
            check_k(k, positions.shape()[1])?;
            let h = py
                .detach(move || {
                    let times = (0..positions.shape()[0]).map(|s| s as f64).collect();
                    let traj = Trajectory::new(positions, times)?;
                    knn::entropy_along(&traj, est, k)
                })
                .map_err(err)?;
            Ok(Array1::from(h).into_pyarray(py).into_any())
        }
    }
}

/// `k ≥ n` refused as the command does (the library would say it without the count).
fn check_k(k: usize, n: usize) -> PyResult<()> {
    if k >= n {
        return Err(bad(format!(
            "k={k} needs at least k + 1 = {} points (each point's k-th neighbour is searched \
             among the others); x has {n}",
            k + 1
        )));
    }
    Ok(())
}

/// Wasserstein-2 between two weighted point clouds, cost `|x − y|²`: `exact` (network simplex),
/// `1d` (sorting), `sinkhorn` (entropic, with the debiased divergence) or `gaussian` (Bures
/// between the fitted Gaussians). With `b=None` and a trajectory `(T, n, d)` as `a`: the exact
/// W₂ from the first slice to every slice. Returns the `--json` summary; with `plan=True` also
/// the plan (`(k, 3)` rows `i, j, mass` for exact and 1-D, the dense `n × m` matrix for
/// Sinkhorn).
#[pyfunction]
#[pyo3(signature = (a, b=None, *, method="exact", eps=None, a_weights=None, b_weights=None, tol=None, max_iter=None, plan=false))]
#[allow(clippy::too_many_arguments)]
fn w2<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: Option<&Bound<'py, PyAny>>,
    method: &str,
    eps: Option<f64>,
    a_weights: Option<&Bound<'py, PyAny>>,
    b_weights: Option<&Bound<'py, PyAny>>,
    tol: Option<f64>,
    max_iter: Option<usize>,
    plan: bool,
) -> PyResult<Bound<'py, PyDict>> {
    if !matches!(method, "exact" | "sinkhorn" | "gaussian" | "1d") {
        return Err(bad(format!(
            "method={method:?}: expected \"exact\", \"sinkhorn\", \"gaussian\" or \"1d\""
        )));
    }
    if let Some(e) = eps
        && !(e.is_finite() && e > 0.0)
    {
        return Err(bad(format!(
            "eps={e:?}: the entropic regularisation must be a finite number > 0"
        )));
    }
    if let Some(t) = tol
        && !(t.is_finite() && t > 0.0)
    {
        return Err(bad(format!(
            "tol={t:?}: the marginal tolerance must be a finite number > 0"
        )));
    }
    if max_iter == Some(0) {
        return Err(bad("max_iter=0: must be at least 1"));
    }
    if method == "gaussian" && plan {
        return Err(bad(
            "plan=True: method=\"gaussian\" couples the fitted Gaussians, not the points, so it \
             has no plan; use method=\"exact\" or \"sinkhorn\"",
        ));
    }
    let Some(b) = b else {
        return w2_trajectory(py, a, method);
    };
    let x = convert::points("a", a)?;
    let y = convert::points("b", b)?;
    let (n, m, d) = (x.nrows(), y.nrows(), x.ncols());
    if y.ncols() != d {
        return Err(bad(format!(
            "b has dimension {}, but a has dimension {d}; both clouds must live in the same space",
            y.ncols()
        )));
    }
    if method == "1d" && d != 1 {
        return Err(bad(format!(
            "method=\"1d\": a has dimension {d}; sorting computes W₂ only in dimension 1 (use \
             method=\"exact\")"
        )));
    }
    let wa = convert::vector_opt("a_weights", a_weights)?;
    let wb = convert::vector_opt("b_weights", b_weights)?;
    let summary = PyDict::new(py);
    summary.set_item("method", method)?;
    summary.set_item("simd", deeptransport::kernel::simd_path().name())?;
    summary.set_item("n", n)?;
    summary.set_item("m", m)?;
    summary.set_item("dim", d)?;
    let method = method.to_string();
    let out = py.detach(move || solve(&method, x, y, wa, wb, eps, tol, max_iter, plan))?;
    for (k, v) in &out.scalars {
        summary.set_item(*k, v.clone())?;
    }
    let w2_squared = out.w2_squared;
    summary.set_item("w2_squared", w2_squared)?;
    summary.set_item("w2", w2_squared.max(0.0).sqrt())?;
    if let Some(p) = out.plan {
        summary.set_item("plan", p.into_pyarray(py))?;
    }
    Ok(summary)
}

/// A scalar of a summary, built without the GIL.
#[derive(Clone)]
enum Value {
    F(f64),
    U(usize),
    B(bool),
}

impl<'py> IntoPyObject<'py> for Value {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Value::F(v) => v.into_pyobject(py)?.into_any(),
            Value::U(v) => v.into_pyobject(py)?.into_any(),
            Value::B(v) => v.into_pyobject(py)?.to_owned().into_any(),
        })
    }
}

struct Solved {
    w2_squared: f64,
    scalars: Vec<(&'static str, Value)>,
    plan: Option<Array2<f64>>,
}

/// The sparse plan as `(k, 3)` rows `i, j, mass`, as `deeptransport w2 --plan x.npy` writes it.
fn sparse_rows(plan: Option<&Plan>) -> Option<Array2<f64>> {
    match plan {
        Some(Plan::Sparse { rows, cols, mass }) => {
            Some(Array2::from_shape_fn((rows.len(), 3), |(k, c)| match c {
                0 => rows[k] as f64,
                1 => cols[k] as f64,
                _ => mass[k],
            }))
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn solve(
    method: &str,
    x: Array2<f64>,
    y: Array2<f64>,
    wa: Option<Array1<f64>>,
    wb: Option<Array1<f64>>,
    eps: Option<f64>,
    tol: Option<f64>,
    max_iter: Option<usize>,
    want_plan: bool,
) -> PyResult<Solved> {
    let (wav, wbv) = (wa.as_ref().map(|w| w.view()), wb.as_ref().map(|w| w.view()));
    let mut scalars = Vec::new();
    let mut plan = None;
    let w2_squared = match method {
        "exact" => {
            let r = exact(x.view(), y.view(), wav, wbv, &ExactOptions { max_iter }).map_err(err)?;
            if r.ot.status != OtStatus::Converged {
                return Err(bad(format!(
                    "the network simplex stopped at the pivot limit {} before reaching the \
                     optimum; raise max_iter",
                    r.ot.iterations
                )));
            }
            scalars.push(("iterations", Value::U(r.ot.iterations)));
            scalars.push(("duality_gap", Value::F(r.duality_gap)));
            if want_plan {
                plan = sparse_rows(r.ot.plan.as_ref());
            }
            r.ot.cost
        }
        "1d" => {
            let r = w2_1d(x.view(), y.view(), wav, wbv).map_err(err)?;
            if want_plan {
                plan = sparse_rows(r.plan.as_ref());
            }
            r.cost
        }
        "gaussian" => {
            let fit =
                |pts: Array2<f64>, w: Option<Array1<f64>>, name: &str| -> PyResult<Gaussian> {
                    let e = match w {
                        Some(w) => Empirical::weighted(pts, w),
                        None => Empirical::new(pts),
                    }
                    .map_err(err)?;
                    let d = e.dim();
                    Gaussian::new(e.mean(), e.covariance()).map_err(|e| {
                        bad(format!(
                            "{name}: the fitted covariance is not positive definite ({e}); \
                         method=\"gaussian\" needs more than d = {d} points in general position \
                         with positive weight"
                        ))
                    })
                };
            let ga = fit(x, wa, "a")?;
            let gb = fit(y, wb, "b")?;
            bures::bures_w2_squared(&ga, &gb).map_err(err)?
        }
        _ => {
            let defaults = SinkhornOptions::default();
            let opts = SinkhornOptions {
                eps: eps.unwrap_or(defaults.eps),
                tol: tol.unwrap_or(defaults.tol),
                max_iter: max_iter.unwrap_or(defaults.max_iter),
                plan: want_plan,
                ..defaults
            };
            let s = sinkhorn_divergence(x.view(), y.view(), wav, wbv, &opts).map_err(err)?;
            let converged = s.converged();
            let r = s.cross;
            scalars.push(("eps", Value::F(r.eps)));
            scalars.push(("iterations", Value::U(r.ot.iterations)));
            scalars.push(("converged", Value::B(converged)));
            scalars.push(("marginal_error", Value::F(r.marginal_error)));
            scalars.push(("sinkhorn_divergence", Value::F(s.divergence)));
            if let Some(Plan::Dense(p)) = r.ot.plan {
                plan = Some(p);
            }
            r.ot.cost
        }
    };
    Ok(Solved {
        w2_squared,
        scalars,
        plan,
    })
}

/// `b=None`: `a` is a trajectory; exact W₂ from its first slice to every slice.
fn w2_trajectory<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    method: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let positions = match convert::points_or_trajectory("a", a)? {
        Ok(p) => p,
        Err(p) => {
            return Err(bad(format!(
                "b is missing: give two point clouds a and b, or a trajectory (T, n, d) as a \
                 alone; a has shape {}",
                shape_str(p.shape())
            )));
        }
    };
    if !matches!(method, "exact" | "1d") {
        return Err(bad(format!(
            "a trajectory: W₂ along a trajectory is computed exactly; method={method:?} is not \
             supported there (use \"exact\")"
        )));
    }
    let (slices, n, d) = positions.dim();
    if method == "1d" && d != 1 {
        return Err(bad(format!(
            "method=\"1d\": the trajectory has dimension {d}; sorting computes W₂ only in \
             dimension 1"
        )));
    }
    let w2 = py
        .detach(move || {
            let traj = Trajectory::new(positions, (0..slices).map(|s| s as f64).collect())?;
            wasserstein::w2_from_start(&traj)
        })
        .map_err(err)?;
    let summary = PyDict::new(py);
    summary.set_item("method", if d == 1 { "1d" } else { "exact" })?;
    summary.set_item("n", n)?;
    summary.set_item("m", n)?;
    summary.set_item("dim", d)?;
    let sq: Array1<f64> = w2.iter().map(|w| w * w).collect();
    summary.set_item("w2", PyArray1::from_vec(py, w2))?;
    summary.set_item("w2_squared", sq.into_pyarray(py))?;
    Ok(summary)
}
