//! `deeptransport tracks` on real files: every input format gives the same scores, the contract's
//! JSON keys and CSV, the METHODS §7 oracles end to end, and clear errors.

mod common;

use common::{bin, f4, f8, npy};
use std::fs;
use std::io::Write as _;
use std::path::Path;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Three layers of 6 inputs in the plane: x, Ax (A SPD) and 2Ax − x... chosen so every score
/// is known: layer 1 = x·A with A = diag(2, 3) (an OT map: OTS 1), layer 2 = layer 1 + (1, 0).
fn layers() -> Vec<Vec<f64>> {
    let x: Vec<f64> = vec![
        0.0, 0.0, 1.0, 0.5, -1.0, 2.0, 0.3, -0.7, 2.0, 1.0, -0.5, -1.5,
    ];
    let l1: Vec<f64> = x.chunks(2).flat_map(|p| [2.0 * p[0], 3.0 * p[1]]).collect();
    let l2: Vec<f64> = l1.chunks(2).flat_map(|p| [p[0] + 1.0, p[1]]).collect();
    vec![x, l1, l2]
}

fn write_npz(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (k, bytes) in entries {
        z.start_file(format!("{k}.npy"), opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("stdout is one JSON object")
}

#[test]
fn every_input_format_gives_the_same_scores_and_the_contract_keys() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let ls = layers();
    for (k, l) in ls.iter().enumerate() {
        fs::write(
            d.join(format!("l{k}.npy")),
            npy("<f8", false, &[6, 2], &f8(l)),
        )
        .unwrap();
    }
    let (code, out, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            "l0.npy,l1.npy,l2.npy",
            "--json",
            "--out",
            "per.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    for key in [
        "n",
        "layers",
        "widths",
        "embed",
        "from",
        "to",
        "lss_mean",
        "lss_median",
        "lss_undefined",
        "ots",
        "ots_cost_ratio",
        "ots_n",
        "w2_steps",
        "w2_end_to_end",
        "geodesic_ratio",
        "action",
        "action_ratio",
    ] {
        assert!(!v[key].is_null(), "missing {key}: {v}");
    }
    assert_eq!(
        (v["n"].as_u64(), v["layers"].as_u64(), v["ots_n"].as_u64()),
        (Some(6), Some(3), Some(6))
    );
    // x ↦ xA + (1, 0) with A SPD is the OT map: every input is a fixed point.
    assert_eq!(v["ots"].as_f64(), Some(1.0));
    assert!((v["ots_cost_ratio"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let csv = fs::read_to_string(d.join("per.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("lss,path_length,chord,fixed_point"));
    // Input 0 sits at the origin: its first step is zero (dropped), so its LSS is 1.
    let row0: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row0, ["1.0", "1.0", "1.0", "1"]);
    assert_eq!(csv.lines().count(), 7);

    // The same layers as .npz (float32 in one entry: widened), as .safetensors and as a
    // trajectory: identical JSON.
    write_npz(
        &d.join("acts.npz"),
        &[
            ("input", npy("<f8", false, &[6, 2], &f8(&ls[0]))),
            ("hidden", npy("<f8", false, &[6, 2], &f8(&ls[1]))),
            ("out", npy("<f8", false, &[6, 2], &f8(&ls[2]))),
        ],
    );
    let mut flat = Vec::new();
    ls.iter().for_each(|l| flat.extend_from_slice(l));
    fs::write(
        d.join("traj.npy"),
        npy("<f8", false, &[3, 6, 2], &f8(&flat)),
    )
    .unwrap();
    let bytes: Vec<Vec<u8>> = ls.iter().map(|l| f8(l)).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = ["a", "b", "c"]
        .iter()
        .zip(&bytes)
        .map(|(k, b)| {
            (
                k.to_string(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![6, 2], b)
                    .unwrap(),
            )
        })
        .collect();
    fs::write(
        d.join("acts.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
    for args in [
        &["tracks", "--activations", "acts.npz", "--json"][..],
        &[
            "tracks",
            "--activations",
            "acts.npz",
            "--keys",
            "input,hidden,out",
            "--json",
        ],
        &["tracks", "--activations", "acts.safetensors", "--json"],
        &["tracks", "--trajectory", "traj.npy", "--json"],
    ] {
        let (code, out2, err) = run(d, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(json(&out2), v, "{args:?}");
    }
    // --from/--to select a range; f32 layers are read as well.
    fs::write(
        d.join("l1f.npy"),
        npy(
            "<f4",
            false,
            &[6, 2],
            &f4(&ls[1].iter().map(|&v| v as f32).collect::<Vec<_>>()),
        ),
    )
    .unwrap();
    let (code, out, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            "l0.npy,l1f.npy,l2.npy",
            "--from",
            "1",
            "--to",
            "2",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let r = json(&out);
    assert_eq!(
        (r["from"].as_u64(), r["to"].as_u64(), r["layers"].as_u64()),
        (Some(1), Some(2), Some(2))
    );
    // A translation: every track is a unit step along x₁: LSS 1, geodesic, OTS 1.
    // (Layer 1 went through f32: 1e-6 covers its rounding.)
    assert!((r["lss_mean"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!((r["w2_end_to_end"].as_f64().unwrap() - 1.0).abs() < 1e-6);
}

#[test]
fn misaligned_non_finite_and_badly_shaped_layers_are_refused_naming_the_layer() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let ls = layers();
    fs::write(d.join("a.npy"), npy("<f8", false, &[6, 2], &f8(&ls[0]))).unwrap();
    fs::write(
        d.join("short.npy"),
        npy("<f8", false, &[5, 2], &f8(&ls[1][..10])),
    )
    .unwrap();
    let mut nan = ls[1].clone();
    nan[7] = f64::NAN;
    fs::write(d.join("nan.npy"), npy("<f8", false, &[6, 2], &f8(&nan))).unwrap();
    fs::write(
        d.join("wide.npy"),
        npy("<f8", false, &[6, 3], &f8(&[0.5; 18])),
    )
    .unwrap();
    fs::write(
        d.join("conv.npy"),
        npy("<f8", false, &[6, 1, 2, 1], &f8(&ls[1])),
    )
    .unwrap();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["tracks", "--layers", "a.npy,short.npy"],
            &["short.npy", "5 rows", "a.npy", "6"],
        ),
        (
            &["tracks", "--layers", "a.npy,nan.npy"],
            &["nan.npy", "row 4", "column 2"],
        ),
        (
            &["tracks", "--layers", "a.npy,wide.npy", "--embed", "none"],
            &["wide.npy", "width 3", "width 2"],
        ),
        (
            &["tracks", "--layers", "a.npy,conv.npy"],
            &["conv.npy", "--flatten"],
        ),
        (
            &["tracks", "--layers", "a.npy,a.npy", "--from", "1"],
            &["--from 1"],
        ),
        (
            &["tracks", "--layers", "a.npy,a.npy", "--out", "x.txt"],
            &["x.txt", ".csv"],
        ),
    ];
    for (args, needles) in cases {
        let (code, _, err) = run(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: '{n}' not in {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    // --flatten accepts the conv layer; --embed pad (default) accepts the wide one.
    for args in [
        &["tracks", "--layers", "a.npy,conv.npy", "--flatten"][..],
        &["tracks", "--layers", "a.npy,wide.npy"],
    ] {
        let (code, _, err) = run(d, args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    write_npz(
        &d.join("acts.npz"),
        &[
            ("x", npy("<f8", false, &[6, 2], &f8(&ls[0]))),
            ("y", npy("<f8", false, &[6, 2], &f8(&nan))),
        ],
    );
    let (code, _, err) = run(
        d,
        &["tracks", "--activations", "acts.npz", "--keys", "x,nope"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("nope") && err.contains("x, y"), "{err}");
    let (code, _, err) = run(d, &["tracks", "--activations", "acts.npz"]);
    assert_eq!(code, 2);
    assert!(err.contains("acts.npz:y") && err.contains("row 4"), "{err}");
    // An existing --out is untouched by a failed run.
    fs::write(d.join("keep.csv"), "old\n").unwrap();
    let (code, _, _) = run(
        d,
        &["tracks", "--layers", "a.npy,short.npy", "--out", "keep.csv"],
    );
    assert_eq!(code, 2);
    assert_eq!(fs::read_to_string(d.join("keep.csv")).unwrap(), "old\n");
}

/// The three layers of [`layers`] as `l0.npy,l1.npy,l2.npy` in `d`; returns the `--layers` value.
fn write_layers(d: &Path) -> &'static str {
    for (k, l) in layers().iter().enumerate() {
        fs::write(
            d.join(format!("l{k}.npy")),
            npy("<f8", false, &[6, 2], &f8(l)),
        )
        .unwrap();
    }
    "l0.npy,l1.npy,l2.npy"
}

/// Every entry of `dir`, sorted (hidden temporary files and folders included).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const FIGURES: [&str; 4] = ["lss_histogram", "w2_steps", "action_steps", "tracks_pca"];

/// `--report DIR` writes report.html, summary.json (equal to `--json`) and each figure as a
/// non-empty SVG and PNG; the HTML links every SVG and embeds the PNGs; integer labels (with a
/// header) name the classes in the projection's legend.
#[test]
fn report_writes_the_html_summary_and_every_figure_as_svg_and_png() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let l = write_layers(d);
    fs::write(d.join("labels.csv"), "label\n0\n1\n0\n2\n1\n2\n").unwrap();
    let (code, out, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            l,
            "--labels",
            "labels.csv",
            "--report",
            "rep",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let rep = d.join("rep");
    let mut expected = vec!["report.html".to_string(), "summary.json".to_string()];
    for f in FIGURES {
        expected.push(format!("{f}.png"));
        expected.push(format!("{f}.svg"));
    }
    expected.sort();
    assert_eq!(listing(&rep), expected);
    let html = fs::read_to_string(rep.join("report.html")).unwrap();
    for f in FIGURES {
        let svg = fs::read_to_string(rep.join(format!("{f}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") || svg.contains("<svg"), "{f}.svg");
        let png = fs::read(rep.join(format!("{f}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{f}.png");
        assert!(
            html.contains(&format!("href=\"{f}.svg\"")),
            "{f}.svg not linked"
        );
    }
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        FIGURES.len()
    );
    // The summary's numbers are in the report's table, and summary.json is the --json object.
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(rep.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary, json(&out));
    for key in [
        "lss_mean",
        "ots",
        "geodesic_ratio",
        "action_ratio",
        "w2_end_to_end",
    ] {
        assert!(html.contains(&format!("<td>{key}</td>")), "{key}");
    }
    assert!(html.contains("action ratio") && html.contains("geodesic"));
    // Classes 0, 1, 2 with 2 inputs each in the legend.
    let pca = fs::read_to_string(rep.join("tracks_pca.svg")).unwrap();
    for class in ["0 (2)", "1 (2)", "2 (2)"] {
        assert!(pca.contains(class), "legend entry {class}");
    }
}

/// Labels may be names (one per line, no header), ordered alphabetically in the legend; a
/// second run into the same (existing) folder replaces the report and keeps other files.
#[test]
fn labels_as_names_colour_the_tracks_and_name_the_classes() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let l = write_layers(d);
    fs::write(d.join("names.txt"), "cat\ndog\ncat\nbird\ndog\ncat\n\n").unwrap();
    fs::create_dir(d.join("rep")).unwrap();
    fs::write(d.join("rep/notes.txt"), "mine").unwrap();
    let (code, _, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            l,
            "--labels",
            "names.txt",
            "--report",
            "rep",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let pca = fs::read_to_string(d.join("rep/tracks_pca.svg")).unwrap();
    let at = |s: &str| {
        pca.find(s)
            .unwrap_or_else(|| panic!("{s} not in the legend"))
    };
    assert!(at("bird (1)") < at("cat (3)") && at("cat (3)") < at("dog (2)"));
    assert_eq!(fs::read_to_string(d.join("rep/notes.txt")).unwrap(), "mine");
    assert!(listing(&d.join("rep")).iter().all(|f| !f.starts_with('.')));
    // A one-column CSV of quoted names with a header line reads the same.
    fs::write(
        d.join("names.csv"),
        "species\n\"cat\"\n\"dog\"\n\"cat\"\n\"bird\"\n\"dog\"\n\"cat\"\n",
    )
    .unwrap();
    let (code, _, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            l,
            "--labels",
            "names.csv",
            "--report",
            "rep2",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let pca2 = fs::read_to_string(d.join("rep2/tracks_pca.svg")).unwrap();
    assert!(pca2.contains("bird (1)") && !pca2.contains("species"));
}

/// Without labels the projection is coloured by LSS quartile, with a legend saying so.
#[test]
fn report_without_labels_colours_the_tracks_by_lss() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let l = write_layers(d);
    let (code, _, err) = run(d, &["tracks", "--layers", l, "--report", "rep", "-q"]);
    assert_eq!(code, 0, "{err}");
    for f in FIGURES {
        assert!(fs::metadata(d.join(format!("rep/{f}.png"))).unwrap().len() > 0);
        assert!(fs::metadata(d.join(format!("rep/{f}.svg"))).unwrap().len() > 0);
    }
    let pca = fs::read_to_string(d.join("rep/tracks_pca.svg")).unwrap();
    assert!(pca.contains("LSS"));
    let html = fs::read_to_string(d.join("rep/report.html")).unwrap();
    assert!(html.contains("coloured by LSS quartile"));
}

/// A label count other than n, or a row with two columns, is exit 2 naming the file (and the
/// counts, or the row), before any scoring and with nothing written.
#[test]
fn bad_labels_exit_2_naming_the_file_and_write_nothing() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let l = write_layers(d);
    fs::write(d.join("five.txt"), "1\n2\n3\n4\n5\n").unwrap();
    fs::write(d.join("two_cols.csv"), "1\n2\n3,4\n4\n5\n6\n").unwrap();
    let before = listing(d);
    let cases: [(&str, &[&str]); 2] = [
        ("five.txt", &["five.txt", "5 labels", "6 inputs"]),
        ("two_cols.csv", &["two_cols.csv", "row 3", "2 columns"]),
    ];
    for (file, needles) in cases {
        let (code, _, err) = run(
            d,
            &[
                "tracks", "--layers", l, "--labels", file, "--report", "rep", "--out", "p.csv",
            ],
        );
        assert_eq!(code, 2, "{file}: {err}");
        for n in needles {
            assert!(err.contains(n), "{file}: '{n}' not in {err}");
        }
        assert_eq!(listing(d), before, "{file}: something was written");
    }
    // Labels colour the report's figure: without --report they are a usage error.
    let (code, _, err) = run(d, &["tracks", "--layers", l, "--labels", "five.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("--report"), "{err}");
}

/// `--report` on an existing file is exit 2 before any layer is read (a broken layer would give
/// another message) and leaves the file as it was; a run that fails while scoring leaves
/// neither the folder nor a temporary one behind.
#[test]
fn report_on_a_file_exits_2_before_scoring_and_a_failed_run_writes_nothing() {
    let w = tempfile::tempdir().unwrap();
    let d = w.path();
    let l = write_layers(d);
    fs::write(d.join("taken"), "a file").unwrap();
    let mut nan = layers()[2].clone();
    nan[3] = f64::NAN;
    fs::write(d.join("nan.npy"), npy("<f8", false, &[6, 2], &f8(&nan))).unwrap();
    let before = listing(d);
    let (code, _, err) = run(
        d,
        &["tracks", "--layers", "l0.npy,nan.npy", "--report", "taken"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("taken") && err.contains("not a folder"),
        "{err}"
    );
    assert!(
        !err.contains("nan.npy"),
        "scored before checking --report: {err}"
    );
    assert_eq!(fs::read_to_string(d.join("taken")).unwrap(), "a file");
    assert_eq!(listing(d), before);
    // A missing parent folder is refused up front too.
    let (code, _, err) = run(d, &["tracks", "--layers", l, "--report", "no/such/rep"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no/such") && err.contains("does not exist"),
        "{err}"
    );
    // Scoring fails (NaN in the last layer): no report folder, no temporary folder.
    let (code, _, err) = run(
        d,
        &[
            "tracks",
            "--layers",
            "l0.npy,l1.npy,nan.npy",
            "--report",
            "rep",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(listing(d), before);
}
