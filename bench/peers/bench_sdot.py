"""pyOMT's semi-discrete OT iteration (Lei et al., AE-OT; the reference code is not vendored:
this reimplements its algorithm) in NumPy and in PyTorch on the CPU, timed per iteration on the
files crates/deeptransport/examples/bench_sdot.rs wrote (DIR/sdot_y_N_D.npy targets,
DIR/sdot_x_SAMPLES_D.npy QMC samples), for comparison with deeptransport's per-iteration time.

One iteration, as in pyOMT: the scores U = X Yᵀ + h (SAMPLES × N, in batches of 2^15 samples to
bound memory, as pyOMT's bat_size_P does), the argmax of every row, the cell masses by bincount,
the gradient g = mass − ν, an Adam step without bias correction (pyOMT's), h ← h − mean(h).

    bench/.venv/bin/python bench/peers/bench_sdot.py N D SAMPLES ITERATIONS DIR
Prints one JSON line per implementation (numpy float64, torch float64, torch float32).
"""
import json
import os
import sys
import time

import numpy as np

BATCH = 1 << 15


def run_numpy(x, y, iterations, lr):
    n = len(y)
    nu = np.full(n, 1.0 / n)
    h, m, v = np.zeros(n), np.zeros(n), np.zeros(n)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        counts = np.zeros(n)
        for s in range(0, len(x), BATCH):
            idx = np.argmax(x[s:s + BATCH] @ y.T + h, axis=1)
            counts += np.bincount(idx, minlength=n)
        g = counts / len(x) - nu
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        h = h - lr * m / (np.sqrt(v) + 1e-12)
        h -= h.mean()
        times.append(time.perf_counter() - t0)
    return times


def run_torch(x, y, iterations, lr, dtype):
    import torch
    torch.set_num_threads(os.cpu_count())
    X = torch.from_numpy(x).to(dtype)
    Y = torch.from_numpy(y).to(dtype)
    n = len(y)
    nu = torch.full((n,), 1.0 / n, dtype=dtype)
    h, m, v = (torch.zeros(n, dtype=dtype) for _ in range(3))
    times = []
    with torch.no_grad():
        for _ in range(iterations):
            t0 = time.perf_counter()
            counts = torch.zeros(n, dtype=dtype)
            for s in range(0, len(X), BATCH):
                idx = torch.argmax(X[s:s + BATCH] @ Y.T + h, dim=1)
                counts += torch.bincount(idx, minlength=n).to(dtype)
            g = counts / len(X) - nu
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            h = h - lr * m / (torch.sqrt(v) + 1e-12)
            h -= h.mean()
            times.append(time.perf_counter() - t0)
    return times, torch.__version__


def main():
    n, d, samples, iterations, folder = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                         int(sys.argv[4]), sys.argv[5])
    y = np.load(f"{folder}/sdot_y_{n}_{d}.npy")
    x = np.load(f"{folder}/sdot_x_{samples}_{d}.npy")
    # deeptransport's initial step: a hundredth of max_i |y_i − ȳ|.
    lr = 1e-2 * np.sqrt(((y - y.mean(0)) ** 2).sum(1)).max()
    base = {"case": "qmc", "n": n, "d": d, "samples": samples, "iterations": iterations}
    t = run_numpy(x, y, iterations, lr)
    print(json.dumps({**base, "impl": f"numpy {np.__version__} float64",
                      "seconds_per_iteration": float(np.median(t))}), flush=True)
    try:
        import torch
        for dtype in (torch.float64, torch.float32):
            t, version = run_torch(x, y, iterations, lr, dtype)
            print(json.dumps({**base, "impl": f"torch {version} CPU {str(dtype).split('.')[-1]}",
                              "seconds_per_iteration": float(np.median(t))}), flush=True)
    except ImportError:
        print(json.dumps({**base, "impl": "torch", "skipped": "torch is not installed"}))


if __name__ == "__main__":
    main()
