//! The crate's one error type.

/// What can go wrong building, running, training, saving or loading a network.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option out of its domain (a zero width, a negative learning rate, …).
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The option as the user knows it.
        name: String,
        /// The value given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// An array whose width or length does not fit the network.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// Which array.
        what: String,
        /// The size required.
        expected: usize,
        /// The size found.
        got: usize,
    },
    /// A NaN or ±∞ in an input (1-based row and column).
    #[error("non-finite value {value} in {what} at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: String,
        /// 1-based row.
        row: usize,
        /// 1-based column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// Training produced a non-finite loss: the run stops, nothing is kept from that epoch on.
    #[error(
        "training diverged in epoch {epoch} (step {step}): the loss became {loss}; \
         lower the learning rate"
    )]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The non-finite loss.
        loss: f64,
    },
    /// A weight file that is not a deeptransport-nn safetensors file, or does not match itself.
    #[error("weights: {0}")]
    Weights(String),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An error of the core library (a trajectory that cannot be formed, …).
    #[error(transparent)]
    Core(#[from] deeptransport::Error),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// `Error::InvalidParameter` unless `ok`.
pub(crate) fn ensure(ok: bool, name: &str, value: impl ToString, reason: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: name.into(),
            value: value.to_string(),
            reason: reason.into(),
        })
    }
}
