//! Bounded work and honest refusals (issue 17, items 3–7): memory estimated before allocating,
//! `--threads` bounded, interruption leaving no temporary file, destinations checked before the
//! work, variances below the smallest normal double refused, numbers in messages short, negative
//! counts refused with their reason, and `deep --tau T` needing `--layers`.

mod common;

use common::{bin, npy_f8};
use std::fs;
use std::path::Path;
use std::time::Duration;

const GAUSS: &str = r#"{"kind": "gaussian", "mean": [0, 0], "cov": [[1, 0], [0, 1]]}"#;

/// Runs the binary in `dir` (at most `secs` seconds): exit code (None if killed), stdout, stderr.
fn run_in(dir: &Path, args: &[&str], secs: u64) -> (Option<i32>, String, String) {
    let out = bin()
        .current_dir(dir)
        .args(args)
        .timeout(Duration::from_secs(secs))
        .output()
        .expect("run the binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The names of the `.deeptransport-*` temporaries left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".deeptransport-"))
        .collect()
}

/// A message must not print a number with dozens of digits (`{}` of 1e-320 has 320).
fn assert_short_numbers(msg: &str) {
    let mut run = 0;
    for c in msg.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        assert!(run < 25, "a number with 25+ digits in: {msg}");
    }
}

fn assert_refused(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let (code, _, err) = run_in(dir, args, 120);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected {n:?} in: {err}");
    }
    assert_short_numbers(&err);
    assert!(leftovers(dir).is_empty(), "{args:?}: {:?}", leftovers(dir));
    err
}

/// `MemTotal` of this machine in bytes (Linux).
#[cfg(target_os = "linux")]
fn mem_total() -> f64 {
    let info = fs::read_to_string("/proc/meminfo").unwrap();
    let line = info.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024.0
}

/// Item 3: `--samples 10¹²` used to abort with "memory allocation of 16000000000000 bytes failed"
/// (SIGABRT) and leave a temporary file; now exit 2 before allocating, naming the size and the
/// option that reduces it.
#[test]
fn samples_beyond_memory_are_refused_before_allocating() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("g.json"), GAUSS).unwrap();
    let huge = "1000000000000";
    for args in [
        &["dae", "--measure", "g.json", "--t", "0.5", "--out", "o.npy"][..],
        &[
            "deep",
            "--measure",
            "g.json",
            "--tau",
            "0.1",
            "--layers",
            "2",
            "--out",
            "o.npy",
        ],
        &[
            "flow",
            "--measure",
            "g.json",
            "--t",
            "0.1",
            "--out",
            "o.npy",
        ],
    ] {
        let mut all = args.to_vec();
        all.extend(["--samples", huge]);
        let err = assert_refused(w.path(), &all, &["--samples", "memory", "TB"]);
        assert!(!w.path().join("o.npy").exists(), "{err}");
    }
}

/// Item 3: a trajectory of 10⁶ layers times enough points to exceed this machine's memory is
/// refused before the recursion starts (it asked for the whole trajectory without a check).
#[cfg(target_os = "linux")]
#[test]
fn deep_trajectory_beyond_memory_is_refused() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("g.json"), GAUSS).unwrap();
    // (L + 1)·n·d·8 bytes for one copy of the trajectory: twice the machine's memory.
    let n = (2.0 * mem_total() / (1e6 * 2.0 * 8.0)).ceil() as u64;
    let n = n.to_string();
    let args = [
        "deep",
        "--measure",
        "g.json",
        "--tau",
        "0.1",
        "--layers",
        "1000000",
        "--samples",
        &n,
        "--out",
        "o.npy",
    ];
    assert_refused(w.path(), &args, &["--layers", "memory"]);
    // The particle path too (a mixture is sampled and moved as particles).
    let mix = r#"{"kind": "mixture", "weights": [0.5, 0.5], "components": [
        {"mean": [0, 0], "cov": [[1, 0], [0, 1]]}, {"mean": [3, 0], "cov": [[1, 0], [0, 1]]}]}"#;
    fs::write(w.path().join("mix.json"), mix).unwrap();
    let args = [
        "deep",
        "--measure",
        "mix.json",
        "--tau",
        "0.1",
        "--layers",
        "1000000",
        "--samples",
        &n,
        "--out",
        "o.npy",
    ];
    assert_refused(w.path(), &args, &["--layers", "memory"]);
}

/// Item 3: the dense Sinkhorn plan of 10⁶ × 10⁶ points (8 TB) is refused before any sweep.
#[test]
fn dense_plan_beyond_memory_is_refused() {
    let w = tempfile::tempdir().unwrap();
    let n = 1_000_000;
    let pts: Vec<f64> = (0..n).map(|i| i as f64).collect();
    fs::write(w.path().join("a.npy"), npy_f8(n, 1, &pts)).unwrap();
    let args = [
        "w2", "--a", "a.npy", "--b", "a.npy", "--method", "sinkhorn", "--plan", "p.npy",
    ];
    assert_refused(w.path(), &args, &["--plan", "memory", "TB"]);
}

/// Item 4: `--threads 100000` hung (4096 threads took 9.8 s on 200 points); now a usage error
/// naming the bound.
#[test]
fn threads_are_bounded() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("d.csv"), "0,0\n1,0\n0,1\n").unwrap();
    let args = [
        "dae",
        "--data",
        "d.csv",
        "--t",
        "0.5",
        "--out",
        "o.npy",
        "--threads",
        "100000",
    ];
    let err = assert_refused(w.path(), &args, &["--threads", "at most"]);
    assert!(!w.path().join("o.npy").exists(), "{err}");
}

/// Item 5: SIGINT or SIGTERM during a run removes the temporary output and exits with 130.
#[cfg(unix)]
#[test]
fn interruption_removes_the_temporary_output() {
    let w = tempfile::tempdir().unwrap();
    // 4000 particles × 2000 layers: minutes of work, interrupted after the temporary appears.
    let pts: Vec<f64> = (0..8000)
        .map(|i| ((i * 7919) % 1000) as f64 / 100.0)
        .collect();
    fs::write(w.path().join("d.npy"), npy_f8(4000, 2, &pts)).unwrap();
    for signal in ["INT", "TERM"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("deeptransport"))
            .current_dir(w.path())
            .args([
                "deep",
                "--data",
                "d.npy",
                "--tau",
                "0.01",
                "--layers",
                "2000",
                "--out",
                "o.npy",
                "--threads",
                "1",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while leftovers(w.path()).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no temporary file appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        let ok = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status:?}");
        assert!(
            leftovers(w.path()).is_empty(),
            "SIG{signal} left {:?}",
            leftovers(w.path())
        );
        assert!(!w.path().join("o.npy").exists());
    }
}

/// Item 6: every destination, the trajectory's `NAME.times.csv` sidecar and `tracks --out`
/// included, is checked before any input is read or any work done.
#[test]
fn destinations_are_checked_before_the_work() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("g.json"), GAUSS).unwrap();
    fs::create_dir(w.path().join("o.times.csv")).unwrap();
    fs::create_dir(w.path().join("dir.csv")).unwrap();
    // The input does not exist: the destination must be reported first.
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "deep",
                "--data",
                "missing.csv",
                "--tau",
                "0.1",
                "--layers",
                "2",
                "--out",
                "o.npy",
            ],
            "o.times.csv",
        ),
        (
            &[
                "flow",
                "--measure",
                "missing.json",
                "--t",
                "0.1",
                "--out",
                "o.npy",
            ],
            "o.times.csv",
        ),
        (
            &["tracks", "--trajectory", "missing.npy", "--out", "dir.csv"],
            "dir.csv",
        ),
        (
            &[
                "dae",
                "--data",
                "missing.csv",
                "--t",
                "0.1",
                "--out",
                "nope/o.npy",
            ],
            "nope",
        ),
        (
            &[
                "recon",
                "--input",
                "missing.csv",
                "--recon",
                "missing.csv",
                "--out",
                "dir.csv",
            ],
            "dir.csv",
        ),
    ];
    for (args, needle) in cases {
        let err = assert_refused(w.path(), args, &[needle]);
        assert!(!err.contains("missing"), "{args:?}: {err}");
        assert!(!w.path().join("o.npy").exists());
    }
}

/// Item 7: a variance below the smallest normal double (5e-324, 1e-320) is refused as such, not
/// as "no data point lies in the noise support", with the numbers printed short.
#[test]
fn subnormal_variances_are_refused() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("d.csv"), "0,0\n1,0\n0,1\n").unwrap();
    fs::write(w.path().join("g.json"), GAUSS).unwrap();
    for t in ["5e-324", "1e-320", "2e-308"] {
        for args in [
            &["dae", "--data", "d.csv", "--t", t, "--out", "o.npy"][..],
            &["dae", "--measure", "g.json", "--t", t, "--out", "o.npy"],
            &[
                "deep", "--data", "d.csv", "--tau", t, "--layers", "2", "--out", "o.npy",
            ],
            &[
                "deep",
                "--data",
                "d.csv",
                "--tau",
                &format!("0.1,{t}"),
                "--out",
                "o.npy",
            ],
            &["flow", "--measure", "g.json", "--t", t, "--out", "o.npy"],
        ] {
            let err = assert_refused(
                w.path(),
                args,
                &["smallest normal", "2.2250738585072014e-308"],
            );
            assert!(!err.contains("noise support"), "{args:?}: {err}");
        }
    }
    // The smallest normal double itself is a valid variance.
    let (code, _, err) = run_in(
        w.path(),
        &[
            "dae",
            "--data",
            "d.csv",
            "--t",
            "2.2250738585072014e-308",
            "--out",
            "o.npy",
        ],
        60,
    );
    assert_eq!(code, Some(0), "{err}");
}

/// Item 7: refusals print numbers in shortest round-trip form, with an exponent when extreme.
#[test]
fn refusals_print_extreme_numbers_short() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("d.csv"), "0,0\n1,0\n").unwrap();
    fs::write(w.path().join("w.csv"), "1\n-1e-300\n").unwrap();
    let err = assert_refused(
        w.path(),
        &[
            "dae",
            "--data",
            "d.csv",
            "--weights",
            "w.csv",
            "--t",
            "0.5",
            "--out",
            "o.npy",
        ],
        &["-1e-300"],
    );
    assert!(err.contains("row 2"), "{err}");
    let err = assert_refused(
        w.path(),
        &[
            "flow",
            "--measure",
            "missing.json",
            "--t",
            "1e-300",
            "--rtol",
            "1e-310",
            "--out",
            "o.npy",
        ],
        &["--rtol", "1e-310"],
    );
    assert!(!err.contains("0.000000"), "{err}");
}

/// Item 7: a negative count is a value refused with its reason, not clap's "unexpected argument".
#[test]
fn negative_counts_are_refused_with_the_reason() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("d.csv"), "0,0\n1,0\n0,1\n").unwrap();
    fs::write(w.path().join("g.json"), GAUSS).unwrap();
    // (command line, the count flag, its smallest value)
    let cases = [
        ("dae --measure g.json --t 0.5 --out o.npy", "--samples", "1"),
        ("dae --measure g.json --t 0.5 --out o.npy", "--seed", "0"),
        ("dae --data d.csv --t 0.5 --out o.npy", "--threads", "1"),
        ("deep --data d.csv --tau 0.1 --out o.npy", "--layers", "1"),
        (
            "flow --measure g.json --t 0.1 --out o.npy",
            "--max-steps",
            "1",
        ),
        (
            "flow --measure g.json --t 0.1 --out o.npy",
            "--samples",
            "1",
        ),
        ("entropy --data d.csv", "--k", "1"),
        ("w2 --a d.csv --b d.csv", "--max-iter", "1"),
        (
            "sdot --target d.csv --potential h.npy --out o.npy",
            "--generate",
            "1",
        ),
        ("sdot --target d.csv --potential h.npy", "--max-iter", "1"),
        ("tracks --layers d.csv,d.csv", "--max-samples", "1"),
        (
            "recon --input d.csv --recon d.csv --homology",
            "--max-samples",
            "1",
        ),
    ];
    for (line, flag, min) in cases {
        let mut all: Vec<&str> = line.split_whitespace().collect();
        all.extend([flag, "-1"]);
        let err = assert_refused(w.path(), &all, &[flag, &format!("≥ {min}"), "-1"]);
        assert!(!err.contains("unexpected argument"), "{all:?}: {err}");
    }
}

/// Item 7: `deep --tau T` with one variance needs `--layers L`, as `--help` and the contract say.
#[test]
fn deep_single_tau_needs_layers() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("d.csv"), "0,0\n1,0\n0,1\n").unwrap();
    assert_refused(
        w.path(),
        &["deep", "--data", "d.csv", "--tau", "0.1", "--out", "o.npy"],
        &["--layers"],
    );
    assert!(!w.path().join("o.npy").exists());
    // A list gives the depth by its length; `--layers 1` gives one layer.
    for args in [
        &[
            "deep", "--data", "d.csv", "--tau", "0.1,0.2", "--out", "o.npy",
        ][..],
        &[
            "deep", "--data", "d.csv", "--tau", "0.1", "--layers", "1", "--out", "o.npy",
        ],
    ] {
        let (code, _, err) = run_in(w.path(), args, 60);
        assert_eq!(code, Some(0), "{args:?}: {err}");
    }
}
