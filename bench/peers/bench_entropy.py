"""Benchmark: Kozachenko-Leonenko k-NN entropy, deeptransport against SciPy on the same data.

Cases: n = 10^5 standard normal points (NumPy default_rng(2026)) in d = 2 and d = 8, k = 1 and 5.
The SciPy peer is the standard approach: cKDTree(x).query(x, k + 1, workers=-1) (all cores, like
deeptransport), the k-th neighbour distance from the last column, then
psi(N) - psi(k) + log V_d + d mean(log eps). A second peer is scikit-learn's
NearestNeighbors(n_neighbors=k + 1, algorithm='kd_tree', n_jobs=-1).fit(x).kneighbors(x) with the
same formula (skipped with a note line when scikit-learn does not import). Tree construction is
timed in all of them.
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

try:
    import sklearn
    from sklearn.neighbors import NearestNeighbors
    SKLEARN_ERROR = None
except Exception as e:  # noqa: BLE001 - an optional peer: any import failure skips it
    SKLEARN_ERROR = f"{type(e).__name__}: {e}".splitlines()[0]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_entropy"


def kl_from_eps(eps, n, d, k):
    log_vd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)
    return float(digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(eps)))


def kl_scipy(x, k):
    dist, _ = cKDTree(x).query(x, k + 1, workers=-1)
    return kl_from_eps(dist[:, k], *x.shape, k)


def kl_sklearn(x, k):
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="kd_tree", n_jobs=-1).fit(x)
    dist, _ = nn.kneighbors(x)
    return kl_from_eps(dist[:, k], *x.shape, k)


def timed(f, x, k, repeats):
    times, h = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        h = f(x, k)
        times.append(time.perf_counter() - t0)
    return times, h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if SKLEARN_ERROR:
        print(json.dumps({"impl": "scikit-learn", "skipped": SKLEARN_ERROR}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for d in (2, 8):
            x = np.random.default_rng(2026).standard_normal((args.n, d))
            for k in (1, 5):
                name = f"kl_n{args.n}_d{d}_k{k}"
                times, h = timed(kl_scipy, x, k, args.repeats)
                print(json.dumps({
                    "impl": f"scipy {scipy.__version__} cKDTree", "case": name, "n": args.n,
                    "d": d, "k": k, "times": times, "min": min(times),
                    "median": float(np.median(times)), "threads": os.cpu_count(), "entropy": h,
                }), flush=True)
                if not SKLEARN_ERROR:
                    st, hs = timed(kl_sklearn, x, k, args.repeats)
                    print(json.dumps({
                        "impl": f"scikit-learn {sklearn.__version__} NearestNeighbors kd_tree",
                        "case": name, "n": args.n, "d": d, "k": k, "times": st, "min": min(st),
                        "median": float(np.median(st)), "threads": os.cpu_count(), "entropy": hs,
                    }), flush=True)
                    assert abs(hs - h) <= 1e-10 * max(1.0, abs(h)), (hs, h)
                path = Path(tmp) / f"{name}.npy"
                np.save(path, np.ascontiguousarray(x, dtype=np.float64))
                out = subprocess.run([str(EXAMPLE), str(path), str(k), str(args.repeats)],
                                     check=True, capture_output=True, text=True).stdout
                rust = json.loads(out)
                print(json.dumps(rust), flush=True)
                assert abs(rust["entropy"] - h) <= 1e-10 * max(1.0, abs(h)), (rust["entropy"], h)


if __name__ == "__main__":
    main()
