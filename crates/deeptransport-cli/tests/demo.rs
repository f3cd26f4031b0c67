//! `deeptransport demo` (issue 17): a failed claim is exit 1 after the report is written, the
//! velocity claim measures the empirical DAE (so a tiny sample fails it), every destination is
//! checked before any work, and the report and summary say where they come from.

mod common;

use common::bin;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One `demo --samples 2` run shared by the tests (the quick experiments take most of its
/// 15–30 s): its folder, exit code and stderr.
struct TinyRun {
    dir: tempfile::TempDir,
    code: i32,
    stderr: String,
}

fn tiny_run() -> &'static TinyRun {
    static RUN: OnceLock<TinyRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, stderr) = run(
            dir.path(),
            &["demo", "--out", "d", "--samples", "2", "--quiet"],
        );
        TinyRun { dir, code, stderr }
    })
}

/// Every file under `root`, relative to it, sorted.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// Item 8: two points cannot support the demo's claims; the run says so with exit 1, after
/// writing a report and a summary that show which claims failed.
#[test]
fn a_failed_claim_exits_1_after_writing_the_report_that_shows_it() {
    let r = tiny_run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("claim did not hold"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let d = r.dir.path().join("d");
    let html = fs::read_to_string(d.join("report.html")).unwrap();
    assert!(html.contains("claim fails"), "the report marks the failure");
    assert!(html.trim_end().ends_with("</html>"), "a whole report");
    assert_eq!(summary(&d)["all_claims_hold"], false);
}

/// Item 9: the velocity claim compares the empirical DAE of the sample with the score, so with
/// two points (one atom behind each posterior) it fails; with the default sample it is measured
/// within a few Monte-Carlo standard errors (checked by the `cli` demo tests, which need every
/// claim to hold at N = 100…500).
#[test]
fn the_velocity_claim_measures_the_sample_and_fails_on_two_points() {
    let d = tiny_run().dir.path().join("d");
    let s = summary(&d);
    let v = &s["dae"]["velocity_vs_score"];
    assert_eq!(v["queries"], 2, "{v}");
    assert!(v["median_effective_atoms"].as_f64().unwrap() < 2.0, "{v}");
    assert!(v["relative_rms_error"].as_f64().unwrap() > 0.5, "{v}");
    let html = fs::read_to_string(d.join("report.html")).unwrap();
    let claim = html
        .split("<div class=\"claim")
        .find(|c| c.contains("The velocity of the DAE is the score"))
        .expect("the velocity claim is in the report");
    assert!(claim.starts_with(" fails"), "{claim}");
    assert!(claim.contains("empirical DAE of the sample"), "{claim}");
}

/// Item 10: version, commit, command line and date in `summary.json` (one `provenance` object,
/// in the experiments' summaries too) and under the report's title; Φ_t typeset, not raw.
#[test]
fn report_and_summary_say_which_version_commit_and_command_made_them() {
    let d = tiny_run().dir.path().join("d");
    for s in [summary(&d), summary(&d.join("topology"))] {
        let p = &s["provenance"];
        assert_eq!(p["version"], env!("CARGO_PKG_VERSION"), "{p}");
        assert!(!p["commit"].as_str().unwrap().is_empty(), "{p}");
        assert_eq!(
            p["command"], "deeptransport demo --out d --samples 2 --quiet",
            "{p}"
        );
        let date = p["date"].as_str().unwrap();
        let b = date.as_bytes();
        assert!(
            b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z',
            "RFC 3339 UTC: {date}"
        );
    }
    let html = fs::read_to_string(d.join("report.html")).unwrap();
    let p = &summary(&d)["provenance"];
    for key in ["version", "commit", "date"] {
        assert!(
            html.contains(p[key].as_str().unwrap()),
            "report lacks {key}"
        );
    }
    assert!(html.contains("<code>deeptransport demo --out d --samples 2 --quiet</code>"));
    for raw in ["Φ_t", "Φ_{0:L}", "Φ^t_{0:L}", "φ_t"] {
        assert!(!html.contains(raw), "raw {raw} in the report");
    }
    assert!(html.contains("Φ<sup>t</sup><sub>0:L</sub>"));
}

/// Item 6: a folder where any file of the demo goes (its own files and the experiments') is
/// refused with exit 2 before any work: nothing is written besides the empty output folders.
#[test]
fn a_folder_in_place_of_any_output_file_is_refused_before_any_work() {
    let written = files_under(&tiny_run().dir.path().join("d"));
    assert!(written.len() > 50, "{written:?}");
    for f in &written {
        let w = tempfile::tempdir().unwrap();
        let blocker = w.path().join("d").join(f);
        fs::create_dir_all(&blocker).unwrap();
        fs::write(blocker.join("keep"), "x").unwrap();
        let start = std::time::Instant::now();
        let (code, _, stderr) = run(w.path(), &["demo", "--out", "d", "--quiet"]);
        assert_eq!(code, 2, "{}: {stderr}", f.display());
        assert!(
            stderr.contains(&f.file_name().unwrap().to_string_lossy().to_string()),
            "{}: {stderr}",
            f.display()
        );
        assert!(
            start.elapsed().as_secs_f64() < 5.0,
            "{}: refused only after work",
            f.display()
        );
        assert_eq!(
            files_under(&w.path().join("d")),
            vec![f.join("keep")],
            "{}: files written before the refusal",
            f.display()
        );
    }
}
