//! NumPy in, NumPy out: copies into Rust-owned, C-ordered `f64` arrays (with the GIL held) and
//! errors as `DeepTransportError`.

use crate::DeepTransportError;
use ndarray::{Array1, Array2, Array3, ArrayD, Ix1, Ix2, Ix3};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A library error as a Python exception carrying its message.
pub(crate) fn err(e: deeptransport::Error) -> PyErr {
    DeepTransportError::new_err(e.to_string())
}

/// A binding-level refusal (a keyword out of its domain) as a Python exception.
pub(crate) fn bad(msg: impl Into<String>) -> PyErr {
    DeepTransportError::new_err(msg.into())
}

/// `shape` as Python prints it: `(5,)`, `(3, 2)`.
pub(crate) fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Any array-like as a C-ordered `f64` array of any dimension, owned by Rust.
///
/// `float64` and `float32` NumPy arrays are read directly, whatever their strides; anything else
/// goes through `numpy.asarray` and is refused unless its dtype is real (floats, integers,
/// booleans), so complex, object or string data never turn silently into numbers.
pub(crate) fn array_dyn(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<ArrayD<f64>> {
    if let Ok(a) = obj.cast::<PyArrayDyn<f64>>() {
        let r = a.try_readonly().map_err(|e| bad(format!("{name}: {e}")))?;
        return Ok(r.as_array().as_standard_layout().into_owned());
    }
    if let Ok(a) = obj.cast::<PyArrayDyn<f32>>() {
        let r = a.try_readonly().map_err(|e| bad(format!("{name}: {e}")))?;
        // Standard-layout output whatever the input's order: build from the logical iteration.
        let v = r.as_array();
        let data: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        return Ok(ArrayD::from_shape_vec(v.raw_dim(), data).expect("same shape"));
    }
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => np
            .call_method1("asarray", (obj,))
            .map_err(|e| bad(format!("{name}: not an array of numbers ({e})")))?
            .cast_into::<PyUntypedArray>()
            .map_err(|e| bad(format!("{name}: not an array of numbers ({e})")))?,
    };
    let dtype = arr.dtype();
    match dtype.kind() {
        b'f' | b'i' | b'u' | b'b' => {
            let kw = PyDict::new(py);
            kw.set_item("dtype", "float64")?;
            let f = np.call_method("asarray", (&arr,), Some(&kw))?;
            array_dyn(name, &f)
        }
        _ => Err(bad(format!(
            "{name}: dtype {} is not a real number type; give float64 (or float32, integer) \
             values",
            dtype.str()?
        ))),
    }
}

/// A 2-D point array `(n, d)`, one point per row.
pub(crate) fn points(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array2<f64>> {
    let a = array_dyn(name, obj)?;
    let shape = a.shape().to_vec();
    a.into_dimensionality::<Ix2>().map_err(|_| {
        bad(format!(
            "{name} must be a 2-D array of shape (n, d), one point per row; got shape {}{}",
            shape_str(&shape),
            if shape.len() == 1 {
                " (for one-dimensional points use x.reshape(-1, 1))"
            } else {
                ""
            }
        ))
    })
}

/// Optional [`points`].
pub(crate) fn points_opt(
    name: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Array2<f64>>> {
    obj.map(|o| points(name, o)).transpose()
}

/// One number per row: shape `(n,)` or `(n, 1)`.
pub(crate) fn vector(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Array1<f64>> {
    let a = array_dyn(name, obj)?;
    let shape = a.shape().to_vec();
    match shape.as_slice() {
        [_] => Ok(a.into_dimensionality::<Ix1>().expect("1-D")),
        [n, 1] => Ok(a.into_shape_with_order(*n).expect("n values")),
        _ => Err(bad(format!(
            "{name} must be a 1-D array with one value per point; got shape {}",
            shape_str(&shape)
        ))),
    }
}

/// Optional [`vector`].
pub(crate) fn vector_opt(
    name: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Array1<f64>>> {
    obj.map(|o| vector(name, o)).transpose()
}

/// A trajectory `(T, n, d)`, or a point array `(n, d)` as `Err(points)`.
pub(crate) fn points_or_trajectory(
    name: &str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Result<Array3<f64>, Array2<f64>>> {
    let a = array_dyn(name, obj)?;
    match a.ndim() {
        2 => Ok(Err(a.into_dimensionality::<Ix2>().expect("2-D"))),
        3 => Ok(Ok(a.into_dimensionality::<Ix3>().expect("3-D"))),
        _ => Err(bad(format!(
            "{name} must be a 2-D array of points (n, d) or a 3-D trajectory (T, n, d); got \
             shape {}",
            shape_str(a.shape())
        ))),
    }
}
