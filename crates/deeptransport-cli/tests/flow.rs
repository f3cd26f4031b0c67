//! `deeptransport flow`: the trajectory file and JSON summary against the closed form (12), the
//! times sidecar, thread independence, and bad input (exit 2, no output file).

mod common;

use common::{bin, read_npy};
use std::fs;

fn json_of(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).expect("exactly one JSON object on stdout")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// μ₀ = N(m, diag[2, 1]) (METHODS §4: t* = 1/2): the closed form (12) moves coordinate i by
/// m_i + √(1 − 2t/λ_i)(x_i − m_i). The file must hold it to 1e-14 (one square root and a few
/// products per entry), with slices at 0, the --times values and T, and the JSON keys of the
/// contract with steps = rejected_steps = 0 and max_error_estimate = 0.
#[test]
fn gaussian_measure_follows_the_closed_form_and_reports_the_contract_keys() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("g.json");
    fs::write(
        &spec,
        r#"{"kind": "gaussian", "mean": [1.0, -1.0], "cov": [[2.0, 0.0], [0.0, 1.0]]}"#,
    )
    .unwrap();
    let q = dir.path().join("q.csv");
    fs::write(&q, "x,y\n0,0\n1,-1\n3,2.5\n").unwrap();
    let out = dir.path().join("traj.npy");
    let assert = bin()
        .args(["flow", "--measure", spec.to_str().unwrap(), "--t", "0.45"])
        .args(["--times", "0.1,0.3", "--query", q.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--json"])
        .assert()
        .success();
    let json = json_of(&assert.get_output().stdout);
    for key in [
        "t",
        "singular_time",
        "steps",
        "rejected_steps",
        "max_error_estimate",
    ] {
        assert!(json.get(key).is_some(), "missing key {key}: {json}");
    }
    assert_eq!(json["t"], 0.45);
    assert_eq!(json["singular_time"], 0.5);
    assert_eq!(json["steps"], 0);
    assert_eq!(json["rejected_steps"], 0);
    assert_eq!(json["max_error_estimate"], 0.0);
    assert_eq!(json["n_query"], 3);
    assert_eq!(json["dim"], 2);
    let times = floats(&json["times"]);
    assert_eq!(times, vec![0.0, 0.1, 0.3, 0.45]);
    let (shape, v) = read_npy(&out);
    assert_eq!(shape, vec![4, 3, 2]);
    let x0 = [[0.0, 0.0], [1.0, -1.0], [3.0, 2.5]];
    let (m, lam) = ([1.0, -1.0], [2.0, 1.0]);
    for (k, &t) in times.iter().enumerate() {
        for (i, x) in x0.iter().enumerate() {
            for c in 0..2 {
                let exact = m[c] + (1.0f64 - 2.0 * t / lam[c]).sqrt() * (x[c] - m[c]);
                let got = v[(k * 3 + i) * 2 + c];
                assert!(
                    (got - exact).abs() <= 1e-14,
                    "t = {t}, point {i}, coord {c}: {got} vs {exact}"
                );
            }
        }
    }
    // The sidecar carries the same times.
    let sidecar = fs::read_to_string(dir.path().join("traj.times.csv")).unwrap();
    let side: Vec<f64> = sidecar
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(side, times);
}

/// Smoothed data: the trajectory has shape (T, n, d), starts at the data, and is bit-identical for
/// 1 and 2 threads; near t* = H/2 each point ends close to a data point (all points here start on
/// atoms, which the kernel-smoothed flow keeps within √(H − 2t)·few of them).
#[test]
fn smoothed_data_trajectory_has_the_contract_shape_and_is_thread_independent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let pts: Vec<[f64; 2]> = (0..120)
        .map(|i| {
            let a = i as f64 * 0.7;
            [a.sin() * 2.0, (a * 1.3).cos()]
        })
        .collect();
    let rows: String = pts.iter().map(|p| format!("{},{}\n", p[0], p[1])).collect();
    fs::write(&data, rows).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}.npy"));
        let assert = bin()
            .args([
                "flow",
                "--data",
                data.to_str().unwrap(),
                "--bandwidth",
                "0.1",
            ])
            .args(["--t", "0.0499", "--times", "0.01,0.03", "--rtol", "1e-9"])
            .args([
                "--out",
                out.to_str().unwrap(),
                "--json",
                "--threads",
                threads,
            ])
            .assert()
            .success();
        let json = json_of(&assert.get_output().stdout);
        assert_eq!(json["singular_time"], 0.05);
        assert!(json["steps"].as_u64().unwrap() > 0);
        let est = json["max_error_estimate"].as_f64().unwrap();
        assert!(est > 0.0 && est < 1e-6, "max_error_estimate {est}");
        assert_eq!(floats(&json["times"]), vec![0.0, 0.01, 0.03, 0.0499]);
        outputs.push(fs::read(&out).unwrap());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "thread count changed the trajectory"
    );
    let (shape, v) = read_npy(&dir.path().join("t1.npy"));
    assert_eq!(shape, vec![4, 120, 2]);
    assert_eq!((v[0], v[1]), (pts[0][0], pts[0][1]));
    let s = (0.1f64 - 2.0 * 0.0499).sqrt();
    let last = &v[3 * 240..];
    for p in last.chunks(2) {
        let nearest = pts
            .iter()
            .map(|a| ((p[0] - a[0]).powi(2) + (p[1] - a[1]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 5.0 * s, "{p:?} is {nearest} from the data");
    }
}

/// A mixture is integrated (steps > 0) and, with no --query, --samples points are drawn.
#[test]
fn mixture_measure_is_sampled_and_integrated() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("m.json");
    fs::write(
        &spec,
        r#"{"kind": "mixture", "weights": [0.3, 0.7], "components": [
            {"mean": [0, 0], "cov": [[2, 0.3], [0.3, 1]]},
            {"mean": [3, 1], "cov": [[1, 0], [0, 1.5]]}]}"#,
    )
    .unwrap();
    let out = dir.path().join("m.npy");
    let assert = bin()
        .args(["flow", "--measure", spec.to_str().unwrap(), "--t", "0.3"])
        .args(["--samples", "50", "--seed", "3"])
        .args(["--out", out.to_str().unwrap(), "--json"])
        .assert()
        .success();
    let json = json_of(&assert.get_output().stdout);
    // t* = min(λ_min([[2, .3], [.3, 1]]), 1)/2 = (1.5 − √0.34)/2.
    let t_star = (1.5 - 0.34f64.sqrt()) / 2.0;
    assert!((json["singular_time"].as_f64().unwrap() - t_star).abs() < 1e-14);
    assert!(json["steps"].as_u64().unwrap() > 0);
    let (shape, _) = read_npy(&out);
    assert_eq!(shape, vec![2, 50, 2]);
}

/// T at or past t*, bad --bandwidth, --t, --rtol, --times, a non-SPD covariance, an empty query:
/// exit 2 with the offending value named, and no output file (nor sidecar) appears.
#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.json");
    fs::write(
        &g,
        r#"{"kind": "gaussian", "mean": [0, 0], "cov": [[2, 0], [0, 1]]}"#,
    )
    .unwrap();
    let bad_cov = dir.path().join("bad.json");
    fs::write(
        &bad_cov,
        r#"{"kind": "gaussian", "mean": [0, 0], "cov": [[1, 2], [2, 1]]}"#,
    )
    .unwrap();
    let data = dir.path().join("d.csv");
    fs::write(&data, "0,0\n1,0\n0,1\n").unwrap();
    let empty = dir.path().join("empty.csv");
    fs::write(&empty, "x,y\n").unwrap();
    let out = dir.path().join("traj.npy");
    let (g, bad_cov, data, empty) = (
        g.to_str().unwrap(),
        bad_cov.to_str().unwrap(),
        data.to_str().unwrap(),
        empty.to_str().unwrap(),
    );
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["--measure", g, "--t", "0.5"],
            &["0.5", "singular time"],
        ),
        (vec!["--measure", g, "--t", "0.7"], &["0.7", "0.5"]),
        (
            vec!["--data", data, "--bandwidth", "0.2", "--t", "0.1"],
            &["0.1", "singular time"],
        ),
        (
            vec!["--data", data, "--bandwidth", "0", "--t", "0.01"],
            &["--bandwidth"],
        ),
        (
            vec!["--data", data, "--bandwidth=-1", "--t", "0.01"],
            &["--bandwidth"],
        ),
        (
            vec!["--data", data, "--bandwidth", "nan", "--t", "0.01"],
            &["--bandwidth"],
        ),
        (vec!["--data", data, "--t", "0.01"], &["--bandwidth"]),
        (vec!["--measure", g, "--t", "0"], &["--t"]),
        (vec!["--measure", g, "--t=-0.1"], &["--t"]),
        (
            vec!["--measure", g, "--t", "0.1", "--rtol", "0"],
            &["--rtol"],
        ),
        (
            vec!["--measure", g, "--t", "0.1", "--rtol=-1e-6"],
            &["--rtol"],
        ),
        // Below the integrator's rounding floor: refused at once, not ten minutes of steps.
        (
            vec!["--measure", g, "--t", "0.1", "--rtol", "1e-300"],
            &["--rtol", "1e-14"],
        ),
        (
            vec![
                "--data",
                data,
                "--bandwidth",
                "0.2",
                "--t",
                "0.09",
                "--rtol",
                "5e-15",
            ],
            &["--rtol", "rounding"],
        ),
        (
            vec!["--measure", g, "--t", "0.1", "--times", "0.2"],
            &["--times"],
        ),
        (
            vec!["--measure", g, "--t", "0.3", "--times", "0.2,0.1"],
            &["--times"],
        ),
        (
            vec!["--measure", bad_cov, "--t", "0.1"],
            &["positive definite"],
        ),
        (
            vec!["--measure", g, "--t", "0.1", "--query", empty],
            &["empty.csv"],
        ),
    ];
    for (args, needles) in cases {
        let assert = bin()
            .arg("flow")
            .args(&args)
            .args(["--out", out.to_str().unwrap()])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        for needle in needles {
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
        assert!(!out.exists(), "{args:?} left an output file");
        assert!(
            !dir.path().join("traj.times.csv").exists(),
            "{args:?} left a times file"
        );
    }
    // No temporary files are left behind either.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".deeptransport-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
