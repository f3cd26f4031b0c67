//! Which implementation of the kernel's loops runs: the SIMD *path*.
//!
//! The kernel's `O(N·M·d)` loops are compiled several times and one is chosen at run time:
//!
//! | path | what runs | where |
//! |---|---|---|
//! | `avx512` | register-tiled loop on one `zmm` per vector (`d ≤ 8`); other loops compiled for AVX-512 | x86-64 with AVX-512F |
//! | `avx2` | register-tiled loop on two `ymm` per vector; other loops compiled for AVX2 + FMA | x86-64 with AVX2 and FMA |
//! | `portable` | register-tiled loop on plain arrays, vectorised by the compiler for the baseline target (NEON on aarch64, SSE2 on x86-64); other loops as `scalar` | every CPU |
//! | `scalar` | no tiled loop: the chunked direct loops, compiled for the baseline target | every CPU |
//!
//! By default the widest path the CPU supports runs ([`SimdPath::widest`]). A program may force
//! another, for testing or benchmarking, process-wide ([`set_simd_path`]; the command-line tool
//! reads `DEEPTRANSPORT_SIMD` with [`SimdPath::from_env`]) or on the calling thread for the
//! duration of a closure ([`with_simd_path`]). A path the CPU cannot run is refused, never
//! replaced by another.
//!
//! Every path gives the same results to within its documented bound (the property tests run every
//! path the machine supports); each path is deterministic and bit-identical for any thread count,
//! but paths differ from each other in the last bits (fused multiply-adds, lane structure,
//! different exponentials).

use crate::error::{Error, Result};
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable read by [`SimdPath::from_env`].
pub const ENV_VAR: &str = "DEEPTRANSPORT_SIMD";

/// One implementation of the kernel's loops (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimdPath {
    /// x86-64 with AVX-512F: eight `f64` (sixteen `f32`) lanes in one register.
    Avx512,
    /// x86-64 with AVX2 and FMA: eight `f64` (sixteen `f32`) lanes in two registers.
    Avx2,
    /// Any CPU: the tiled loop on plain arrays, vectorised by the compiler for the baseline
    /// target (NEON on aarch64, SSE2 on x86-64).
    Portable,
    /// Any CPU: the chunked direct loops only, for the baseline target (the reference path).
    Scalar,
}

impl SimdPath {
    /// Every path, widest first.
    pub const ALL: [SimdPath; 4] = [
        SimdPath::Avx512,
        SimdPath::Avx2,
        SimdPath::Portable,
        SimdPath::Scalar,
    ];

    /// The name used by `DEEPTRANSPORT_SIMD` and in `--json` summaries.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "avx512",
            SimdPath::Avx2 => "avx2",
            SimdPath::Portable => "portable",
            SimdPath::Scalar => "scalar",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            SimdPath::Avx512 => has_avx512(),
            SimdPath::Avx2 => has_avx2(),
            SimdPath::Portable | SimdPath::Scalar => true,
        }
    }

    /// The widest path this CPU supports (the default).
    pub fn widest() -> SimdPath {
        Self::ALL
            .into_iter()
            .find(|p| p.is_supported())
            .unwrap_or(SimdPath::Scalar)
    }

    /// Every path this CPU supports, widest first.
    pub fn supported() -> Vec<SimdPath> {
        Self::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The path named `name` if this CPU runs it; an [`Error::InvalidParameter`] for an unknown
    /// name, an [`Error::Unsupported`] (naming the CPU's paths) for one it does not run.
    pub fn parse_supported(name: &str) -> Result<SimdPath> {
        let path: SimdPath = name.parse()?;
        if !path.is_supported() {
            return Err(Error::Unsupported(format!(
                "SIMD path {path}: this CPU does not run it; it runs {}",
                names(&Self::supported())
            )));
        }
        Ok(path)
    }

    /// The path named by `DEEPTRANSPORT_SIMD`, `None` when it is unset or empty; errors as
    /// [`SimdPath::parse_supported`], naming the variable.
    pub fn from_env() -> Result<Option<SimdPath>> {
        match std::env::var(ENV_VAR) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(v)) => Err(Error::InvalidParameter {
                name: ENV_VAR.into(),
                value: format!("{v:?}"),
                reason: format!("expected one of {}", names(&Self::ALL)),
            }),
            Ok(v) if v.trim().is_empty() => Ok(None),
            Ok(v) => Self::parse_supported(v.trim())
                .map(Some)
                .map_err(|e| match e {
                    Error::InvalidParameter { value, reason, .. } => Error::InvalidParameter {
                        name: ENV_VAR.into(),
                        value,
                        reason,
                    },
                    Error::Unsupported(m) => Error::Unsupported(format!("{ENV_VAR}: {m}")),
                    other => other,
                }),
        }
    }
}

fn names(paths: &[SimdPath]) -> String {
    paths
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SimdPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SimdPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<SimdPath> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| Error::InvalidParameter {
                name: "SIMD path".into(),
                value: s.into(),
                reason: format!("expected one of {}", names(&Self::ALL)),
            })
    }
}

/// AVX-512F (with the AVX2 and FMA that every AVX-512 CPU has, checked too).
pub(super) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && has_avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// AVX2 and FMA.
pub(super) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The process-wide choice: 0 = none (the widest), else `1 + index in ALL`.
static FORCED: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// The calling thread's choice inside [`with_simd_path`].
    static SCOPED: Cell<Option<SimdPath>> = const { Cell::new(None) };
}

/// Forces `path` for every later kernel call of the process (all threads); an
/// [`Error::Unsupported`] if this CPU does not run it (nothing changes then).
pub fn set_simd_path(path: SimdPath) -> Result<()> {
    let path = SimdPath::parse_supported(path.name())?;
    let index = SimdPath::ALL
        .iter()
        .position(|&p| p == path)
        .expect("in ALL");
    FORCED.store(index as u8 + 1, Ordering::Relaxed);
    Ok(())
}

/// Runs `f` with `path` forced for the kernel calls *started on this thread* (the kernel reads the
/// path once at entry and hands it to its worker threads), then restores the previous choice;
/// an [`Error::Unsupported`] without running `f` if this CPU does not run the path. Tests use it
/// to run one computation on every path in one process.
pub fn with_simd_path<R>(path: SimdPath, f: impl FnOnce() -> R) -> Result<R> {
    let path = SimdPath::parse_supported(path.name())?;
    let previous = SCOPED.replace(Some(path));
    // Restored on unwinding too.
    struct Restore(Option<SimdPath>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.set(self.0);
        }
    }
    let _restore = Restore(previous);
    Ok(f())
}

/// The path the kernel runs now on this thread: [`with_simd_path`]'s, else [`set_simd_path`]'s,
/// else [`SimdPath::widest`]. Always one the CPU supports.
pub fn simd_path() -> SimdPath {
    if let Some(p) = SCOPED.get() {
        return p;
    }
    match FORCED.load(Ordering::Relaxed) {
        0 => SimdPath::widest(),
        i => SimdPath::ALL[i as usize - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for p in SimdPath::ALL {
            assert_eq!(p.name().parse::<SimdPath>().unwrap(), p);
        }
        let e = "sse9".parse::<SimdPath>().unwrap_err().to_string();
        assert!(
            e.contains("sse9") && e.contains("avx512, avx2, portable, scalar"),
            "{e}"
        );
    }

    #[test]
    fn portable_and_scalar_run_everywhere_and_widest_is_supported() {
        assert!(SimdPath::Portable.is_supported() && SimdPath::Scalar.is_supported());
        assert!(SimdPath::widest().is_supported());
        assert_eq!(SimdPath::supported()[0], SimdPath::widest());
    }

    #[test]
    fn scoped_choice_is_restored() {
        let outer = simd_path();
        let inner = with_simd_path(SimdPath::Scalar, || {
            with_simd_path(SimdPath::Portable, simd_path).unwrap()
        })
        .unwrap();
        assert_eq!(inner, SimdPath::Portable);
        assert_eq!(simd_path(), outer);
        if !SimdPath::Avx512.is_supported() {
            assert!(with_simd_path(SimdPath::Avx512, || ()).is_err());
        }
    }
}
