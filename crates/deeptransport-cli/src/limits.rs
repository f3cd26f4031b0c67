//! Bounds on what one run may ask of the machine: counts given on the command line, worker
//! threads and memory. Each is checked before any work, so that an absurd request is a usage
//! error (exit 2) that says why and what to change, never a hang, an abort or a leftover file
//! (docs/cli.md, "Limits").

use crate::BadInput;
use anyhow::Result;

/// Clap value parser of a count (`--samples`, `--layers`, `--k`, `--seed`, …) that must be at
/// least `MIN`. The flags using it also allow values that start with `-`, so that `--samples -1`
/// reaches here and is refused for what it is ("must be ≥ 1, got -1") rather than read by clap
/// as an unknown flag.
pub fn count<const MIN: u64, T: TryFrom<i128>>(s: &str) -> std::result::Result<T, String> {
    let v: i128 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number ≥ {MIN}, got {s:?}"))?;
    if v < i128::from(MIN) {
        return Err(format!("must be ≥ {MIN}, got {v}"));
    }
    T::try_from(v).map_err(|_| format!("{v} is too large"))
}

/// The most `--threads` accepted: 4 × the cores, and at least 64. More threads than that only
/// add start-up and scheduling cost (results are bit-identical for any count), and thousands of
/// them took seconds to start before any work (issue 17: 4096 threads, 9.8 s on 200 points).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (4 * cores).max(64)
}

/// Refuses a run that needs about `bytes` of memory when that exceeds what the machine can give
/// it ([`available_memory`]), or what any machine can address. `what` says what would be held
/// (it starts with the flag that sized it), `reduce` which option makes it smaller.
pub fn check_memory(bytes: f64, what: &str, reduce: &str) -> Result<()> {
    // A request past isize::MAX cannot even be allocated; it is refused on every system.
    let addressable = isize::MAX as f64;
    let available = available_memory();
    let limit = available.map_or(addressable, |a| (a as f64).min(addressable));
    if bytes > limit {
        let have = match available {
            Some(a) => format!("this machine has {} available", human(a as f64)),
            None => "more than any machine can address".to_string(),
        };
        return Err(BadInput::new(format!(
            "{what}: needs about {} of memory, {have}; {reduce}",
            human(bytes)
        )));
    }
    Ok(())
}

/// Bytes in decimal units with three significant digits (`16.0 TB`).
fn human(bytes: f64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Memory a new allocation can get without the OOM killer, in bytes: on Linux `MemAvailable`
/// plus `SwapFree` from `/proc/meminfo`, lowered to the room left under a cgroup v2 limit
/// (`memory.max − memory.current`, containers). `None` elsewhere: only the addressable bound
/// applies there.
fn available_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = info.lines().find(|l| l.starts_with(name))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        };
        let mut avail = field("MemAvailable:").or_else(|| field("MemFree:"))?;
        avail = avail.saturating_add(field("SwapFree:").unwrap_or(0));
        let read = |f: &str| -> Option<u64> {
            std::fs::read_to_string(format!("/sys/fs/cgroup/{f}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        // `memory.max` reads "max" when unlimited, which does not parse: no cgroup bound.
        if let (Some(max), Some(cur)) = (read("memory.max"), read("memory.current")) {
            avail = avail.min(max.saturating_sub(cur));
        }
        Some(avail)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_refuse_negatives_and_small_values_with_the_reason() {
        assert_eq!(count::<1, usize>("3"), Ok(3));
        assert_eq!(count::<0, u64>("0"), Ok(0));
        assert_eq!(
            count::<1, usize>("-1"),
            Err("must be ≥ 1, got -1".to_string())
        );
        assert_eq!(
            count::<1, usize>("0"),
            Err("must be ≥ 1, got 0".to_string())
        );
        assert!(
            count::<1, usize>("1.5")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            count::<0, u64>("99999999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn memory_beyond_any_machine_is_refused() {
        let e = check_memory(1.6e13, "--samples 1000000000000", "lower --samples").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("16.0 TB") && msg.contains("lower --samples"),
            "{msg}"
        );
        assert!(check_memory(1e3, "tiny", "").is_ok());
        assert_eq!(human(999.0), "999 bytes");
        assert_eq!(human(1.5e9), "1.5 GB");
    }
}
