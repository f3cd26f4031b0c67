//! `deeptransport experiment`: the contract's summary keys, the files, determinism across thread
//! counts, the saved network, and usage errors.

mod common;

use common::bin;
use std::fs;

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dae_training_quick_writes_the_contracts_summary_and_is_identical_on_any_thread_count() {
    let w = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        w.path(),
        &[
            "experiment",
            "dae-training",
            "--quick",
            "--out",
            "a",
            "--seed",
            "3",
            "--json",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "dae-training");
    assert_eq!(v["seed"], 3);
    let claims = v["claims"].as_array().unwrap();
    assert!(claims.len() >= 4);
    for c in claims {
        assert!(c["claim"].is_string() && c["holds"].is_boolean() && c["evidence"].is_string());
    }
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() >= 6);
    for r in rows {
        for key in [
            "t",
            "n_train",
            "epochs",
            "risk_trained",
            "risk_optimal",
            "l2_to_optimal",
        ] {
            assert!(r[key].is_number(), "row lacks {key}: {r}");
        }
        // Theorem 2.1 (with the Monte-Carlo margin the claim uses) holds row by row.
        let excess = r["risk_trained"].as_f64().unwrap() - r["risk_optimal"].as_f64().unwrap();
        assert!(excess > -3.0 * r["excess_risk_se"].as_f64().unwrap(), "{r}");
    }
    for f in [
        "report.html",
        "summary.json",
        "displacement_field.png",
        "displacement_field.svg",
        "l2_to_optimal.png",
        "l2_to_optimal.svg",
        "displacement_field.csv",
        "l2_to_optimal.csv",
    ] {
        assert!(w.path().join("a").join(f).is_file(), "missing {f}");
    }
    let html = fs::read_to_string(w.path().join("a/report.html")).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 2);

    same_summary_on_one_thread(w.path(), "dae-training", "a", &["--seed", "3"]);

    // The saved network reproduces the figure's numbers: load, run on the grid, compare.
    let weights = v["weights"].as_str().unwrap();
    let net = deeptransport_nn::Network::<f32>::load(&w.path().join("a").join(weights)).unwrap();
    let csv = fs::read_to_string(w.path().join("a/displacement_field.csv")).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    let grid = ndarray::Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j]);
    let g = net.forward(grid.view()).unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!((g[[i, 0]], g[[i, 1]]), (r[2], r[3]), "grid row {i}");
    }
}

#[test]
fn geodesic_quick_writes_ten_rows_per_data_set_and_resnets_beat_plain_nets() {
    let w = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        w.path(),
        &[
            "experiment",
            "geodesic",
            "--quick",
            "--out",
            "g",
            "--json",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "geodesic");
    assert_eq!(v["all_claims_hold"], true);
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 3);
    for c in claims {
        assert!(c["claim"].is_string() && c["holds"] == true && c["evidence"].is_string());
    }
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        20,
        "2 data sets × 2 architectures × 5 weight decays"
    );
    for data in ["digits", "rings"] {
        let mine: Vec<&serde_json::Value> = rows.iter().filter(|r| r["data"] == data).collect();
        assert_eq!(mine.len(), 10, "{data}");
        for arch in ["plain", "resnet"] {
            let decays: Vec<f64> = mine
                .iter()
                .filter(|r| r["arch"] == arch)
                .map(|r| r["weight_decay"].as_f64().unwrap())
                .collect();
            assert_eq!(decays, [0.0, 5e-4, 1e-3, 5e-3, 1e-2], "{data} {arch}");
        }
    }
    for r in rows {
        for key in [
            "weight_decay",
            "accuracy",
            "lss_mean",
            "ots",
            "action_ratio",
            "ots_cost_ratio",
            "geodesic_ratio",
            "seeds",
        ] {
            assert!(r[key].is_number(), "row lacks {key}: {r}");
        }
        // The quantities' domains (METHODS §7): LSS ≥ 1, OTS and accuracy in [0, 1], the action
        // ratio ≥ 1 (Cauchy–Schwarz), and a trained network beats chance.
        let f = |k: &str| r[k].as_f64().unwrap();
        assert!(
            f("lss_mean") >= 1.0 && f("action_ratio") >= 1.0 - 1e-9,
            "{r}"
        );
        assert!((0.0..=1.0).contains(&f("ots")), "{r}");
        assert!(f("accuracy") > 0.5, "{r}");
    }
    for f in [
        "report.html",
        "summary.json",
        "planar_tracks.png",
        "planar_tracks.svg",
        "planar_tracks.csv",
        "scores_vs_weight_decay.png",
        "scores_vs_weight_decay.svg",
        "scores_vs_weight_decay.csv",
    ] {
        assert!(w.path().join("g").join(f).is_file(), "missing {f}");
    }
    let html = fs::read_to_string(w.path().join("g/report.html")).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 2);
    assert!(html.contains("paper (CIFAR-100)"));

    same_summary_on_one_thread(w.path(), "geodesic", "g", &[]);
}

#[test]
fn aeot_quick_covers_every_mode_writes_every_data_set_and_generator_on_any_thread_count() {
    let w = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        w.path(),
        &[
            "experiment",
            "aeot",
            "--quick",
            "--out",
            "a",
            "--json",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "aeot");
    assert_eq!(v["all_claims_hold"], true);
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 3);
    for c in claims {
        assert!(c["claim"].is_string() && c["holds"] == true && c["evidence"].is_string());
    }
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12, "4 data sets × 3 generators");
    for data in ["grid25", "ring8", "swissroll", "digits"] {
        let gens: Vec<&str> = rows
            .iter()
            .filter(|r| r["data"] == data)
            .map(|r| r["generator"].as_str().unwrap())
            .collect();
        assert_eq!(gens, ["sdot", "extended", "continuous"], "{data}");
    }
    for r in rows {
        assert!(r["data"].is_string() && r["generator"].is_string(), "{r}");
        let modes = r["modes"].as_u64().expect("modes");
        let covered = r["modes_covered"].as_u64().expect("modes_covered");
        let off = r["off_manifold_fraction"]
            .as_f64()
            .expect("off_manifold_fraction");
        assert!(covered <= modes && (0.0..=1.0).contains(&off), "{r}");
    }
    let modes = |d: &str| rows.iter().find(|r| r["data"] == d).unwrap()["modes"].clone();
    assert_eq!(modes("grid25"), 25);
    assert_eq!(modes("ring8"), 8);
    assert_eq!(modes("swissroll"), 10);
    assert_eq!(modes("digits"), 10);
    for f in [
        "report.html",
        "summary.json",
        "digits_grid.png",
        "digits_grid.svg",
        "digits_grid.csv",
    ]
    .into_iter()
    .map(String::from)
    .chain(
        ["grid25", "ring8", "swissroll"]
            .iter()
            .flat_map(|d| ["png", "svg", "csv"].map(|e| format!("samples_{d}.{e}"))),
    ) {
        assert!(w.path().join("a").join(&f).is_file(), "missing {f}");
    }
    let html = fs::read_to_string(w.path().join("a/report.html")).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 4);

    same_summary_on_one_thread(w.path(), "aeot", "a", &[]);
}

/// Every network trains on one thread from its own seed: rerunning `name --quick` (with
/// `extra` flags) on one thread gives the same `summary.json` bytes as the run in `dir/first`.
fn same_summary_on_one_thread(dir: &std::path::Path, name: &str, first: &str, extra: &[&str]) {
    let mut args = vec![
        "experiment",
        name,
        "--quick",
        "--out",
        "one-thread",
        "--threads",
        "1",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = run(dir, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        without_provenance(&dir.join(first).join("summary.json")),
        without_provenance(&dir.join("one-thread/summary.json")),
        "{name}: one thread changed the summary"
    );
}

/// `summary.json`'s bytes without its `provenance` object (version, commit, command line and
/// date: the command line and date differ between two runs by design). The rest is compared
/// byte for byte: the summary is re-serialised exactly as the command writes it (pretty, keys in
/// order, shortest round-trip floats), after checking that the file is that serialisation.
fn without_provenance(path: &std::path::Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&v).unwrap(), text, "canonical");
    let p = v
        .as_object_mut()
        .unwrap()
        .remove("provenance")
        .expect("summary.json has provenance");
    for key in ["version", "commit", "command", "date"] {
        assert!(p[key].is_string(), "provenance lacks {key}: {p}");
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn topology_quick_meets_the_reach_bound_and_writes_every_fixture_on_any_thread_count() {
    let w = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(
        w.path(),
        &[
            "experiment",
            "topology",
            "--quick",
            "--out",
            "t",
            "--json",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "topology");
    assert_eq!(v["all_claims_hold"], true);
    assert_eq!(v["claims"].as_array().unwrap().len(), 3);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12, "4 fixtures × 3 capacities");
    for (m, k, reach) in [
        ("circle", 1, 1.0),
        ("linked-circles", 1, 0.5),
        ("sphere", 2, 1.0),
        ("torus", 2, 1.0),
    ] {
        let rs: Vec<_> = rows.iter().filter(|r| r["manifold"] == m).collect();
        assert_eq!(rs.len(), 3, "{m}");
        for r in rs {
            assert_eq!(r["latent_dim"], k, "{r}");
            assert_eq!(r["reach"], reach, "{r}");
            let sup = r["sup_error"].as_f64().unwrap();
            assert!(sup >= r["sup_error_bound"].as_f64().unwrap(), "{r}");
            assert_eq!(r["eps"], 0.1);
            assert!((0.0..=1.0).contains(&r["exceptional_fraction"].as_f64().unwrap()));
        }
    }
    for f in ["report.html", "summary.json"]
        .into_iter()
        .map(String::from)
        .chain(
            ["errors_circles", "codes", "exceedance"]
                .iter()
                .flat_map(|s| ["png", "svg", "csv"].map(|e| format!("{s}.{e}"))),
        )
    {
        assert!(w.path().join("t").join(&f).is_file(), "missing {f}");
    }
    same_summary_on_one_thread(w.path(), "topology", "t", &[]);
}

#[test]
fn an_unknown_experiment_is_a_usage_error() {
    let w = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(w.path(), &["experiment", "no-such-thing"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("dae-training"), "{stderr}");
    let (code, _, stderr) = run(w.path(), &["experiment", "dae-training", "--seed", "-1"]);
    assert_eq!(code, 2, "{stderr}");
}
