//! Far outliers and huge coordinates through the commands (issue 17, items 1 and 2): one point at
//! `10²⁰` must not change the other points' results, and coordinates whose squared distances
//! would overflow are refused with exit 2 naming the file, row and column — never a result of
//! `±∞` with exit 0.

mod common;

use common::{bin, f8, npy, read_npy};
use std::fs;

const SQUARE_AND_OUTLIER: &str = "0,0\n1,0\n0,1\n1,1\n1e20,0\n";

/// `dae --t 0.5` on the unit square plus `(10²⁰, 0)`: each corner's posterior is the two corners
/// sharing its y (weights `1` and `e^{−1}`), so Φ's x-coordinate is `1/(1 + e)` or `e/(1 + e)`
/// (the outlier's weight is `e^{−10⁴⁰}` = 0); it used to come out `0.0`.
#[test]
fn dae_with_a_far_outlier_keeps_the_square_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data.csv"), dir.path().join("phi.npy"));
    fs::write(&data, SQUARE_AND_OUTLIER).unwrap();
    bin()
        .args(["dae", "--data", data.to_str().unwrap(), "--t", "0.5"])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let (shape, phi) = read_npy(&out);
    assert_eq!(shape, vec![5, 2]);
    let e = std::f64::consts::E;
    for (j, want) in [
        1.0 / (1.0 + e),
        e / (1.0 + e),
        1.0 / (1.0 + e),
        e / (1.0 + e),
    ]
    .into_iter()
    .enumerate()
    {
        let got = phi[2 * j];
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON,
            "corner {j}: {got} vs {want}"
        );
    }
    assert_eq!(phi[8], 1e20);
}

/// The smoothed-data flow on the same data converges (it reported "did not converge", its error
/// estimate ruined by the same cancellation) and leaves the square's points at their scale.
#[test]
fn flow_with_a_far_outlier_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data.csv"), dir.path().join("flow.npy"));
    fs::write(&data, SQUARE_AND_OUTLIER).unwrap();
    bin()
        .args([
            "flow",
            "--data",
            data.to_str().unwrap(),
            "--bandwidth",
            "0.5",
        ])
        .args(["--t", "0.2", "--times", "0.1"])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let (_, x) = read_npy(&out);
    assert!(x.iter().all(|v| v.is_finite()));
}

/// Coordinates beyond `±10¹⁵⁰` (squares overflow near `10¹⁵⁴`) are refused by every command that
/// measures distances, naming the file, the row and the column; nothing is written.
#[test]
fn coordinates_whose_squares_overflow_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("big.csv");
    fs::write(&data, "0,0\n1,0\n0,3e181\n").unwrap();
    let out = dir.path().join("out.npy");
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let runs: [&[&str]; 3] = [
        &["dae", "--data", d, "--t", "0.5", "--out", o],
        &[
            "deep", "--data", d, "--tau", "0.1", "--layers", "2", "--out", o,
        ],
        &["entropy", "--data", d],
    ];
    for args in runs {
        let assert = bin().args(args).arg("--quiet").assert().code(2);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        for needle in ["big.csv", "row 3", "column 2", "3e181"] {
            assert!(
                err.contains(needle),
                "{args:?}: {needle:?} missing from {err}"
            );
        }
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

/// The same bound on a trajectory (`entropy --trajectory`): named by slice, row and column.
#[test]
fn trajectory_coordinates_whose_squares_overflow_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let traj = dir.path().join("traj.npy");
    let mut values = vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    values[11] = -3e181; // slice 2, row 3, column 2
    fs::write(&traj, npy("<f8", false, &[2, 3, 2], &f8(&values))).unwrap();
    let assert = bin()
        .args([
            "entropy",
            "--trajectory",
            traj.to_str().unwrap(),
            "--k",
            "1",
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for needle in ["traj.npy", "slice 2, row 3, column 2", "-3e181"] {
        assert!(err.contains(needle), "{needle:?} missing from {err}");
    }
}
