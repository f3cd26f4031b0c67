"""Benchmark: entropic OT by deeptransport's log-domain Sinkhorn (ε-scaling, adaptive
over-relaxation; `examples/bench_sinkhorn.rs`) against POT on the same data, same ε, compared at
the same achieved marginal error.

Data: n = m standardised 2-D points (x: a Gaussian; y: a two-component Gaussian mixture, each
coordinate centred and scaled to unit variance), cost |x - y|^2, uniform weights, ε = 0.05.
Peers: `ot.sinkhorn(..., method='sinkhorn_log')` and the kernel-domain `ot.sinkhorn` (default
method 'sinkhorn'), both from u = v = 1 (no ε-scaling).

Stopping rules differ: deeptransport stops when the l1 marginal error ||P1 - a||_1 + ||P^T 1 - b||_1
<= TOL (checked every sweep); POT when the l2 norm of the column-marginal violation <= stopThr
(checked every 10 iterations). To compare at the same marginal error, stopThr is calibrated on the
kernel-domain solver (the log-domain one performs the same iteration): the largest value on a
1-2-5 grid whose plan has l1 marginal error <= TOL. Every line reports the l1 error recomputed
from the returned plan (POT) or from the potentials (deeptransport; equal to the plan's).

SIMD paths (issue 11): deeptransport runs once with DEEPTRANSPORT_SIMD unset (the widest path the
CPU has; its line's "simd" is the path the binary reports), then once per kernel path forced
(avx512, avx2, portable, scalar) on the same data, ε and tolerance: impl "deeptransport (PATH)".
A path the CPU cannot run (the binary exits 2: "does not run it") gives a line with "skipped".

Prints one JSON line per (case, implementation): time (median of repeats), iterations, achieved
l1 marginal error, cost <P, C>.

    bench/.venv/bin/python bench/peers/bench_sinkhorn.py          # n = 2000
    QUICK=1 bench/.venv/bin/python bench/peers/bench_sinkhorn.py  # n = 300
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import ot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_sinkhorn"
QUICK = os.environ.get("QUICK") == "1"
N = 300 if QUICK else 2000
EPS = 0.05
TOL = 1e-6
REPEATS = 3
# The kernel's paths, widest first (the names DEEPTRANSPORT_SIMD takes).
SIMD_PATHS = ("avx512", "avx2", "portable", "scalar")


def standardise(a):
    a = a - a.mean(axis=0)
    return a / a.std(axis=0)


def data(n, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    centres = np.where(np.arange(n) % 2 == 0, 2.0, -2.0)
    y = 0.5 * rng.normal(size=(n, 2))
    y[:, 0] += centres
    return standardise(x), standardise(y)


def l1_error(p, a, b):
    return float(np.abs(p.sum(1) - a).sum() + np.abs(p.sum(0) - b).sum())


def run_ours(xp, yp, simd):
    """deeptransport's line for one run of the example: `simd` forces a path (None: the variable
    is removed, the widest path runs); None when the CPU cannot run the forced path."""
    env = dict(os.environ)
    env.pop("DEEPTRANSPORT_SIMD", None)
    if simd:
        env["DEEPTRANSPORT_SIMD"] = simd
    res = subprocess.run([str(EXAMPLE), str(xp), str(yp), str(EPS), str(TOL), str(REPEATS)],
                         capture_output=True, text=True, env=env)
    if simd and res.returncode == 2 and "does not run it" in res.stderr:
        return None
    if res.returncode:
        sys.stderr.write(res.stderr)
        raise subprocess.CalledProcessError(res.returncode, res.args)
    r = json.loads(res.stdout)
    if simd and r["simd"] != simd:
        raise RuntimeError(f'DEEPTRANSPORT_SIMD={simd} but the example ran the {r["simd"]} path')
    return {"time_s": r["median"], "times": r["times"], "iterations": r["iterations"],
            "marginal_error": r["marginal_error"], "cost": r["cost"], "threads": r["threads"],
            "simd": r["simd"]}


def run_pot(method, a, b, m, stop, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, log = ot.sinkhorn(a, b, m, EPS, method=method, numItermax=1_000_000,
                                 stopThr=stop, log=True)
        times.append(time.perf_counter() - start)
        out = (p, log)
    p, log = out
    return {
        "time_s": statistics.median(times),
        "times": times,
        "iterations": int(log.get("niter", len(log.get("err", [])) * 10)),
        "marginal_error": l1_error(p, a, b),
        "cost": float(np.sum(p * m)),
        "finite": bool(np.isfinite(p).all()),
        "stopThr": stop,
    }


def calibrate(a, b, m):
    """Largest stopThr on a 1-2-5 grid for which POT's plan has l1 marginal error <= TOL."""
    for k in range(6, 14):
        for mant in (5, 2, 1):
            stop = mant * 10.0 ** -k
            if stop > TOL:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = ot.sinkhorn(a, b, m, EPS, method="sinkhorn", numItermax=1_000_000,
                                stopThr=stop)
            if l1_error(p, a, b) <= TOL:
                return stop
    raise RuntimeError("no stopThr reaches the marginal tolerance")


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "deeptransport", "--example",
                    "bench_sinkhorn"], cwd=ROOT, check=True)
    x, y = data(N)
    a = np.full(N, 1.0 / N)
    b = np.full(N, 1.0 / N)
    m = ot.dist(x, y)
    case = f"sinkhorn_n{N}_d2_eps{EPS}"
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = Path(tmp) / "x.npy", Path(tmp) / "y.npy"
        np.save(xp, x)
        np.save(yp, y)
        head = {"case": case, "n": N, "eps": EPS}
        print(json.dumps({**head, "impl": "deeptransport", **run_ours(xp, yp, None)}), flush=True)
        for path in SIMD_PATHS:
            r = run_ours(xp, yp, path) or {"simd": path, "skipped": "not supported by this CPU"}
            print(json.dumps({**head, "impl": f"deeptransport ({path})", **r}), flush=True)
    stop = calibrate(a, b, m)
    for method, repeats in [("sinkhorn", REPEATS), ("sinkhorn_log", 1)]:
        r = run_pot(method, a, b, m, stop, repeats)
        print(json.dumps({"case": case, "impl": f"pot.{method}", **r}), flush=True)


if __name__ == "__main__":
    main()
