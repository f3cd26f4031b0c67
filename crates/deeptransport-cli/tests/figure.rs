//! `deeptransport figure`: every figure writes its SVG, PNG and numbers, and the numbers agree
//! with the paper's closed forms (METHODS §4): Fig. 1 densities N(0, 1/(1+t)²) and lines
//! x/(1+t), Fig. 2 trajectories of eqs. (12), (13) and the composition recursion, Fig. 3 paths in
//! the (σ₁, σ₂) plane with entropy decreasing. Bad usage exits 2.

mod common;

use common::{bin, read_npy};
use std::f64::consts::{E, PI};
use std::fs;
use std::path::Path;

/// Runs `figure WHICH --out DIR` and expects success.
fn figure(which: &str, dir: &Path) {
    bin()
        .args(["figure", which, "--out", dir.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
}

/// The PNG signature, an IHDR chunk first, its width × height, and an IEND chunk last.
fn png_size(path: &Path) -> (u32, u32) {
    let b = fs::read(path).expect("png written");
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: PNG signature",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR", "{}: IHDR first", path.display());
    assert_eq!(
        &b[b.len() - 8..b.len() - 4],
        b"IEND",
        "{}: IEND last",
        path.display()
    );
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    (w, h)
}

/// The SVG is a complete document of the stated size, with its text in the bundled font.
fn check_svg(path: &Path, w: u32, h: u32, titles: &[&str]) {
    let s = fs::read_to_string(path).expect("svg written");
    assert!(s.contains("<svg"), "{}: no <svg", path.display());
    assert!(
        s.contains(&format!("width=\"{w}\" height=\"{h}\"")),
        "{}: size",
        path.display()
    );
    assert!(
        s.trim_end().ends_with("</svg>"),
        "{}: truncated",
        path.display()
    );
    assert!(s.contains("font-family=\"DejaVu Sans\""));
    for t in titles {
        assert!(s.contains(t), "{}: missing title {t:?}", path.display());
    }
}

/// A CSV with one header row: (header, rows).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = fs::read_to_string(path).expect("csv written");
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|c| c.parse().expect("number")).collect())
        .collect();
    (header, rows)
}

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

/// Fig. 1: the densities are N(0, 1/(1+t)²) at t = 0, 0.5, 1 to 1e-12 relative. Why 1e-12: the
/// variance comes from an eigen-decomposition (a few ulps), and the exponent x²/(2v) ≤ 32 on
/// [−4, 4] amplifies a relative error δ of v into ≈ 32δ ≈ 1e-14 in the density; 1e-12 leaves
/// room and still fails on any wrong variance. The transport-line endpoints are x/(1+t) (eq. 13
/// for N(0, 1)) to 1e-14 relative (a 1×1 Cholesky solve, a few ulps).
#[test]
fn fig1_writes_svg_png_and_densities_of_the_closed_form_pushforwards() {
    let root = tempfile::tempdir().unwrap();
    // A nested folder that does not exist yet: `--out` creates it.
    let dir = root.path().join("a/b");
    figure("fig1", &dir);
    assert_eq!(png_size(&dir.join("fig1.png")), (1300, 560));
    check_svg(
        &dir.join("fig1.svg"),
        1300,
        560,
        &["Densities of μₜ = Φₜ♯μ₀"],
    );

    let (header, rows) = read_csv(&dir.join("fig1.csv"));
    assert_eq!(header, ["x", "density_t0", "density_t0.5", "density_t1"]);
    assert_eq!(rows.len(), 401);
    assert_eq!((rows[0][0], rows[400][0]), (-4.0, 4.0));
    for r in &rows {
        for (k, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
            let v = 1.0 / ((1.0 + t) * (1.0 + t));
            let pdf = (-0.5 * r[0] * r[0] / v).exp() / (2.0 * PI * v).sqrt();
            assert!(
                rel_err(r[k + 1], pdf) < 1e-12,
                "x = {}, t = {t}: density {} vs N(0, 1/(1+t)²) pdf {pdf}",
                r[0],
                r[k + 1]
            );
        }
    }

    let (header, lines) = read_csv(&dir.join("fig1_lines.csv"));
    assert_eq!(header, ["x0", "phi_t0.5", "phi_t1"]);
    assert_eq!(lines.len(), 13);
    for l in &lines {
        for (k, t) in [0.5, 1.0].into_iter().enumerate() {
            let want = l[0] / (1.0 + t);
            assert!(
                (l[k + 1] - want).abs() <= 1e-14 * want.abs().max(1.0),
                "x0 = {}: Φ_{t} = {} vs x0/(1+t) = {want}",
                l[0],
                l[k + 1]
            );
        }
    }
}

/// One Fig. 2 trajectory file: its shape and times, the first slice equal to the grid and the
/// samples, and every later slice equal to `x(0)·gain(t, λ_i)` coordinate-wise (Σ is diagonal,
/// so each map acts on each coordinate separately with λ = 2, 1).
fn check_trajectory(
    dir: &Path,
    name: &str,
    times: &[f64],
    gain: impl Fn(usize, f64) -> f64,
) -> Vec<f64> {
    let (shape, p) = read_npy(&dir.join(format!("{name}.npy")));
    assert_eq!(shape, [times.len(), 93, 2], "{name}: shape (T, n, 2)");
    let (h, t_rows) = read_csv(&dir.join(format!("{name}.times.csv")));
    assert_eq!(h, ["t"]);
    let got: Vec<f64> = t_rows.iter().map(|r| r[0]).collect();
    assert_eq!(got, times, "{name}: times");
    // Rows 0..63: the regular grid x₁ ∈ {−3, …, 3} × x₂ ∈ {−2.25, …, 2.25}, step 0.75.
    for j in 0..7 {
        for i in 0..9 {
            let r = j * 9 + i;
            assert_eq!(p[r * 2], -3.0 + 0.75 * i as f64);
            assert_eq!(p[r * 2 + 1], -2.25 + 0.75 * j as f64);
        }
    }
    // Exact maps: agreement to 1e-13 on coordinates of size ≤ 3 (a handful of roundings per
    // slice; the composition accumulates ≤ 20 layers of them).
    for (k, &t) in times.iter().enumerate() {
        for (idx, &x0) in p[..93 * 2].iter().enumerate() {
            let want = x0 * gain(idx % 2, t);
            let got = p[k * 93 * 2 + idx];
            assert!(
                (got - want).abs() < 1e-13,
                "{name}: slice {k} (t = {t}), value {idx}: {got} vs closed form {want}"
            );
        }
    }
    p
}

/// Fig. 2: the continuous DAE (eq. 12, x ↦ √(1 − 2t/λ) x), the DAE (eq. 13, x ↦ λ/(λ + t) x) and
/// the compositions (x ↦ Π_ℓ λ_ℓ/(λ_ℓ + τ) x, λ_{ℓ+1} = λ_ℓ³/(λ_ℓ + τ)²) of N(0, diag[2, 1]),
/// on the stated time grids; the same seed gives identical files, another seed other samples.
#[test]
fn fig2_trajectories_follow_eqs_12_13_and_the_composition_recursion() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("f");
    figure("fig2", &dir);
    assert_eq!(png_size(&dir.join("fig2.png")), (1300, 1000));
    check_svg(
        &dir.join("fig2.svg"),
        1300,
        1000,
        &[
            "Continuous DAE φₜ (eq. 12)",
            "DAE Φₜ (eq. 13)",
            "Composition of 20 DAEs, τ = 0.05",
            "Composition of 2 DAEs, τ = 0.5",
        ],
    );
    let lambda = [2.0, 1.0];
    let grid = |n: usize, per: f64| (0..=n).map(|k| k as f64 / per).collect::<Vec<_>>();
    // Continuous DAE up to t* − 0.005 = 0.495 (singular at t* = λ_min/2 = 1/2).
    check_trajectory(&dir, "fig2_continuous", &grid(99, 200.0), |c, t| {
        (1.0 - 2.0 * t / lambda[c]).sqrt()
    });
    check_trajectory(&dir, "fig2_dae", &grid(100, 100.0), |c, t| {
        lambda[c] / (lambda[c] + t)
    });
    for (name, tau, layers) in [("fig2_tau0.05", 0.05, 20), ("fig2_tau0.5", 0.5, 2)] {
        let per = 1.0 / tau;
        check_trajectory(&dir, name, &grid(layers, per), |c, t| {
            let mut l = lambda[c];
            let mut g = 1.0;
            for _ in 0..(t * per).round() as usize {
                g *= l / (l + tau);
                l = l * l * l / ((l + tau) * (l + tau));
            }
            g
        });
    }

    let again = root.path().join("g");
    figure("fig2", &again);
    let other = root.path().join("h");
    bin()
        .args([
            "figure",
            "fig2",
            "--out",
            other.to_str().unwrap(),
            "--seed",
            "7",
        ])
        .assert()
        .success();
    let bytes = |d: &Path| fs::read(d.join("fig2_dae.npy")).unwrap();
    assert_eq!(bytes(&dir), bytes(&again), "same seed, same file");
    assert_ne!(bytes(&dir), bytes(&other), "another seed, other samples");
}

/// Fig. 3: along the flow σ_i(t) = √(σ_i² − 2t), so σ₁² − σ₂² = 2 − 1 stays 1 (to 1e-12: one
/// subtraction and a square root per value); the DAE path is σ_i = λ_i^{3/2}/(λ_i + t); the
/// compositions follow λ ↦ λ³/(λ + τ)²; the entropy column is log σ₁σ₂ + log 2πe; and the
/// entropy strictly decreases along every path (Section 4: the DAE lowers entropy).
#[test]
fn fig3_paths_follow_the_closed_forms_and_entropy_strictly_decreases() {
    let dir = tempfile::tempdir().unwrap();
    figure("fig3", dir.path());
    assert_eq!(png_size(&dir.path().join("fig3.png")), (940, 780));
    check_svg(&dir.path().join("fig3.svg"), 940, 780, &["σ₁", "σ₂"]);
    let log_2pi_e = (2.0 * PI * E).ln();
    let read = |name: &str| {
        let (h, rows) = read_csv(&dir.path().join(format!("{name}.csv")));
        assert_eq!(h, ["t", "sigma1", "sigma2", "entropy"]);
        assert_eq!(
            &rows[0][..3],
            &[0.0, 2f64.sqrt(), 1.0],
            "{name} starts at μ₀"
        );
        for w in rows.windows(2) {
            assert!(w[1][0] > w[0][0], "{name}: time increases");
            assert!(
                w[1][3] < w[0][3],
                "{name}: entropy {} at t = {} not below {} at t = {}",
                w[1][3],
                w[1][0],
                w[0][3],
                w[0][0]
            );
        }
        for r in &rows {
            let h = r[1].ln() + r[2].ln() + log_2pi_e;
            assert!((r[3] - h).abs() < 1e-12, "{name}: H {} vs {h}", r[3]);
        }
        rows
    };

    let flow = read("fig3_flow");
    assert!(flow.len() > 100, "the flow is sampled finely");
    let last = flow.last().unwrap()[0];
    assert!(
        last < 0.5 && last > 0.499,
        "the flow stops just before t* = 1/2, at {last}"
    );
    for r in &flow {
        assert!(
            (r[1] * r[1] - r[2] * r[2] - 1.0).abs() < 1e-12,
            "σ₁² − σ₂² at t = {}",
            r[0]
        );
        assert!((r[2] - (1.0 - 2.0 * r[0]).sqrt()).abs() < 1e-12);
    }

    let dae = read("fig3_dae");
    assert_eq!(dae.last().unwrap()[0], 1.0);
    for r in &dae {
        for (c, l) in [(1, 2.0f64), (2, 1.0)] {
            let want = l.powf(1.5) / (l + r[0]);
            assert!(rel_err(r[c], want) < 1e-13, "DAE σ at t = {}", r[0]);
        }
    }

    for (name, tau, layers) in [("fig3_tau0.05", 0.05, 14), ("fig3_tau0.5", 0.5, 2)] {
        let rows = read(name);
        // τ = 0.05 stops after 14 layers: at layer 15 σ₂²/σ₁² < 1e-12, a degenerate measure.
        assert_eq!(rows.len(), layers + 1, "{name}: layers shown");
        let mut l = [2.0f64, 1.0];
        for (k, r) in rows.iter().enumerate() {
            assert!((r[0] - k as f64 * tau).abs() < 1e-15);
            for c in 0..2 {
                assert!(rel_err(r[c + 1], l[c].sqrt()) < 1e-12, "{name} layer {k}");
                l[c] = l[c].powi(3) / ((l[c] + tau) * (l[c] + tau));
            }
        }
    }
}

/// `all` writes the three figures; the JSON summary is one object listing files that exist, and
/// no temporary file is left behind.
#[test]
fn all_writes_every_figure_and_the_json_lists_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "figure",
            "all",
            "--out",
            dir.path().to_str().unwrap(),
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("one JSON object");
    let figs = v["figures"].as_array().expect("figures");
    assert_eq!(figs.len(), 3);
    let mut listed = 0;
    for f in figs {
        for key in ["svg", "png"] {
            assert!(Path::new(f[key].as_str().unwrap()).is_file());
            listed += 1;
        }
        for n in f["numbers"].as_array().unwrap() {
            assert!(Path::new(n.as_str().unwrap()).is_file());
            listed += 1;
        }
    }
    let on_disk = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(listed, on_disk, "exactly the listed files, no temporaries");
    assert_eq!(figs[1]["n_grid"], 63);
    assert_eq!(figs[1]["n_samples"], 30);
}

/// Usage errors exit 2 and write nothing: an unknown figure, a missing --out, an --out that is
/// a file (left untouched).
#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    bin().args(["figure", "fig4", "--out", d]).assert().code(2);
    bin().args(["figure", "fig1"]).assert().code(2);
    bin().args(["figure", "--out", d]).assert().code(2);
    let file = dir.path().join("taken");
    fs::write(&file, "keep").unwrap();
    bin()
        .args(["figure", "fig1", "--out", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("taken"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
    bin().args(["figure", "--help"]).assert().success();
}

/// Issue 17, item 6: a folder where any file of `figure all` goes is bad input (exit 2, naming
/// it) before anything is drawn or written — not exit 1 after the figures before it.
#[test]
fn a_folder_in_place_of_any_figure_file_is_refused_before_drawing() {
    let first = tempfile::tempdir().unwrap();
    figure("all", first.path());
    let mut names: Vec<String> = fs::read_dir(first.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    for name in &names {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(name)).unwrap();
        let out = bin()
            .args(["figure", "all", "--out", dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(name.as_str()), "{name}: {stderr}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            left.len(),
            1,
            "{name}: something was written before the refusal"
        );
    }
}
