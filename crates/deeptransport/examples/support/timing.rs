//! The repeat-and-time loop shared by the benchmark examples.

// Not every example reads every field.
#![allow(dead_code)]

use std::time::Instant;

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
