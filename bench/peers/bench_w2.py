"""Times POT's exact W2^2, ot.emd2(a, b, ot.dist(x, y)), on the clouds that
crates/deeptransport/examples/bench_w2.rs wrote (DIR/w2_x_N_D.npy, DIR/w2_y_N_D.npy), so both
solve the identical problem; prints one JSON line per case. The timing includes ot.dist (POT needs
the dense n x m cost matrix; deeptransport prices arcs from the coordinates).

    cargo run --release --example bench_w2 -- 4000 2 3 bench/results
    bench/.venv/bin/python bench/peers/bench_w2.py 4000 2 3 bench/results
"""
import json
import sys
import time

import numpy as np
import ot


def main():
    n, d, repeats, folder = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    x = np.load(f"{folder}/w2_x_{n}_{d}.npy")
    y = np.load(f"{folder}/w2_y_{n}_{d}.npy")
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        w2, log = ot.emd2(a, b, ot.dist(x, y), numItermax=100_000_000, log=True)
        times.append(time.perf_counter() - t0)
    print(json.dumps({
        "solver": f"POT {ot.__version__} ot.emd2", "n": n, "d": d, "times": times,
        "median": float(np.median(times)), "w2_squared": float(w2),
        "warning": log.get("warning"), "cost_matrix_bytes": 8 * len(x) * len(y),
    }))


if __name__ == "__main__":
    main()
