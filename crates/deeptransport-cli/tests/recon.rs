//! `deeptransport recon` on real files: the contract's JSON keys against values computed here by
//! hand (NumPy's conventions), the per-row CSV, homology of a circle, its cut codes and a
//! collapsed reconstruction, and clear errors that leave nothing behind.

mod common;

use common::{bin, npy_f8, read_npy};
use std::f64::consts::PI;
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

/// Errors 5, 0, 1, 2, 13 (3-4-5 and 5-12-13 triangles): max 13, mean 4.2, rms √(199/5),
/// NumPy's quantiles np.quantile(e, [0.5, 0.9, 0.99]) = [2, 9.8, 12.68].
#[test]
fn summary_keys_and_values() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("x.csv"), "a,b\n0,0\n1,1\n2,2\n0,0\n0,0\n").unwrap();
    fs::write(w.path().join("xh.csv"), "3,4\n1,1\n2,3\n2,0\n5,12\n").unwrap();
    let (code, out, err) = run(
        w.path(),
        &[
            "recon",
            "--input",
            "x.csv",
            "--recon",
            "xh.csv",
            "--eps",
            "1,2,13,14",
            "--out",
            "e.csv",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["n"], 5);
    assert_eq!(v["dim"], 2);
    assert!(v["latent_dim"].is_null());
    assert_eq!(v["error_max"], 13.0);
    assert!((v["error_mean"].as_f64().unwrap() - 4.2).abs() < 1e-15);
    assert!((v["error_rms"].as_f64().unwrap() - (199.0f64 / 5.0).sqrt()).abs() < 1e-14);
    let q = &v["error_quantiles"];
    assert_eq!(q["0.5"], 2.0);
    assert!((q["0.9"].as_f64().unwrap() - 9.8).abs() < 1e-14);
    assert!((q["0.99"].as_f64().unwrap() - 12.68).abs() < 1e-13);
    assert_eq!(v["eps"], serde_json::json!([1.0, 2.0, 13.0, 14.0]));
    assert_eq!(
        v["exceptional_fraction"],
        serde_json::json!([0.8, 0.6, 0.2, 0.0])
    );
    assert!(v.get("betti_input").is_none());
    assert_eq!(
        fs::read_to_string(w.path().join("e.csv")).unwrap(),
        "error\n5.0\n0.0\n1.0\n2.0\n13.0\n"
    );
}

/// A circle sampled at 200 angles, its code the angle (cut at 0) and a reconstruction that
/// collapses the circle onto a diameter: b = [1, 1] for the circle, [1, 0] for the codes and the
/// segment.
#[test]
fn homology_of_a_cut_circle() {
    let w = tempfile::tempdir().unwrap();
    let n = 200;
    let th: Vec<f64> = (0..n).map(|k| 2.0 * PI * k as f64 / n as f64).collect();
    let x: Vec<f64> = th.iter().flat_map(|t| [t.cos(), t.sin()]).collect();
    let xh: Vec<f64> = th.iter().flat_map(|t| [t.cos(), 0.0]).collect();
    fs::write(w.path().join("x.npy"), npy_f8(n, 2, &x)).unwrap();
    fs::write(w.path().join("xh.npy"), npy_f8(n, 2, &xh)).unwrap();
    fs::write(w.path().join("z.npy"), npy_f8(n, 1, &th)).unwrap();
    let (code, out, err) = run(
        w.path(),
        &[
            "recon",
            "--input",
            "x.npy",
            "--recon",
            "xh.npy",
            "--latent",
            "z.npy",
            "--homology",
            "--eps",
            "0.5",
            "--out",
            "e.npy",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["latent_dim"], 1);
    assert_eq!(v["betti_input"], serde_json::json!([1, 1]));
    assert_eq!(v["betti_recon"], serde_json::json!([1, 0]));
    assert_eq!(v["betti_latent"], serde_json::json!([1, 0]));
    assert_eq!(v["homology_n"], 200);
    // e = |sin θ|, the supremum 1 = the circle's reach (Borsuk–Ulam's bound, attained).
    assert!((v["error_max"].as_f64().unwrap() - 1.0).abs() < 1e-15);
    let want = th.iter().filter(|t| t.sin().abs() >= 0.5).count() as f64 / n as f64;
    assert_eq!(v["exceptional_fraction"][0], want);
    let (shape, e) = read_npy(&w.path().join("e.npy"));
    assert_eq!(shape, vec![n]);
    for (k, t) in th.iter().enumerate() {
        assert!((e[k] - t.sin().abs()).abs() < 1e-15);
    }
    // Landmarks: --max-samples 50 keeps a δ-net of the circle, still one loop.
    let (code, out, err) = run(
        w.path(),
        &[
            "recon",
            "--input",
            "x.npy",
            "--recon",
            "xh.npy",
            "--homology",
            "--max-samples",
            "50",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["homology_n"], 50);
    assert_eq!(v["betti_input"], serde_json::json!([1, 1]));
    assert!(v["betti_latent"].is_null());
}

/// Misaligned rows name both files; a width mismatch, a non-finite value (file, row, column)
/// and a bad ε are exit 2; an existing output is left untouched.
#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let w = tempfile::tempdir().unwrap();
    fs::write(w.path().join("x.csv"), "0,0\n1,1\n2,2\n").unwrap();
    fs::write(w.path().join("short.csv"), "0,0\n1,1\n").unwrap();
    fs::write(w.path().join("wide.csv"), "0,0,0\n1,1,1\n2,2,2\n").unwrap();
    fs::write(w.path().join("nan.csv"), "0,0\n1,nan\n2,2\n").unwrap();
    fs::write(w.path().join("z4.csv"), "0\n1\n2\n3\n").unwrap();
    fs::write(w.path().join("e.csv"), "keep").unwrap();
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--recon", "short.csv"], &["short.csv", "x.csv", "2", "3"]),
        (
            &["--recon", "x.csv", "--latent", "z4.csv"],
            &["z4.csv", "x.csv", "4"],
        ),
        (&["--recon", "wide.csv"], &["wide.csv", "3 columns"]),
        (&["--recon", "nan.csv"], &["nan.csv", "row 2", "column 2"]),
        (&["--recon", "x.csv", "--eps", "0.1,-1"], &["--eps"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["recon", "--input", "x.csv", "--out", "e.csv"];
        args.extend_from_slice(extra);
        let (code, _, err) = run(w.path(), &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {err} lacks {n}");
        }
        assert_eq!(fs::read_to_string(w.path().join("e.csv")).unwrap(), "keep");
    }
}
