//! `deeptransport entropy`: values against hand-computed k-NN estimates, the JSON contract, point
//! and trajectory files in every accepted layout, and bad input (exit 2, file/row/column named).

mod common;

use common::{bin, f4, f8, npy};
use std::fs;
use std::path::Path;

fn json(out: &[u8]) -> serde_json::Value {
    let text = std::str::from_utf8(out).expect("utf-8");
    assert_eq!(text.trim().lines().count(), 1, "one JSON object: {text}");
    serde_json::from_str(text).expect("valid JSON")
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = bin().args(args).arg("--json").assert().success();
    json(&out.get_output().stdout)
}

fn fails(args: &[&str], needles: &[&str]) {
    let out = bin().args(args).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(out.get_output().stdout.is_empty(), "no stdout on failure");
    for n in needles {
        assert!(err.contains(n), "stderr {err:?} lacks {n:?}");
    }
}

/// The line 0, 1, 3, 7 (N = 4, d = 1): 1st-neighbour distances 1, 1, 2, 4, 2nd 3, 2, 3, 6.
/// KL, k = 1: ψ(4) − ψ(1) + log V₁ + mean log ε = 11/6 + log 2 + (log 2 + log 4)/4.
/// LPS, k = 2, α = 2: C₂ = [Γ(2)/Γ(1)]^{−1} = 1, ζ = 3·2·ε = 18, 12, 18, 36, Î = mean 1/ζ = 1/18:
/// Rényi = log 18, Tsallis = 1 − 1/18. Tolerance 4e-15 relative: a few roundings of O(1) terms.
const LINE: [f64; 4] = [0.0, 1.0, 3.0, 7.0];

fn kl_line() -> f64 {
    11.0 / 6.0 + 2f64.ln() + (2f64.ln() + 4f64.ln()) / 4.0
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 4e-15 * want.abs(),
        "{got} vs {want} (diff {:e})",
        got - want
    );
}

#[test]
fn data_file_gives_the_hand_computed_estimates_and_json_keys() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("line.csv");
    fs::write(&csv, "# four points\nx\n0\n1\n3\n7\n").unwrap();
    let c = csv.to_str().unwrap();
    let v = run_json(&["entropy", "--data", c, "--k", "1"]);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|s| s.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, ["dim", "entropy", "estimator", "k", "n"]);
    assert_eq!(v["estimator"], "kl");
    assert_eq!(
        (v["k"].as_u64(), v["n"].as_u64(), v["dim"].as_u64()),
        (Some(1), Some(4), Some(1))
    );
    close(v["entropy"].as_f64().unwrap(), kl_line());

    let v = run_json(&["entropy", "--data", c, "--k", "2", "--estimator", "renyi:2"]);
    assert_eq!(v["estimator"], "renyi:2");
    close(v["entropy"].as_f64().unwrap(), 18f64.ln());
    let v = run_json(&[
        "entropy",
        "--data",
        c,
        "--k",
        "2",
        "--estimator",
        "tsallis:2",
    ]);
    assert_eq!(v["estimator"], "tsallis:2");
    close(v["entropy"].as_f64().unwrap(), 17.0 / 18.0);

    // The same points as .npy: C order <f8, Fortran order (n, 1), <f4 (exact for these integers).
    for (name, bytes) in [
        ("c.npy", npy("<f8", false, &[4, 1], &f8(&LINE))),
        ("f.npy", npy("<f8", true, &[4, 1], &f8(&LINE))),
        (
            "s.npy",
            npy("<f4", false, &[4, 1], &f4(&LINE.map(|v| v as f32))),
        ),
    ] {
        let p = dir.path().join(name);
        fs::write(&p, bytes).unwrap();
        let v = run_json(&["entropy", "--data", p.to_str().unwrap(), "--k", "1"]);
        close(v["entropy"].as_f64().unwrap(), kl_line());
    }

    // Human output names the estimator and k; the default k is 3 (k = 3 < N = 4 here).
    let out = bin().args(["entropy", "--data", c]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("k = 3") && text.contains("nats"), "{text}");
}

/// A trajectory (T = 3) with slices x, 2x, x + 5: entropies H, H + log 2, H (scaling law and
/// translation invariance, d = 1), times from the sidecar or slice indices; C, Fortran and <f4.
#[test]
fn trajectory_gives_one_entropy_per_slice_with_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut vals = vec![];
    vals.extend(LINE);
    vals.extend(LINE.map(|x| 2.0 * x));
    vals.extend(LINE.map(|x| x + 5.0));
    // Fortran order of a (3, 4, 1) array: the slice index varies fastest.
    let fortran: Vec<f64> = (0..4)
        .flat_map(|i| (0..3).map(move |s| (s, i)))
        .map(|(s, i)| vals[s * 4 + i])
        .collect();
    let h = kl_line();
    for (name, bytes) in [
        ("c.npy", npy("<f8", false, &[3, 4, 1], &f8(&vals))),
        ("f.npy", npy("<f8", true, &[3, 4, 1], &f8(&fortran))),
        (
            "s.npy",
            npy(
                "<f4",
                false,
                &[3, 4, 1],
                &f4(&vals.iter().map(|&v| v as f32).collect::<Vec<_>>()),
            ),
        ),
    ] {
        let p = dir.path().join(name);
        fs::write(&p, bytes).unwrap();
        let v = run_json(&["entropy", "--trajectory", p.to_str().unwrap(), "--k", "1"]);
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|s| s.as_str()).collect();
        keys.sort();
        assert_eq!(keys, ["dim", "entropy", "estimator", "k", "n", "times"]);
        assert_eq!((v["n"].as_u64(), v["dim"].as_u64()), (Some(4), Some(1)));
        assert_eq!(v["times"], serde_json::json!([0.0, 1.0, 2.0]));
        let e: Vec<f64> = v["entropy"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        close(e[0], h);
        close(e[1], h + 2f64.ln());
        close(e[2], h);
    }
    // Sidecar times.
    let p = dir.path().join("c.npy");
    fs::write(dir.path().join("c.times.csv"), "t\n0\n0.25\n1.5\n").unwrap();
    let v = run_json(&["entropy", "--trajectory", p.to_str().unwrap(), "--k", "1"]);
    assert_eq!(v["times"], serde_json::json!([0.0, 0.25, 1.5]));
    // A sidecar of the wrong length or with decreasing times is refused, naming it.
    fs::write(dir.path().join("c.times.csv"), "t\n0\n0.25\n").unwrap();
    fails(
        &["entropy", "--trajectory", p.to_str().unwrap()],
        &["c.times.csv", "one time per slice"],
    );
    fs::write(dir.path().join("c.times.csv"), "t\n0\n0.25\n0.1\n").unwrap();
    fails(
        &["entropy", "--trajectory", p.to_str().unwrap()],
        &["c.times.csv", "row 3, column 1"],
    );
}

/// The output does not depend on --threads (bit-identical JSON), on a cloud large enough to be
/// split over several parallel blocks on both search paths (d = 3: tree; d = 20: brute force).
#[test]
fn output_is_thread_independent() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // xorshift64*: a deterministic, dependency-free source of distinct coordinates.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    for d in [3usize, 20] {
        let rows: Vec<String> = (0..1500)
            .map(|_| {
                (0..d)
                    .map(|_| format!("{:?}", next()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let p = dir.path().join(format!("x{d}.csv"));
        fs::write(&p, rows.join("\n")).unwrap();
        let p = p.to_str().unwrap();
        let outs: Vec<Vec<u8>> = ["1", "2"]
            .iter()
            .map(|t| {
                let args = ["entropy", "--data", p, "--estimator", "renyi:1.5", "--json"];
                bin()
                    .args(args)
                    .args(["--threads", t])
                    .assert()
                    .success()
                    .get_output()
                    .stdout
                    .clone()
            })
            .collect();
        assert_eq!(outs[0], outs[1]);
        assert!(json(&outs[0])["entropy"].as_f64().unwrap().is_finite());
    }
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let line = write("line.csv", "0\n1\n3\n7\n");
    fails(
        &["entropy", "--data", &line, "--k", "4"],
        &["line.csv", "--k 4", "5 points"],
    );
    fails(
        &["entropy", "--data", &line, "--k", "0"],
        &["--k", "must be ≥ 1, got 0"],
    );
    fails(
        &["entropy", "--data", &line, "--estimator", "renyi:1"],
        &["--estimator renyi:1", "≠ 1"],
    );
    fails(
        &[
            "entropy",
            "--data",
            &line,
            "--estimator",
            "tsallis:2.5",
            "--k",
            "1",
        ],
        &["α < k + 1 = 2"],
    );
    fails(
        &["entropy", "--data", &line, "--estimator", "shannon"],
        &["--estimator shannon", "kl, renyi:ALPHA or tsallis:ALPHA"],
    );
    // Duplicated rows: named (1-based data rows, header not counted).
    let dup = write("dup.csv", "x,y\n0,0\n1,2\n3,1\n1,2\n5,5\n");
    fails(
        &["entropy", "--data", &dup, "--k", "1"],
        &["dup.csv", "row 2 (identical to row 4)", "2 of 5 points"],
    );
    // Bad cell: file, row and column.
    let bad = write("bad.csv", "x,y\n0,0\n1,oops\n3,1\n");
    fails(
        &["entropy", "--data", &bad],
        &["bad.csv", "row 2, column 2"],
    );
    // Trajectory: a 2-D file, a NaN (slice, row, column), a CSV.
    let two_d = dir.path().join("two.npy");
    fs::write(&two_d, npy("<f8", false, &[4, 1], &f8(&LINE))).unwrap();
    fails(
        &["entropy", "--trajectory", two_d.to_str().unwrap()],
        &["two.npy", "3-D"],
    );
    let mut vals = LINE.to_vec();
    vals.extend([0.0, 1.0, f64::NAN, 2.0]);
    let nan = dir.path().join("nan.npy");
    fs::write(&nan, npy("<f8", false, &[2, 4, 1], &f8(&vals))).unwrap();
    fails(
        &["entropy", "--trajectory", nan.to_str().unwrap()],
        &["nan.npy", "slice 2, row 3, column 1"],
    );
    fails(&["entropy", "--trajectory", &line], &["line.csv", ".npy"]);
    // A slice with duplicates is named by its time index.
    let mut vals = LINE.to_vec();
    vals.extend([0.0, 1.0, 1.0, 2.0]);
    let dslice = dir.path().join("dslice.npy");
    fs::write(&dslice, npy("<f8", false, &[2, 4, 1], &f8(&vals))).unwrap();
    fails(
        &[
            "entropy",
            "--trajectory",
            dslice.to_str().unwrap(),
            "--k",
            "1",
        ],
        &["dslice.npy", "time index 1", "row 2 (identical to row 3)"],
    );
    // Usage: no input, both inputs, missing file.
    fails(&["entropy"], &["--data"]);
    fails(
        &[
            "entropy",
            "--data",
            &line,
            "--trajectory",
            two_d.to_str().unwrap(),
        ],
        &["cannot be used with"],
    );
    let missing = Path::new(dir.path()).join("missing.csv");
    fails(
        &["entropy", "--data", missing.to_str().unwrap()],
        &["missing.csv"],
    );
}

#[test]
fn help_has_an_example() {
    let out = bin().args(["entropy", "--help"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("Examples:") && text.contains("deeptransport entropy --data"));
    assert!(text.contains("[default: kl]") && text.contains("[default: 3]"));
}
