//! `deeptransport._core`: the Python extension module behind `import deeptransport`.
//!
//! A thin layer: every function converts its NumPy inputs into Rust-owned `f64` arrays while it
//! holds the GIL (any dtype NumPy can cast to `float64` without loss of meaning — floats, integers,
//! booleans — any strides, C or Fortran order; `float32` is widened exactly), then releases the GIL
//! ([`Python::detach`]) for the computation, which is the library's own call, the same one the
//! `deeptransport` command makes. Outputs are NumPy arrays that take ownership of the Rust buffer
//! (no copy) and small dicts whose keys are the command's `--json` keys; the pure-Python package
//! (`python/deeptransport/`) wraps those into result objects. Every library error becomes a
//! `deeptransport.DeepTransportError`, a subclass of `ValueError`, with the library's message.
//!
//! Why copy rather than borrow NumPy's buffer across the released GIL: another Python thread may
//! resize or write the array while Rust reads it, and whether a borrow can be made sound there is
//! an open question upstream; the copy costs `O(n·d)` against the `O(n·m·d)` computations.

mod convert;
mod maps;
mod measures;
mod recon;
mod sdot;
mod tracks;

use pyo3::prelude::*;

pyo3::create_exception!(
    deeptransport,
    DeepTransportError,
    pyo3::exceptions::PyValueError,
    "Bad input to a deeptransport function (a ValueError): the message is the library's."
);

/// The SIMD path the kernels run in this process (`avx512`, `avx2`, `portable` or `scalar`).
#[pyfunction]
fn simd_path() -> &'static str {
    deeptransport::kernel::simd_path().name()
}

/// Forces the SIMD path of every later kernel call in this process; an error naming the paths
/// this CPU runs when it cannot run `name` (nothing changes then).
#[pyfunction]
fn set_simd_path(name: &str) -> PyResult<()> {
    let path: deeptransport::kernel::SimdPath = name.parse().map_err(convert::err)?;
    deeptransport::kernel::set_simd_path(path).map_err(convert::err)
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // DEEPTRANSPORT_SIMD as for the command line: an unknown or unsupported path is an error at
    // import, never a silent fallback.
    if let Some(p) = deeptransport::kernel::SimdPath::from_env().map_err(convert::err)? {
        deeptransport::kernel::set_simd_path(p).map_err(convert::err)?;
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DeepTransportError",
        m.py().get_type::<DeepTransportError>(),
    )?;
    m.add_function(wrap_pyfunction!(simd_path, m)?)?;
    m.add_function(wrap_pyfunction!(set_simd_path, m)?)?;
    maps::register(m)?;
    measures::register(m)?;
    tracks::register(m)?;
    sdot::register(m)?;
    recon::register(m)?;
    Ok(())
}
