//! The one error type of the library: every variant carries what a user needs to fix the input.

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a computation. All variants describe bad input or an invalid
/// parameter; the library never fails for another reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two arrays that must share a dimension do not.
    #[error("dimension mismatch: {what} has dimension {got}, expected {expected}")]
    DimensionMismatch {
        /// Which array or parameter.
        what: String,
        /// The dimension required.
        expected: usize,
        /// The dimension found.
        got: usize,
    },
    /// A NaN or ±∞ where a finite number is required (rows and columns are 1-based).
    #[error("non-finite value {value} in {what} at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: String,
        /// 1-based row.
        row: usize,
        /// 1-based column.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// An array or set that must not be empty is.
    #[error("{what} is empty")]
    Empty {
        /// Which array.
        what: String,
    },
    /// A scalar parameter out of its domain (t ≤ 0, ν ≤ 2, …).
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name as the user knows it.
        name: String,
        /// The value given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A covariance matrix that is not symmetric positive definite.
    #[error("{what} is not symmetric positive definite: {reason}")]
    NotSpd {
        /// Which matrix.
        what: String,
        /// Asymmetry or the failing pivot.
        reason: String,
    },
    /// Weights that are negative, non-finite, of the wrong length or sum to zero.
    #[error("invalid weights: {0}")]
    InvalidWeights(String),
    /// A query point for which the posterior (3) does not exist: the noise density vanishes at
    /// every data point (uniform noise whose cube around the query holds no data).
    #[error(
        "no posterior at query row {row}: no data point lies in the noise support around it \
         ({detail})"
    )]
    NoPosterior {
        /// 1-based query row.
        row: usize,
        /// The support that was searched.
        detail: String,
    },
    /// A combination the library does not compute (say so rather than guess).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A numerical method did not reach its tolerance.
    #[error("did not converge: {0}")]
    NotConverged(String),
    /// A time at or past the first singular time `t*` of a continuous DAE (Definition 3.1), where
    /// `μ_t = φ_t♯μ₀` stops existing (a covariance `Σ − 2tI` stops being positive definite).
    #[error(
        "time t = {t} is at or past the singular time t* = {singular_time} of {what}; the \
         continuous DAE exists only for t < t*"
    )]
    PastSingularTime {
        /// The requested time.
        t: f64,
        /// The first singular time `t*`.
        singular_time: f64,
        /// Which flow (the measure and how `t*` follows from it).
        what: String,
    },
}

/// Returns `Err(Error::InvalidParameter)` unless `t` is finite and strictly positive.
pub fn check_time(name: &str, t: f64) -> Result<f64> {
    if t.is_finite() && t > 0.0 {
        Ok(t)
    } else {
        Err(Error::InvalidParameter {
            name: name.to_string(),
            value: format!("{t}"),
            reason: "must be a finite number > 0 (a noise variance)".into(),
        })
    }
}

/// Returns the first non-finite entry of a 2-D array as an error naming `what`.
pub fn check_finite(what: &str, a: ndarray::ArrayView2<f64>) -> Result<()> {
    for ((i, j), &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what: what.to_string(),
                row: i + 1,
                col: j + 1,
                value: v,
            });
        }
    }
    Ok(())
}

/// Checks that `a` has at least one row and the expected number of columns.
pub fn check_points(what: &str, a: ndarray::ArrayView2<f64>, dim: Option<usize>) -> Result<()> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(Error::Empty {
            what: what.to_string(),
        });
    }
    if let Some(d) = dim
        && a.ncols() != d
    {
        return Err(Error::DimensionMismatch {
            what: what.to_string(),
            expected: d,
            got: a.ncols(),
        });
    }
    check_finite(what, a)
}
