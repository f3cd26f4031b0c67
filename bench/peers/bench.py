"""Benchmark driver: deeptransport against NumPy on the same inputs, in the same invocation.

Cases: the empirical optimal DAE Φ_t (Gaussian noise) with N = M points in dimension d, and the
deep DAE (blurring mean shift: L layers, each the empirical DAE of the current particles).
The NumPy peer is the standard float64 approach: squared distances by BLAS
(|q|² + |x|² − 2 q xᵀ), a max-shifted exp (log-sum-exp) and a weighted mean by BLAS, in query
chunks so that memory stays bounded.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_dae"
QUICK = os.environ.get("QUICK") == "1"

CASES = [
    # (name, n, d, t, repeats, layers): layers = 0 is one DAE Φ_t with N = M, otherwise a deep
    # DAE of that many layers with τ = t.
    ("dae_empirical_n20000_d2", 20_000, 2, 0.5, 5, 0),
    ("dae_empirical_n20000_d64", 20_000, 64, 16.0, 3, 0),
    ("deep_dae_n5000_d2_L20", 5_000, 2, 0.05, 3, 20),
]
if QUICK:
    CASES = [(n, min(k, 2000), d, t, 2, min(l, 3)) for (n, k, d, t, _, l) in CASES]


def phi_numpy(x, q, t, chunk=1000):
    """Φ_t by NumPy as a careful user would write it: -|q - x|²/2t = (q·x)/t - |x|²/2t - |q|²/2t,
    and the last term is constant per query, so it cancels in the softmax; every pass is in place."""
    half_xx = np.einsum("ij,ij->i", x, x) * (0.5 / t)
    out = np.empty_like(q)
    for s in range(0, q.shape[0], chunk):
        lw = q[s : s + chunk] @ x.T
        lw *= 1.0 / t
        lw -= half_xx
        lw -= lw.max(axis=1, keepdims=True)
        np.exp(lw, out=lw)
        out[s : s + chunk] = (lw @ x) / lw.sum(axis=1, keepdims=True)
    return out


def deep_numpy(x, tau, layers):
    """Blurring mean shift: every layer is the DAE of the current particles, applied to them."""
    for _ in range(layers):
        x = phi_numpy(x, x, tau)
    return x


def time_numpy(work, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return times, out


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    simd = [f for f in ("avx512f", "avx2", "fma") if f" {f}" in flags]
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        blas = f'{cfg["Build Dependencies"]["blas"]["name"]} {cfg["Build Dependencies"]["blas"]["version"]}'
    except Exception:  # noqa: BLE001 - best effort description
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "simd": simd,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "rustc": rustc,
    }


def main():
    results = {"machine": machine(), "cases": []}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for name, n, d, t, repeats, layers in CASES:
            x = rng.standard_normal((n, d))
            q = rng.standard_normal((n, d))
            xp, qp, op = (Path(tmp) / f for f in ("x.npy", "q.npy", "phi.npy"))
            np.save(xp, x)
            np.save(qp, q)
            if layers:
                cmd = [str(EXAMPLE), "deep", str(xp), str(t), str(layers), str(repeats), str(op)]
                work = lambda: deep_numpy(x, t, layers)  # noqa: E731
            else:
                cmd = [str(EXAMPLE), str(xp), str(qp), str(t), str(repeats), str(op)]
                work = lambda: phi_numpy(x, q, t)  # noqa: E731
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            ours = json.loads(proc.stdout)
            phi_ours = np.load(op)
            np_times, phi_np = time_numpy(work, max(2, repeats - 2))
            err = float(np.max(np.abs(phi_ours - phi_np)))
            scale = float(np.max(np.abs(phi_np)))
            case = {
                "name": name, "n": n, "m": n, "d": d, "t": t, "layers": layers,
                "deeptransport_s": ours["median"], "deeptransport_times": ours["times"],
                "threads": ours["threads"],
                "numpy_s": statistics.median(np_times), "numpy_times": np_times,
                "ratio_numpy_over_ours": statistics.median(np_times) / ours["median"],
                "max_abs_diff": err, "max_abs_value": scale,
                "agree": err <= 1e-9 * max(1.0, scale),
            }
            results["cases"].append(case)
            print(f'{name}: deeptransport {case["deeptransport_s"]:.3f} s, numpy {case["numpy_s"]:.3f} s, '
                  f'ratio {case["ratio_numpy_over_ours"]:.2f}x, max |diff| {err:.1e}', flush=True)
    if not QUICK:  # a quick run checks the script; it must not overwrite the recorded results
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        write_markdown(results)
    if not all(c["agree"] for c in results["cases"]):
        print("answers disagree beyond 1e-9", file=sys.stderr)
        sys.exit(1)


def write_markdown(results):
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `bash bench/run.sh` (do not edit by hand): deeptransport and its peers run on the",
        "same inputs in the same invocation; the answers are checked to agree before a time counts.",
        "Times are medians of the repeats (spread in `bench/results/results.json`); ratio = peer time /",
        "deeptransport time, so > 1 means deeptransport is faster.",
        "",
        "## Machine",
        "",
        f'- CPU: {m["cpu"]}, {m["cores"]} cores, SIMD flags: {", ".join(m["simd"]) or "none of avx2/avx512f/fma"}',
        f'- {m["rustc"]}; Python {m["python"]}, NumPy {m["numpy"]} ({m["blas"]})',
        f'- OS: {m["os"]}',
        "",
        "## Optimal DAE Φ_t on a point cloud (Gaussian noise, float64, all cores)",
        "",
        "Peer: NumPy as a careful user writes it: inner products and the weighted mean by BLAS (both cores),",
        "the per-query constant dropped from the exponent, max-shifted exp in place, chunks of 1000 queries.",
        "",
        "| case | N = M | d | deeptransport (s) | NumPy (s) | NumPy / deeptransport | max abs diff |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in (c for c in results["cases"] if not c["layers"]):
        lines.append(
            f'| {c["name"]} | {c["n"]} | {c["d"]} | {c["deeptransport_s"]:.3f} | {c["numpy_s"]:.3f} | '
            f'{c["ratio_numpy_over_ours"]:.2f}× | {c["max_abs_diff"]:.1e} |'
        )
    lines += [
        "",
        "## Deep DAE on a point cloud (blurring mean shift, Gaussian noise, float64, all cores)",
        "",
        "Every layer is the optimal DAE of the current particles, applied to them (`deeptransport deep",
        "--data`); the NumPy peer runs the Φ_t above once per layer on the particles.",
        "",
        "| case | N | d | layers | τ | deeptransport (s) | NumPy (s) | NumPy / deeptransport | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in (c for c in results["cases"] if c["layers"]):
        lines.append(
            f'| {c["name"]} | {c["n"]} | {c["d"]} | {c["layers"]} | {c["t"]} | {c["deeptransport_s"]:.3f} | '
            f'{c["numpy_s"]:.3f} | {c["ratio_numpy_over_ours"]:.2f}× | {c["max_abs_diff"]:.1e} |'
        )
    lines.append("")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
