//! The repeat-and-time loop shared by the benchmark examples.

// Not every example reads every field.
#![allow(dead_code)]

use deeptransport::kernel::{SimdPath, set_simd_path};
use std::time::Instant;

/// Forces the SIMD path named by `DEEPTRANSPORT_SIMD` (as the command-line tool does; the widest
/// the CPU has when unset) and returns the path the kernel will run. Exits with a message for an
/// unknown name or a path this CPU lacks.
pub fn simd_path_from_env() -> SimdPath {
    match SimdPath::from_env() {
        Ok(Some(p)) => {
            set_simd_path(p).expect("supported: checked by from_env");
            p
        }
        Ok(None) => SimdPath::widest(),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}

/// The wall-clock seconds of every repeat, their minimum and median, and the last result.
pub struct Timings<T> {
    pub times: Vec<f64>,
    pub min: f64,
    pub median: f64,
    pub last: T,
}

/// Runs `work` `repeats` (≥ 1) times; each time is divided by `calls` (the calls `work` makes per
/// run, so that millisecond-scale operations can be timed in a loop).
pub fn repeat<T>(repeats: usize, calls: usize, mut work: impl FnMut() -> T) -> Timings<T> {
    assert!(repeats > 0 && calls > 0, "at least one repeat and one call");
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        last = Some(work());
        times.push(start.elapsed().as_secs_f64() / calls as f64);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Timings {
        min: sorted[0],
        median: sorted[sorted.len() / 2],
        times,
        last: last.expect("at least one repeat"),
    }
}
