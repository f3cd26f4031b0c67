//! The CLI's input readers, compiled from the CLI's own sources for the fuzz targets, and the
//! contract every target asserts.
//!
//! `deeptransport-cli` is a binary crate (no `lib.rs`), so its reader modules are included here
//! by path — the very files the binary compiles, unchanged — rather than restructuring the CLI
//! into a library. They need `crate::BadInput` (below, the same definition as in
//! `crates/deeptransport-cli/src/main.rs`), each other, `crate::interrupt` (the output
//! temporaries' clean-up on a signal; its handler is never installed here) and `crate::limits`
//! (the memory check before an array is read). When one of them
//! starts using another module of the CLI, include that one here too (and its crates in
//! `Cargo.toml`): the build error names it.

#![allow(dead_code, unused_imports, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An error in what the user gave us: exit code 2 (copy of the CLI's type).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    /// Wraps a message as an [`anyhow::Error`] that maps to exit code 2.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(msg: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(BadInput(msg.into()))
    }
}

#[path = "../../crates/deeptransport-cli/src/io.rs"]
pub mod io;

#[path = "../../crates/deeptransport-cli/src/activations.rs"]
pub mod activations;

#[path = "../../crates/deeptransport-cli/src/interrupt.rs"]
pub mod interrupt;

#[path = "../../crates/deeptransport-cli/src/limits.rs"]
pub mod limits;

/// A folder of this process for the files the readers open (the readers take paths). Under
/// `$TMPDIR` (fuzz/run.sh points it into `fuzz/target`).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("dt-fuzz-")
            .tempdir()
            .expect("a scratch folder")
            .keep()
    })
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn put(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).expect("write the scratch file");
    p
}

/// Removes the scratch file `name` if present.
pub fn remove(name: &str) {
    let _ = std::fs::remove_file(scratch().join(name));
}

/// The error half of the contract: a bad file is a [`BadInput`] (exit 2), its message is one or
/// two non-empty lines and names the file (`must_name`).
pub fn check_err(e: &anyhow::Error, must_name: &str) {
    let msg = format!("{e:#}");
    assert!(
        e.downcast_ref::<BadInput>().is_some(),
        "an error that is not a BadInput (would exit 1, not 2): {msg}"
    );
    assert!(!msg.trim().is_empty(), "an empty message");
    assert!(
        msg.lines().count() <= 2,
        "a message of more than two lines: {msg:?}"
    );
    assert!(
        msg.contains(must_name),
        "the message does not name the file {must_name}: {msg}"
    );
}

/// The contract of the activations readers (`.npz` and `.safetensors`, `tracks --activations`
/// with `--flatten`) on the file `bytes` written as `name`: Ok opens at least two layers and
/// each layer read is `n × d` (n, d ≥ 1) of finite values; every error obeys [`check_err`].
pub fn check_activations(name: &str, bytes: &[u8]) {
    let p = put(name, bytes);
    let shown = p.display().to_string();
    match activations::Layers::open(None, Some(p), None, None, true) {
        Ok(mut layers) => {
            assert!(layers.len() >= 2, "Ok with {} layers", layers.len());
            for k in 0..layers.len() {
                match layers.read(k) {
                    Ok(a) => {
                        assert!(a.nrows() >= 1 && a.ncols() >= 1, "an empty layer");
                        assert!(all_finite(a.iter()), "a non-finite value");
                    }
                    Err(e) => check_err(&e, &shown),
                }
            }
        }
        Err(e) => check_err(&e, &shown),
    }
}

/// Every value finite.
pub fn all_finite<'a>(v: impl IntoIterator<Item = &'a f64>) -> bool {
    v.into_iter().all(|x| x.is_finite())
}

/// Bitwise equality of two arrays (shape and every value's bits).
pub fn same_bits(a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The ok half for point files: `n × d` with `n, d ≥ 1`, every value finite; and what the CLI
/// writes back (`--out` as `.csv` and as `.npy`) reads back bit for bit.
pub fn check_points(a: &ndarray::Array2<f64>) {
    assert!(
        a.nrows() >= 1 && a.ncols() >= 1,
        "Ok with an empty array {:?}",
        a.shape()
    );
    assert_eq!(a.len(), a.nrows() * a.ncols());
    assert!(all_finite(a.iter()), "Ok with a non-finite value");
    for name in ["roundtrip.csv", "roundtrip.npy"] {
        let p = scratch().join(name);
        io::Output::create(&p)
            .and_then(|o| o.commit_points(a))
            .expect("write the points back");
        let b = io::read_points(&p).expect("read back what the CLI wrote");
        assert!(same_bits(a, &b), "{name}: the round trip changed the data");
    }
}

/// The ok half for weight files: `n` finite non-negative values with a positive finite sum.
pub fn check_weights(w: &ndarray::Array1<f64>, n: usize) {
    assert_eq!(w.len(), n, "Ok with {} weights for {n} rows", w.len());
    assert!(
        w.iter().all(|&x| x.is_finite() && x >= 0.0),
        "Ok with a negative or non-finite weight"
    );
    let s = w.sum();
    assert!(s > 0.0 && s.is_finite(), "Ok with weights summing to {s}");
}
