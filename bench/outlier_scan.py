"""The issue-17 outlier scan (BENCHMARKS.md, "Exact with outliers"): Φ_t at t = 0.5 of six points
in the unit square beside one at (B, 0), from the CLI, against NumPy's direct-difference
log-sum-exp. Usage, from the repository root after `cargo build --release`:
    bench/.venv/bin/python bench/outlier_scan.py
"""

import pathlib
import subprocess
import tempfile

import numpy as np

T = 0.5
base = np.random.default_rng(1).random((6, 2))
with tempfile.TemporaryDirectory() as tmp:
    data, out = pathlib.Path(tmp, "x.npy"), pathlib.Path(tmp, "phi.npy")
    for b in [1e8, 1e12, 1e15, 1e20, 1e100, 1e150]:
        x = np.vstack([base, [[b, 0.0]]])
        np.save(data, x)
        out.unlink(missing_ok=True)
        subprocess.run(
            ["target/release/deeptransport", "dae", "--data", data, "--t", str(T),
             "--out", out, "--quiet"],
            check=True, stdout=subprocess.DEVNULL,
        )
        phi = np.load(out)
        err = 0.0
        for j in range(len(base)):
            z = x - x[j]
            ell = -(z**2).sum(1) / (2 * T)
            s = np.exp(ell - ell.max())
            s /= s.sum()
            err = max(err, np.abs(phi[j] - (x[j] + s @ z)).max())
        print(f"B = {b:.0e}: max |Φ − reference| over the six points {err:.1e}")
