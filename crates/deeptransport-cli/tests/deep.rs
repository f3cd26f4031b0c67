//! `deeptransport deep`: the trajectory file against the closed-form recursion, and bad input.

mod common;

use common::{bin, read_npy};
use std::fs;

/// METHODS §4: for μ₀ = N(m, λ) in d = 1 each layer maps x ↦ m + λ_ℓ/(λ_ℓ + τ)(x − m) and
/// λ_{ℓ+1} = λ_ℓ³/(λ_ℓ + τ)². The CLI's closed-form path must reproduce the scalar recursion to
/// rounding (1e-14 on O(1) values: a few operations per layer, each within an ulp).
#[test]
fn gaussian_measure_trajectory_follows_the_closed_form_recursion() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("g.json");
    fs::write(
        &spec,
        r#"{"kind": "gaussian", "mean": [0.5], "cov": [[2.0]]}"#,
    )
    .unwrap();
    let q = dir.path().join("q.csv");
    fs::write(&q, "x\n-1\n0.5\n3\n").unwrap();
    let out = dir.path().join("traj.npy");
    let taus = [0.3, 0.1, 0.2];
    bin()
        .args([
            "deep",
            "--measure",
            spec.to_str().unwrap(),
            "--tau",
            "0.3,0.1,0.2",
        ])
        .args([
            "--query",
            q.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
        ])
        .assert()
        .success();
    let (shape, v) = read_npy(&out);
    assert_eq!(shape, vec![4, 3, 1]);
    // The times also go to the sidecar traj.times.csv (CLI.md, trajectory files).
    let times = std::fs::read_to_string(dir.path().join("traj.times.csv")).unwrap();
    assert_eq!(
        times,
        format!("t\n0.0\n0.3\n{:?}\n{:?}\n", 0.3 + 0.1, 0.3 + 0.1 + 0.2)
    );
    for (i, &x0) in [-1.0f64, 0.5, 3.0].iter().enumerate() {
        let (mut x, mut lam) = (x0, 2.0f64);
        assert_eq!(v[i], x0);
        for (l, &tau) in taus.iter().enumerate() {
            x = 0.5 + lam / (lam + tau) * (x - 0.5);
            lam = lam.powi(3) / (lam + tau).powi(2);
            let got = v[(l + 1) * 3 + i];
            assert!(
                (got - x).abs() <= 1e-14,
                "layer {} point {i}: {got} vs {x}",
                l + 1
            );
        }
    }
}

/// Particles: shape (L+1, n, d), first slice the data, JSON times the cumulative τ, and the
/// same bits for 1 and 2 threads.
#[test]
fn particle_trajectory_has_the_contract_shape_and_is_thread_independent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let rows: String = (0..301)
        .map(|i| {
            let a = i as f64 * 0.7;
            format!("{},{}\n", a.sin() * 2.0, (a * 1.3).cos())
        })
        .collect();
    fs::write(&data, rows).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}.npy"));
        let assert = bin()
            .args([
                "deep",
                "--data",
                data.to_str().unwrap(),
                "--tau",
                "0.05",
                "--layers",
                "4",
            ])
            .args([
                "--out",
                out.to_str().unwrap(),
                "--json",
                "--threads",
                threads,
            ])
            .assert()
            .success();
        let json: serde_json::Value =
            serde_json::from_slice(&assert.get_output().stdout).expect("one JSON object");
        assert_eq!(json["layers"], 4);
        let times: Vec<f64> = json["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect();
        assert_eq!(times.len(), 5);
        assert!((times[4] - 0.2).abs() < 1e-15);
        outputs.push(fs::read(&out).unwrap());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "thread count changed the trajectory"
    );
    let (shape, v) = read_npy(&dir.path().join("t1.npy"));
    assert_eq!(shape, vec![5, 301, 2]);
    // The first slice is the data itself: row 0 is (2 sin 0, cos 0) = (0, 1).
    assert_eq!((v[0], v[1]), (0.0, 1.0));
}

/// τ ≤ 0, zero or absurd depth, a list whose length contradicts --layers, a non-.npy output: exit 2
/// before any work, and an existing output file is left as it was.
#[test]
fn bad_schedules_are_refused_and_leave_the_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    fs::write(&data, "0,0\n1,0\n").unwrap();
    let out = dir.path().join("traj.npy");
    fs::write(&out, b"keep me").unwrap();
    let cases: [&[&str]; 6] = [
        &["--tau", "0", "--layers", "3"],
        &["--tau=-0.5", "--layers", "3"],
        &["--tau", "nan", "--layers", "3"],
        &["--tau", "0.1", "--layers", "0"],
        &["--tau", "0.1", "--layers", "1000000000000"],
        &["--tau", "0.1,0.2", "--layers", "3"],
    ];
    for args in cases {
        let assert = bin()
            .args([
                "deep",
                "--data",
                data.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .args(args)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains("--tau") || stderr.contains("--layers"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            fs::read(&out).unwrap(),
            b"keep me",
            "{args:?} touched the output"
        );
    }
    bin()
        .args([
            "deep",
            "--data",
            data.to_str().unwrap(),
            "--tau",
            "0.1",
            "--layers",
            "2",
        ])
        .args(["--out", dir.path().join("traj.csv").to_str().unwrap()])
        .assert()
        .code(2);
}
