//! `deeptransport sdot` on real files: the contract's JSON keys, the 1-D closed form end to end,
//! exact 2-D cells, duplicate merging, generation, and clear errors that leave nothing behind.

mod common;

use common::{bin, npy_f8, read_npy};
use std::fs;
use std::path::Path;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

/// d = 1, cube: targets 0.1 < 0.3 < 0.9 with weights 1, 2, 1 have cells [−½, −¼], [−¼, ¼], [¼, ½];
/// h follows from the ties at the boundaries (h₂ − h₁ = ¼·0.2, h₃ − h₂ = −¼·0.6), centred.
#[test]
fn one_dimensional_potential_is_the_closed_form() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("y.csv"), "y\n0.3\n0.1\n0.9\n").unwrap();
    fs::write(w.path().join("w.csv"), "2\n1\n1\n").unwrap();
    let (code, out, err) = run(
        w.path(),
        &[
            "sdot",
            "--target",
            "y.csv",
            "--target-weights",
            "w.csv",
            "--potential",
            "h.npy",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    for key in [
        "n_target",
        "dim",
        "source",
        "method",
        "iterations",
        "converged",
        "max_mass_error",
        "empty_cells",
        "transport_cost",
    ] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    assert_eq!(v["method"], "newton");
    assert_eq!(v["converged"], true);
    let (shape, h) = read_npy(&w.path().join("h.npy"));
    assert_eq!(shape, vec![3]);
    // Sorted order 0.1, 0.3, 0.9 = rows 1, 0, 2.
    let hs = [0.0, 0.25 * 0.2, 0.25 * 0.2 - 0.25 * 0.6];
    let mean = hs.iter().sum::<f64>() / 3.0;
    for (row, k) in [(1, 0), (0, 1), (2, 2)] {
        assert!((h[row] - (hs[k] - mean)).abs() <= 1e-15, "row {row}");
    }
    // ∫ (x − T(x))² over the three intervals, by the cube formula.
    let seg = |a: f64, b: f64, y: f64| ((b - y).powi(3) - (a - y).powi(3)) / 3.0;
    let cost = seg(-0.5, -0.25, 0.1) + seg(-0.25, 0.25, 0.3) + seg(0.25, 0.5, 0.9);
    assert!((v["transport_cost"].as_f64().unwrap() - cost).abs() <= 1e-15);
}

/// d = 2, cube: exact cells by Newton, masses to rounding level; duplicates are merged with a
/// note and share the potential; --generate with --max-angle 0 writes target rows only.
#[test]
fn two_dimensional_cells_duplicates_and_generation() {
    let w = tempfile::tempdir().unwrap();
    let pts = [
        0.1, 0.2, -0.3, 0.1, 0.4, -0.4, -0.1, -0.2, 0.1, 0.2, 0.7, 0.6,
    ];
    fs::write(w.path().join("y.npy"), npy_f8(6, 2, &pts)).unwrap();
    let (code, out, err) = run(
        w.path(),
        &[
            "sdot",
            "--target",
            "y.npy",
            "--potential",
            "h.csv",
            "--generate",
            "500",
            "--out",
            "g.npy",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 duplicate target rows merged"), "{err}");
    let v = json(&out);
    assert_eq!(v["n_target"], 6);
    assert_eq!(v["distinct_targets"], 5);
    assert!(v["max_mass_error"].as_f64().unwrap() <= 1e-10, "{v}");
    assert_eq!(v["interpolated_fraction"], 0.0);
    let h: Vec<f64> = fs::read_to_string(w.path().join("h.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(h.len(), 6);
    assert_eq!(h[0], h[4], "duplicates share one potential");
    let (shape, g) = read_npy(&w.path().join("g.npy"));
    assert_eq!(shape, vec![500, 2]);
    for p in g.chunks(2) {
        assert!(pts.chunks(2).any(|t| t == p), "{p:?} is not a target row");
    }
}

/// Bad input: exit 2, a message naming the problem, and no output file (not even a partial one).
#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("y.csv"), "0,1\n1,0\n").unwrap();
    fs::write(w.path().join("nan.csv"), "0,1\n1,nan\n").unwrap();
    fs::write(w.path().join("neg.csv"), "1\n-1\n").unwrap();
    fs::write(w.path().join("three.csv"), "1\n1\n1\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--target", "y.csv", "--tol", "0"], "--tol"),
        (&["--target", "y.csv", "--tol", "1.5"], "--tol"),
        (&["--target", "nan.csv"], "row 2"),
        (
            &["--target", "y.csv", "--target-weights", "neg.csv"],
            "neg.csv",
        ),
        (
            &["--target", "y.csv", "--target-weights", "three.csv"],
            "three.csv",
        ),
        (
            &[
                "--target", "y.csv", "--source", "normal", "--method", "newton",
            ],
            "adam",
        ),
        (
            &[
                "--target",
                "y.csv",
                "--generate",
                "5",
                "--out",
                "g.npy",
                "--max-angle",
                "-1",
            ],
            "--max-angle",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["sdot", "--potential", "h.npy"];
        all.extend_from_slice(args);
        let (code, _, err) = run(w.path(), &all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!w.path().join("h.npy").exists() && !w.path().join("g.npy").exists());
        let stray = fs::read_dir(w.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(stray, 0, "{args:?} left a temporary file");
    }
    // --generate without --out is a usage error.
    let (code, _, _) = run(
        w.path(),
        &[
            "sdot",
            "--target",
            "y.csv",
            "--potential",
            "h.npy",
            "--generate",
            "5",
        ],
    );
    assert_eq!(code, 2);
}
