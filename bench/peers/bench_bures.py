"""Benchmark: Bures-Wasserstein W2^2 between two Gaussians at d = 64, deeptransport
(`examples/bench_bures.rs`, `wasserstein::bures::bures_w2_squared`) against SciPy and NumPy on the
same inputs.

Data (NumPy default_rng(64)): means standard normal, covariances A A^T / d + 0.1 I with A standard
normal d x d (SPD, condition number ~ 10^2). Each Gaussian goes to a (d + 1) x d .npy (row 0 the
mean, then the covariance) that the Rust example reads.
Peers, W2^2 = |m1 - m2|^2 + tr S1 + tr S2 - 2 tr (S2^1/2 S1 S2^1/2)^1/2:
  scipy: the textbook formula with scipy.linalg.sqrtm for both square roots;
  numpy: eigh-based, S2^1/2 = V diag(sqrt w) V^T, then the trace as the sum of the square roots of
         eigvalsh(S2^1/2 S1 S2^1/2) (deeptransport's two steps, with LAPACK's eigensolvers).
One call is a millisecond-scale operation, so every repeat times a loop of CALLS calls and reports
seconds per call. The answers must agree to 1e-9 relative. Prints one JSON line per implementation.

    cargo build --release -p deeptransport --example bench_bures
    bench/.venv/bin/python bench/peers/bench_bures.py [--d 64] [--calls 200] [--repeats 5]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.linalg

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_bures"


def bures_scipy(m1, s1, m2, s2):
    r2 = scipy.linalg.sqrtm(s2)
    cross = scipy.linalg.sqrtm(r2 @ s1 @ r2)
    dm = m1 - m2
    return float(dm @ dm + np.trace(s1) + np.trace(s2) - 2.0 * np.real(np.trace(cross)))


def bures_numpy(m1, s1, m2, s2):
    w, v = np.linalg.eigh(s2)
    r2 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = r2 @ s1 @ r2
    inner = 0.5 * (inner + inner.T)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(inner), 0.0, None)).sum()
    dm = m1 - m2
    return float(max(dm @ dm + np.trace(s1) + np.trace(s2) - 2.0 * cross, 0.0))


def spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def time_loop(f, calls, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            value = f()
        times.append((time.perf_counter() - start) / calls)
    return times, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    d = args.d
    rng = np.random.default_rng(64)
    m1, s1 = rng.standard_normal(d), spd(rng, d)
    m2, s2 = rng.standard_normal(d), spd(rng, d)
    case = f"bures_d{d}"
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = Path(tmp) / "a.npy", Path(tmp) / "b.npy"
        np.save(pa, np.vstack([m1, s1]))
        np.save(pb, np.vstack([m2, s2]))
        out = subprocess.run([str(EXAMPLE), str(pa), str(pb), str(args.calls), str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    ours["case"] = case
    print(json.dumps(ours), flush=True)
    ok = True
    for name, f in [(f"scipy {scipy.__version__} sqrtm", bures_scipy),
                    (f"numpy {np.__version__} eigh", bures_numpy)]:
        times, w2 = time_loop(lambda: f(m1, s1, m2, s2), args.calls, args.repeats)
        rel = abs(w2 - ours["w2_squared"]) / max(abs(w2), 1e-300)
        agree = rel <= 1e-9
        ok &= agree
        print(json.dumps({"impl": name, "case": case, "d": d, "calls": args.calls, "times": times,
                          "median": statistics.median(times), "w2_squared": w2, "rel_diff": rel,
                          "agree": agree}), flush=True)
    if not ok:
        print("Bures W2: answers disagree beyond 1e-9 relative", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
