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
    #[error("non-finite value {} in {what} at row {row}, column {col}", fmt_num(*.value))]
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
        "time t = {} is at or past the singular time t* = {} of {what}; the continuous DAE \
         exists only for t < t*",
        fmt_num(*.t),
        fmt_num(*.singular_time)
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

/// Returns `Err(Error::InvalidParameter)` unless `t` is a finite variance no smaller than the
/// smallest normal double, `f64::MIN_POSITIVE` ≈ 2.2e-308. Below it a double keeps fewer than 53
/// significant bits (5e-324 is only known to a factor of two), `1/(2t)` overflows from about
/// 2.8e-309 on, and every Gaussian weight would underflow: no result there would mean anything.
pub fn check_time(name: &str, t: f64) -> Result<f64> {
    if t.is_finite() && t >= f64::MIN_POSITIVE {
        Ok(t)
    } else {
        let reason = if t > 0.0 && t.is_finite() {
            format!(
                "a variance must be at least the smallest normal double {:e}: below it t \
                 has fewer significant bits than a double and 1/(2t) overflows",
                f64::MIN_POSITIVE
            )
        } else {
            "must be a finite number > 0 (a noise variance)".into()
        };
        Err(Error::InvalidParameter {
            name: name.to_string(),
            value: fmt_num(t),
            reason,
        })
    }
}

/// `x` for a message: the shortest decimal that reads back as `x`, as `{}` prints it (`0.5`,
/// `2`), but in exponent form outside `[1e-4, 1e16)` (`5e-324`, `1e20`), where `{}` would print
/// up to hundreds of digits.
pub fn fmt_num(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
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

/// The largest coordinate magnitude a point may have: `|x_ik| ≤ 10¹⁵⁰` keeps every squared
/// distance `Σ_k (x_ik − y_jk)² ≤ 4d·10³⁰⁰` finite in `f64` for any `d` below `4·10⁷`, so no cost,
/// displacement or summary can overflow to `±∞` (coordinates near `10¹⁵⁴` used to give a mean
/// displacement of `inf` with exit 0).
pub const MAX_COORDINATE: f64 = 1e150;

/// Checks that `a` has at least one row, the expected number of columns, and finite entries of
/// magnitude at most [`MAX_COORDINATE`] (the first offender is named by row and column, 1-based).
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
    check_finite(what, a)?;
    match a.indexed_iter().find(|(_, v)| v.abs() > MAX_COORDINATE) {
        Some(((i, j), &v)) => Err(Error::InvalidParameter {
            name: format!("{what} at row {}, column {}", i + 1, j + 1),
            value: fmt_num(v),
            reason: format!(
                "coordinates beyond ±{MAX_COORDINATE:e} are refused: their squared distances \
                 would overflow f64; rescale the data"
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_messages_are_short_and_round_trip() {
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(5e-324), "5e-324");
        assert_eq!(fmt_num(-1e-300), "-1e-300");
        assert_eq!(fmt_num(1e20), "1e20");
        assert_eq!(fmt_num(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        for x in [1e-320, 0.1 + 0.2, 123456.789, 3e15, f64::MAX] {
            assert_eq!(fmt_num(x).parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn variances_below_the_smallest_normal_double_are_refused() {
        assert!(check_time("t", f64::MIN_POSITIVE).is_ok());
        for t in [5e-324, 1e-320, 2e-308] {
            let msg = check_time("t", t).unwrap_err().to_string();
            assert!(msg.contains("smallest normal") && msg.len() < 300, "{msg}");
        }
        assert!(check_time("t", 0.0).is_err() && check_time("t", f64::NAN).is_err());
    }
}
