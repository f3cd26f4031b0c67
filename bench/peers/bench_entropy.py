"""Benchmark: Kozachenko-Leonenko k-NN entropy, deeptransport against SciPy on the same data.

Cases: n = 10^5 standard normal points (NumPy default_rng(2026)) in d = 2 and d = 8, k = 1 and 5.
The SciPy peer is the standard approach: cKDTree(x).query(x, k + 1, workers=-1) (all cores, like
deeptransport), the k-th neighbour distance from the last column, then
psi(N) - psi(k) + log V_d + d mean(log eps). Tree construction is timed in both.
Each case's data is written to a temporary .npy that the Rust example
(target/release/examples/bench_entropy DATA.npy K REPEATS) reads, so both time the same points;
the two estimates are printed for comparison. One JSON line per (implementation, case).

    cargo build --release -p deeptransport --example bench_entropy
    bench/.venv/bin/python bench/peers/bench_entropy.py [--n N] [--repeats R]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_entropy"


def kl_scipy(x, k):
    n, d = x.shape
    dist, _ = cKDTree(x).query(x, k + 1, workers=-1)
    log_vd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)
    return float(digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(dist[:, k])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for d in (2, 8):
            x = np.random.default_rng(2026).standard_normal((args.n, d))
            for k in (1, 5):
                name = f"kl_n{args.n}_d{d}_k{k}"
                times, h = [], None
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    h = kl_scipy(x, k)
                    times.append(time.perf_counter() - t0)
                print(json.dumps({
                    "impl": f"scipy {scipy.__version__} cKDTree", "case": name, "n": args.n,
                    "d": d, "k": k, "times": times, "min": min(times),
                    "median": float(np.median(times)), "threads": os.cpu_count(), "entropy": h,
                }), flush=True)
                path = Path(tmp) / f"{name}.npy"
                np.save(path, np.ascontiguousarray(x, dtype=np.float64))
                out = subprocess.run([str(EXAMPLE), str(path), str(k), str(args.repeats)],
                                     check=True, capture_output=True, text=True).stdout
                rust = json.loads(out)
                print(json.dumps(rust), flush=True)
                assert abs(rust["entropy"] - h) <= 1e-10 * max(1.0, abs(h)), (rust["entropy"], h)


if __name__ == "__main__":
    main()
