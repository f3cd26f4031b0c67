//! `deeptransport w2` on the real binary with real files: values against hand computations and
//! closed forms, methods against each other, plan files against the marginals, and every bad
//! input against the contract (exit 2, file / row / column named, no partial output).

mod common;

use common::{bin, f8, npy, npy_f8, read_npy};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn write(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = bin().arg("w2").args(args).arg("--json").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "exactly one JSON line: {stdout}");
    serde_json::from_str(&stdout).expect("valid JSON")
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("numeric key {key} in {v}"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A deterministic pseudo-random sequence in (−1, 1) (LCG), so the tests need no RNG crate.
fn lcg(seed: u64, len: usize) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

#[test]
fn exact_default_method_matches_the_hand_computed_coupling() {
    // a = {0, 1, 3} (uniform 1/3), b = {1, 2} (uniform 1/2): the sorted coupling moves 1/3 from 0
    // to 1, 1/6 from 1 to 1, 1/6 from 1 to 2 and 1/3 from 3 to 2: W₂² = 1/3 + 1/6 + 1/3 = 5/6.
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.csv", "x\n0\n1\n3\n");
    let b = write(&dir, "b.csv", "1\n2\n");
    for method in [None, Some("exact"), Some("1d")] {
        let mut args = vec!["--a", s(&a), "--b", s(&b)];
        if let Some(mth) = method {
            args.extend(["--method", mth]);
        }
        let v = json(&args);
        assert_eq!(v["method"], method.unwrap_or("exact"));
        assert_eq!(v["n"], 3);
        assert_eq!(v["m"], 2);
        assert!((num(&v, "w2_squared") - 5.0 / 6.0).abs() <= 1e-15);
        assert!((num(&v, "w2") - (5.0f64 / 6.0).sqrt()).abs() <= 1e-15);
        if method != Some("1d") {
            assert!(num(&v, "duality_gap").abs() <= 1e-15);
            assert!(v["iterations"].as_u64().is_some());
        }
    }
}

#[test]
fn weighted_plan_csv_holds_the_quantile_coupling() {
    // Weights 1, 1, 2 on {0, 1, 3} → 1/4, 1/4, 1/2; b uniform on {1, 2}: plan 0→1 1/4, 1→1 1/4,
    // 3→2 1/2; W₂² = 1/4 + 0 + 1/2 = 3/4.
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.csv", "0\n1\n3\n");
    let b = write(&dir, "b.csv", "1\n2\n");
    let wa = write(&dir, "wa.csv", "1\n1\n2\n");
    for method in ["exact", "1d"] {
        let plan = dir.path().join(format!("plan_{method}.csv"));
        let v = json(&[
            "--a",
            s(&a),
            "--b",
            s(&b),
            "--a-weights",
            s(&wa),
            "--method",
            method,
            "--plan",
            s(&plan),
        ]);
        assert_eq!(num(&v, "w2_squared"), 0.75);
        let text = fs::read_to_string(&plan).unwrap();
        assert_eq!(text, "i,j,mass\n0,0,0.25\n1,0,0.25\n2,1,0.5\n", "{method}");
    }
}

#[test]
fn exact_and_sorting_agree_on_random_1d_clouds_and_plans_have_the_marginals() {
    let dir = TempDir::new().unwrap();
    let (n, m) = (60, 45);
    let x = lcg(1, n);
    let y: Vec<f64> = lcg(2, m).iter().map(|v| 1.5 * v + 0.2).collect();
    let wa: Vec<f64> = lcg(3, n).iter().map(|v| v.abs() + 0.01).collect();
    let a = write(&dir, "a.npy", npy_f8(n, 1, &x));
    let b = write(&dir, "b.npy", npy_f8(m, 1, &y));
    let wfile = write(&dir, "wa.npy", npy_f8(n, 1, &wa));
    let mut costs = Vec::new();
    for method in ["exact", "1d"] {
        let plan = dir.path().join(format!("{method}.npy"));
        let v = json(&[
            "--a",
            s(&a),
            "--b",
            s(&b),
            "--a-weights",
            s(&wfile),
            "--method",
            method,
            "--plan",
            s(&plan),
        ]);
        costs.push(num(&v, "w2_squared"));
        let (shape, data) = read_npy(&plan);
        let (k, three) = (shape[0], shape[1]);
        assert_eq!(three, 3);
        assert!(k < n + m, "at most n + m − 1 entries");
        let total: f64 = wa.iter().sum();
        let mut rows = vec![0.0; n];
        let mut cols = vec![0.0; m];
        let mut cost = 0.0;
        for e in data.chunks_exact(3) {
            let (i, j, p) = (e[0] as usize, e[1] as usize, e[2]);
            rows[i] += p;
            cols[j] += p;
            cost += p * (x[i] - y[j]) * (x[i] - y[j]);
        }
        for i in 0..n {
            assert!((rows[i] - wa[i] / total).abs() <= 1e-12);
        }
        for c in cols {
            assert!((c - 1.0 / m as f64).abs() <= 1e-12);
        }
        assert!((cost - num(&v, "w2_squared")).abs() <= 1e-12 * cost);
    }
    assert!((costs[0] - costs[1]).abs() <= 1e-12 * costs[1], "{costs:?}");
}

#[test]
fn gaussian_method_is_the_closed_form_of_the_fitted_gaussians_in_1d() {
    // In d = 1, Bures: W₂² = (m₁ − m₂)² + (σ₁ − σ₂)² with the (biased) fitted moments.
    let dir = TempDir::new().unwrap();
    let x = [0.0, 1.0, 3.0, 4.0];
    let y = [2.0, 2.5, 6.0];
    let a = write(&dir, "a.csv", "0\n1\n3\n4\n");
    let b = write(&dir, "b.csv", "2\n2.5\n6\n");
    let moments = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / v.len() as f64;
        (mean, var.sqrt())
    };
    let ((m1, s1), (m2, s2)) = (moments(&x), moments(&y));
    let expected = (m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2);
    let v = json(&["--a", s(&a), "--b", s(&b), "--method", "gaussian"]);
    assert_eq!(v["method"], "gaussian");
    assert!((num(&v, "w2_squared") - expected).abs() <= 1e-12 * expected);
}

#[test]
fn sinkhorn_reports_its_keys_and_approaches_the_exact_cost() {
    // ⟨P_ε, C⟩ ≥ W₂² (P_ε is a coupling, up to its marginal error), and
    // ⟨P_ε, C⟩ ≤ OT_ε ≤ ⟨P*, C⟩ + ε KL(P* | a⊗b) ≤ W₂² + ε log min(n, m) for uniform weights (the
    // optimal plan's KL to a⊗b is at most the smaller entropy); the dense plan has the marginals.
    let dir = TempDir::new().unwrap();
    let (n, m) = (30, 25);
    let x = lcg(4, 2 * n);
    let y: Vec<f64> = lcg(5, 2 * m).iter().map(|v| 0.7 * v + 0.3).collect();
    let a = write(&dir, "a.npy", npy_f8(n, 2, &x));
    let b = write(&dir, "b.npy", npy_f8(m, 2, &y));
    let w2 = num(&json(&["--a", s(&a), "--b", s(&b)]), "w2_squared");
    let eps = 1e-2;
    let plan = dir.path().join("plan.npy");
    let v = json(&[
        "--a",
        s(&a),
        "--b",
        s(&b),
        "--method",
        "sinkhorn",
        "--eps",
        "1e-2",
        "--tol",
        "1e-9",
        "--plan",
        s(&plan),
    ]);
    for key in [
        "method",
        "n",
        "m",
        "w2_squared",
        "w2",
        "eps",
        "iterations",
        "converged",
        "marginal_error",
        "sinkhorn_divergence",
    ] {
        assert!(v.get(key).is_some(), "missing key {key} in {v}");
    }
    assert_eq!(v["converged"], true);
    assert_eq!(num(&v, "eps"), eps);
    assert!(num(&v, "marginal_error") <= 1e-9);
    let c = num(&v, "w2_squared");
    let diam2 = 8.0; // coordinates in (−1, 1): |x − y|² < 2² + 2²
    assert!(c >= w2 - 1e-10 * diam2, "{c} < {w2}");
    assert!(
        c - w2 <= eps * (n.min(m) as f64).ln() + 1e-10 * diam2,
        "{c} vs {w2}"
    );
    let (shape, p) = read_npy(&plan);
    let (pn, pm) = (shape[0], shape[1]);
    assert_eq!((pn, pm), (n, m));
    for i in 0..n {
        let row: f64 = p[i * m..(i + 1) * m].iter().sum();
        assert!((row - 1.0 / n as f64).abs() <= 1e-9);
    }
}

/// Runs a failing command: exit 2, stderr contains every needle, the existing plan file is
/// untouched and no temporary file is left.
fn fails(dir: &TempDir, args: &[&str], needles: &[&str]) {
    let plan = dir.path().join("plan.csv");
    fs::write(&plan, "keep me").unwrap();
    let out = bin()
        .arg("w2")
        .args(args)
        .args(["--plan", s(&plan)])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for n in needles {
        assert!(err.contains(n), "stderr {err:?} lacks {n:?}");
    }
    assert_eq!(fs::read_to_string(&plan).unwrap(), "keep me");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".deeptransport-")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_inputs_exit_2_naming_the_file_row_and_column() {
    let dir = TempDir::new().unwrap();
    let a2 = write(&dir, "a2.csv", "0,0\n1,1\n");
    let b3 = write(&dir, "b3.csv", "0,0,0\n1,1,1\n");
    let b2 = write(&dir, "b2.csv", "0,1\n2,3\n4,5\n");
    let nan = write(&dir, "nan.csv", "0,0\n1,nan\n");
    let empty = write(&dir, "empty.csv", "x,y\n");
    let neg = write(&dir, "neg.csv", "1\n-1\n");
    let zero = write(&dir, "zero.csv", "0\n0\n0\n");
    let short = write(&dir, "short.csv", "1\n");
    let line = write(&dir, "line.csv", "0\n1\n");
    // Different dimensions: both files named.
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&b3)],
        &["b3.csv", "a2.csv", "dimension"],
    );
    // NaN: file, row and column.
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&nan)],
        &["nan.csv", "row 2", "column 2"],
    );
    // n = 0.
    fails(&dir, &["--a", s(&empty), "--b", s(&a2)], &["empty.csv"]);
    // Weights: negative, zero sum, wrong count.
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&a2), "--a-weights", s(&neg)],
        &["neg.csv", "row 2"],
    );
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&b2), "--b-weights", s(&zero)],
        &["zero.csv", "sum"],
    );
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&a2), "--b-weights", s(&short)],
        &["short.csv"],
    );
    // 1d on d > 1; ε ≤ 0; tol ≤ 0; unknown method; gaussian has no plan.
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&b2), "--method", "1d"],
        &["1d", "a2.csv", "dimension 2"],
    );
    fails(
        &dir,
        &[
            "--a",
            s(&a2),
            "--b",
            s(&b2),
            "--method",
            "sinkhorn",
            "--eps",
            "0",
        ],
        &["--eps"],
    );
    fails(
        &dir,
        &[
            "--a",
            s(&a2),
            "--b",
            s(&b2),
            "--method",
            "sinkhorn",
            "--eps",
            "-1",
        ],
        &["--eps"],
    );
    fails(
        &dir,
        &[
            "--a",
            s(&a2),
            "--b",
            s(&b2),
            "--method",
            "sinkhorn",
            "--tol",
            "0",
        ],
        &["--tol"],
    );
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&b2), "--method", "simplex"],
        &["simplex"],
    );
    fails(
        &dir,
        &["--a", s(&a2), "--b", s(&b2), "--method", "gaussian"],
        &["--plan", "gaussian"],
    );
    // Singular fitted covariance (two points in the plane lie on a line).
    let out = bin()
        .args(["w2", "--a", s(&a2), "--b", s(&b2), "--method", "gaussian"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("a2.csv"), "{err}");
    // A missing file.
    fails(
        &dir,
        &["--a", "nonexistent.csv", "--b", s(&line)],
        &["nonexistent.csv"],
    );
}

#[test]
fn a_problem_too_large_for_the_exact_solver_exits_2() {
    // (2¹⁸ + 1)² arcs exceed the exact solver's limit (2³⁶); 2 MiB per file.
    let dir = TempDir::new().unwrap();
    let n = (1usize << 18) + 1;
    let a = write(&dir, "big.npy", npy_f8(n, 1, &vec![0.0; n]));
    fails(&dir, &["--a", s(&a), "--b", s(&a)], &["too large"]);
}

#[test]
fn exact_stopped_by_the_pivot_limit_fails_with_exit_1() {
    // Not an optimum, so no W₂ is printed: exit 1 (not bad input), with the advice.
    let dir = TempDir::new().unwrap();
    let a = write(&dir, "a.npy", npy_f8(20, 2, &lcg(6, 40)));
    let b = write(&dir, "b.npy", npy_f8(20, 2, &lcg(7, 40)));
    let out = bin()
        .args([
            "w2",
            "--a",
            s(&a),
            "--b",
            s(&b),
            "--max-iter",
            "2",
            "--json",
        ])
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("--max-iter"), "{err}");
    assert!(out.get_output().stdout.is_empty());
}

#[test]
fn help_shows_an_example() {
    let out = bin().args(["w2", "--help"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("deeptransport w2 --a"));
    for flag in [
        "--a-weights",
        "--b-weights",
        "--method",
        "--eps",
        "--tol",
        "--plan",
        "--json",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
}

/// `--trajectory`: W₂ from the first slice. In 1-D, a shift by 0.5 gives 0.5 and a dilation
/// (0, 1, 2) → (0, 2, 4) gives √(5/3) (sorted coupling); in 2-D a translation by (0.3, 0.4) of a
/// uniform cloud gives exactly 0.5 (the translation is the optimal map). The times come from the
/// sidecar.
#[test]
fn trajectory_gives_w2_from_the_first_slice() {
    let dir = TempDir::new().unwrap();
    let one_d = [0.0, 1.0, 2.0, 0.5, 1.5, 2.5, 0.0, 2.0, 4.0];
    let p1 = write(&dir, "t1.npy", npy("<f8", false, &[3, 3, 1], &f8(&one_d)));
    fs::write(dir.path().join("t1.times.csv"), "t\n0\n0.1\n0.2\n").unwrap();
    let v = json(&["--trajectory", s(&p1)]);
    let w: Vec<f64> = v["w2"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(v["times"], serde_json::json!([0.0, 0.1, 0.2]));
    assert_eq!(w[0], 0.0);
    assert!((w[1] - 0.5).abs() < 1e-15, "{w:?}");
    assert!((w[2] - (5.0f64 / 3.0).sqrt()).abs() < 1e-15, "{w:?}");
    let cloud = [0.0, 0.0, 1.0, 0.2, -0.5, 0.7, 0.3, -1.0];
    let moved: Vec<f64> = cloud
        .chunks(2)
        .flat_map(|p| [p[0] + 0.3, p[1] + 0.4])
        .collect();
    let p2 = write(
        &dir,
        "t2.npy",
        npy(
            "<f8",
            false,
            &[2, 4, 2],
            &f8(&[&cloud[..], &moved[..]].concat()),
        ),
    );
    let v = json(&["--trajectory", s(&p2)]);
    assert_eq!(v["method"], "exact");
    let w = v["w2"][1].as_f64().unwrap();
    assert!((w - 0.5).abs() < 1e-12, "{w}");
    // Only the exact methods apply, and --a/--b cannot be mixed in.
    let (code, _, _) = run_w2(&["--trajectory", s(&p2), "--method", "sinkhorn"]);
    assert_eq!(code, 2);
    let (code, _, _) = run_w2(&["--trajectory", s(&p2), "--a", s(&p1)]);
    assert_eq!(code, 2);
}

fn run_w2(args: &[&str]) -> (i32, String, String) {
    let out = bin().arg("w2").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
