"""Benchmark driver: deeptransport against NumPy, PyTorch (CPU) and KeOps on the same inputs, in
the same invocation; writes the head of BENCHMARKS.md (targets, machine and peer versions, Φ_t,
deep DAE, SIMD paths, thread and size scaling) and bench/results/results.json.

Cases: the empirical optimal DAE Φ_t (Gaussian noise) with N = M points in dimension d, and the
deep DAE (blurring mean shift: L layers, each the empirical DAE of the current particles). The
d = 2 cases also run deeptransport's f32 kernel (`PRECISION=f32`): an extra "deeptransport-f32" row
with its time and its max |Φ_f32 − Φ_f64| (f64 stays the reference and the default).
SIMD paths (issue 11): on Φ_t at N = M = 20 000, d = 2, 3 and 8, and on the deep DAE, deeptransport
also runs alone with each kernel path forced (`DEEPTRANSPORT_SIMD` = avx512, avx2, portable,
scalar; every other run leaves it unset, so the widest path the CPU has runs), on the case's inputs:
its time against NumPy's in the same case and against the avx512 path, and its max |Φ_path −
Φ_default|, which must stay within 1e-9·max(1, max|Φ|) (a warning and a recorded disagreement
otherwise). A path the CPU cannot run (the binary exits 2: "does not run it") is recorded as skipped.
Peers, each the natural fast float64 code a user would write, in query chunks so that memory
stays bounded (at most ~2·10⁷ weights, 160 MB, per chunk):
  NumPy:   squared distances by BLAS (|q|² + |x|² − 2 q xᵀ, the per-query term dropped because it
           cancels in the softmax), a max-shifted exp in place, the weighted mean by BLAS;
  PyTorch: the same on CPU tensors, torch.softmax(q xᵀ/t − |x|²/2t, dim=1) @ x, all cores;
  KeOps:   LazyTensor (−|q_i − x_j|²/2t).sumsoftmaxweight(x_j, axis=1) (streamed, never forms the
           matrix; compiled once by an untimed warm-up call).
A peer whose import (or KeOps compilation) fails is skipped with a one-line reason; a peer whose
answer differs from deeptransport's by more than 1e-9·max(1, max|Φ|) is reported but its time does
not count. Only a disagreement with NumPy (the reference) fails the run.
"""
import importlib.metadata
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
# Written by bench/run.sh: one line "NAME<TAB>reason" per optional peer whose pip install failed.
INSTALL_NOTES = ROOT / "bench" / ".venv" / "optional-install-failures.tsv"
CHUNK_ELEMENTS = 20_000_000
PEER_BUDGET_S = 30.0

CASES = [
    # (n, d, t, repeats, layers, peer_repeats, thread_scaling, simd_paths): layers = 0 is one DAE
    # Φ_t with N = M, otherwise a deep DAE of that many layers with τ = t; thread_scaling: also
    # run deeptransport alone with RAYON_NUM_THREADS = 1 and 2; simd_paths: also run it alone
    # with each of SIMD_PATHS forced.
    (20_000, 2, 0.5, 5, 0, 3, True, True),
    (20_000, 3, 0.75, 3, 0, 3, False, True),
    (20_000, 8, 2.0, 3, 0, 3, False, True),
    (20_000, 64, 16.0, 3, 0, 3, False, False),
    (100_000, 2, 0.5, 3, 0, 1, False, False),
    (5_000, 2, 0.05, 3, 20, 3, True, True),
]
# The kernel's paths, widest first (the names DEEPTRANSPORT_SIMD takes).
SIMD_PATHS = ("avx512", "avx2", "portable", "scalar")
# The ns-per-pair series (deeptransport alone).
SCALING_NS = [10_000, 20_000, 50_000, 100_000]
SCALING_T, SCALING_REPEATS = 0.5, 3
if QUICK:
    CASES = [(min(n, 2000 if n <= 20_000 else 3000), d, t, 2, min(layers, 3), 1, th, sp)
             for (n, d, t, _, layers, _, th, sp) in CASES]
    SCALING_NS = [500, 1000, 2000, 4000]
    SCALING_REPEATS = 2


def chunk_rows(m):
    return max(1, min(1000, CHUNK_ELEMENTS // m))


# ---------------------------------------------------------------------------------------- peers

def phi_numpy(x, q, t):
    """Φ_t by NumPy as a careful user would write it: -|q - x|²/2t = (q·x)/t - |x|²/2t - |q|²/2t,
    and the last term is constant per query, so it cancels in the softmax; every pass is in place."""
    chunk = chunk_rows(x.shape[0])
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


def make_torch():
    import torch

    torch.set_num_threads(os.cpu_count())

    def phi(x, q, t):
        xt, qt = torch.from_numpy(x), torch.from_numpy(q)
        chunk = chunk_rows(x.shape[0])
        half_xx = (xt * xt).sum(dim=1) * (0.5 / t)
        out = torch.empty_like(qt)
        with torch.no_grad():
            for s in range(0, qt.shape[0], chunk):
                lw = qt[s : s + chunk] @ xt.T
                lw.mul_(1.0 / t).sub_(half_xx)
                out[s : s + chunk] = torch.softmax(lw, dim=1) @ xt
        return out.numpy()

    build = ", PyPI's CUDA build run on the CPU" if "+cu" in torch.__version__ else ""
    return phi, f"{torch.__version__} ({torch.get_num_threads()} threads{build})"


def make_keops():
    import pykeops
    from pykeops.numpy import LazyTensor

    pykeops.set_verbose(False)
    backend = "CPU"
    try:
        from pykeops.config import get_openmp_config

        backend += ", OpenMP" if get_openmp_config().get_use_OpenMP() else ", no OpenMP (1 thread)"
    except Exception:  # noqa: BLE001 - a description only
        pass

    def phi(x, q, t):
        qi = LazyTensor(np.ascontiguousarray(q)[:, None, :])
        xj = LazyTensor(np.ascontiguousarray(x)[None, :, :])
        d2 = ((qi - xj) ** 2).sum(-1)
        return (-d2 / (2.0 * t)).sumsoftmaxweight(xj, axis=1)

    return phi, f"{pykeops.__version__} ({backend})"


def load_peers():
    """{name: (phi or None, version or None, skip reason or None)}; never raises."""
    failed = {}
    if INSTALL_NOTES.exists():
        for line in INSTALL_NOTES.read_text().splitlines():
            if "\t" in line:
                name, why = line.split("\t", 1)
                failed[name] = why
    peers = {"NumPy": (phi_numpy, np.__version__, None)}
    for name, pip_name, make in [("PyTorch", "torch", make_torch), ("KeOps", "pykeops", make_keops)]:
        try:
            phi, version = make()
            peers[name] = (phi, version, None)
        except Exception as e:  # noqa: BLE001 - an optional peer: any failure skips it
            why = failed.get(pip_name) or f"import failed: {type(e).__name__}: {e}"
            peers[name] = (None, None, why.splitlines()[0][:200])
    return peers


def warm_up(peers, d, t):
    """Untimed call on a tiny problem of the case's shape (KeOps compiles its kernel here; a failed
    compilation skips the peer)."""
    rng = np.random.default_rng(1)
    x, q = rng.standard_normal((50, d)), rng.standard_normal((40, d))
    for name, (phi, version, why) in list(peers.items()):
        if phi is None:
            continue
        try:
            phi(x, q, t)
        except Exception as e:  # noqa: BLE001
            peers[name] = (None, None, f"compilation or first call failed: {type(e).__name__}: {e}".splitlines()[0][:200])


def deep(phi, x, tau, layers):
    """Blurring mean shift: every layer is the DAE of the current particles, applied to them."""
    for _ in range(layers):
        x = phi(x, x, tau)
    return x


def time_peer(work, repeats):
    """Up to `repeats` timed runs, fewer once PEER_BUDGET_S seconds are spent (KeOps at d = 64
    takes tens of seconds a run); at least one."""
    times, out = [], None
    while len(times) < repeats and (not times or sum(times) < PEER_BUDGET_S):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return times, np.asarray(out)


def spread(times):
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "times": times}


# ------------------------------------------------------------------------------- deeptransport

class PathUnsupported(Exception):
    """The forced SIMD path is one this CPU cannot run (the example exits 2: "does not run it")."""


def run_ours(xp, qp, t, layers, repeats, op, threads=None, precision=None, simd=None):
    """Runs the example; `threads`, `precision` and `simd` set RAYON_NUM_THREADS, PRECISION and
    DEEPTRANSPORT_SIMD, each removed from the environment when None (all cores, f64, the widest
    path). Raises PathUnsupported for a forced path the CPU lacks; any other failure raises."""
    if layers:
        cmd = [str(EXAMPLE), "deep", str(xp), str(t), str(layers), str(repeats), str(op)]
    else:
        cmd = [str(EXAMPLE), str(xp), str(qp), str(t), str(repeats), str(op)]
    env = dict(os.environ)
    for var, value in (("RAYON_NUM_THREADS", threads), ("PRECISION", precision),
                       ("DEEPTRANSPORT_SIMD", simd)):
        if value:
            env[var] = str(value)
        else:
            env.pop(var, None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if simd and proc.returncode == 2 and "does not run it" in proc.stderr:
        raise PathUnsupported(proc.stderr.strip())
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    ours = json.loads(proc.stdout)
    if simd and ours["simd"] != simd:
        raise RuntimeError(f'DEEPTRANSPORT_SIMD={simd} but the example ran the {ours["simd"]} path')
    return {**spread(ours["times"]), "threads": ours["threads"], "simd": ours["simd"]}


def run_paths(name, xp, qp, t, layers, repeats, phi_default):
    """deeptransport alone with each SIMD path forced, on the case's inputs: one row per path,
    {"skipped": reason} for a path the CPU cannot run; the ratios are filled in by path_ratios."""
    op = xp.parent / "phi_simd.npy"
    scale = float(np.max(np.abs(phi_default)))
    rows = []
    for path in SIMD_PATHS:
        try:
            r = run_ours(xp, qp, t, layers, repeats, op, simd=path)
        except PathUnsupported:
            rows.append({"path": path, "skipped": "not supported by this CPU"})
            print(f"{name}: {path} path skipped (not supported by this CPU)", flush=True)
            continue
        err = float(np.max(np.abs(np.load(op) - phi_default)))
        agree = err <= 1e-9 * max(1.0, scale)
        rows.append({"path": path, **r, "max_abs_diff_default": err, "agree": agree})
        print(f'{name}: {path} path {r["median"]:.3f} s, max |Φ_path − Φ_default| {err:.1e}', flush=True)
        if not agree:
            print(f"{name}: warning: the {path} path disagrees with the default run: max |diff| "
                  f"{err:.1e} > 1e-9·max(1, {scale:.3g})", file=sys.stderr)
    return rows


def path_ratios(rows, numpy):
    """Adds to each measured row NumPy's time over the path's (None when NumPy disagreed with the
    default run) and the path's time over the avx512 path's (None when avx512 did not run)."""
    base = next((r["median"] for r in rows if r["path"] == "avx512" and "median" in r), None)
    for r in rows:
        if "median" in r:
            r["vs_numpy"] = numpy["median"] / r["median"] if numpy["agree"] else None
            r["vs_avx512"] = r["median"] / base if base else None


def machine(peers, default_simd):
    """The machine and the peers' versions; `default_simd`: the paths the default runs reported."""
    cpu = "unknown"
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu == "unknown":
                cpu = value.strip()
            # "flags" on x86-64, "Features" on aarch64 (where "asimd" is NEON).
            if key.strip() in ("flags", "Features"):
                flags.update(value.split())
    except OSError:
        pass
    simd = [f for f in ("avx512f", "avx2", "fma", "asimd") if f in flags]
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        blas = f'{cfg["Build Dependencies"]["blas"]["name"]} {cfg["Build Dependencies"]["blas"]["version"]}'
    except Exception:  # noqa: BLE001 - best effort description
        pass
    versions = {"NumPy": f"{np.__version__} ({blas})"}
    for name, dist in [("SciPy", "scipy"), ("POT", "pot"), ("scikit-learn", "scikit-learn")]:
        try:
            versions[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    for name in ("PyTorch", "KeOps"):
        versions[name] = peers[name][1]
    skipped = {name: why for name, (_, _, why) in peers.items() if why}
    try:
        import sklearn  # noqa: F401 - only to learn whether bench_entropy.py can use it
    except Exception as e:  # noqa: BLE001
        skipped["scikit-learn"] = f"import failed: {type(e).__name__}: {e}".splitlines()[0][:200]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "simd": simd,
        "default_simd_path": default_simd,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "rustc": rustc,
        "peer_versions": versions,
        "peers_skipped": skipped,
    }


def main():
    peers = load_peers()
    results = {"machine": None, "cases": [], "simd_paths": [], "threads": [], "scaling": []}
    reference_ok = True
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        xp, qp, op, op32 = (Path(tmp) / f for f in ("x.npy", "q.npy", "phi.npy", "phi32.npy"))
        for n, d, t, repeats, layers, peer_repeats, thread_scaling, simd_paths in CASES:
            name = f"deep_dae_n{n}_d{d}_L{layers}" if layers else f"dae_empirical_n{n}_d{d}"
            x = rng.standard_normal((n, d))
            q = rng.standard_normal((n, d))
            np.save(xp, x)
            np.save(qp, q)
            ours = run_ours(xp, qp, t, layers, repeats, op)
            phi_ours = np.load(op)
            case = {"name": name, "n": n, "m": n, "d": d, "t": t, "layers": layers,
                    "deeptransport": ours, "peers": {}}
            if d == 2:
                f32 = run_ours(xp, qp, t, layers, repeats, op32, precision="f32")
                err32 = float(np.max(np.abs(np.load(op32) - phi_ours)))
                case["deeptransport_f32"] = {**f32, "max_abs_diff_f64": err32,
                                             "speedup": ours["median"] / f32["median"]}
                print(f'{name}: deeptransport-f32 {f32["median"]:.3f} s '
                      f'({ours["median"] / f32["median"]:.2f}x f64), max |Φ_f32 − Φ_f64| {err32:.1e}',
                      flush=True)
            paths = run_paths(name, xp, qp, t, layers, repeats, phi_ours) if simd_paths else None
            warm_up(peers, d, t)
            for peer, (phi, _, why) in peers.items():
                if phi is None:
                    case["peers"][peer] = {"skipped": why}
                    continue
                if layers:
                    work = lambda phi=phi: deep(phi, x, t, layers)  # noqa: E731
                else:
                    work = lambda phi=phi: phi(x, q, t)  # noqa: E731
                times, out = time_peer(work, peer_repeats)
                err = float(np.max(np.abs(phi_ours - out)))
                scale = float(np.max(np.abs(out)))
                agree = err <= 1e-9 * max(1.0, scale)
                case["peers"][peer] = {**spread(times), "max_abs_diff": err, "max_abs_value": scale,
                                       "agree": agree, "ratio": statistics.median(times) / ours["median"]}
                if not agree:
                    print(f"{name}: {peer} disagrees with deeptransport: max |diff| {err:.1e}",
                          file=sys.stderr)
                    reference_ok &= peer != "NumPy"
            results["cases"].append(case)
            if paths:
                path_ratios(paths, case["peers"]["NumPy"])
                results["simd_paths"].append({"case": name, "n": n, "d": d, "t": t, "layers": layers,
                                              "paths": paths})
            peers_txt = ", ".join(f'{p} {v["median"]:.3f} s ({v["ratio"]:.2f}x, diff {v["max_abs_diff"]:.0e})'
                                  for p, v in case["peers"].items() if "median" in v)
            print(f'{name}: deeptransport {ours["median"]:.3f} s; {peers_txt}', flush=True)
            if thread_scaling:
                row = {"name": name, "n": n, "d": d, "layers": layers}
                for threads in (1, 2):
                    row[f"threads_{threads}"] = run_ours(xp, qp, t, layers, repeats, op, threads)
                row["speedup"] = row["threads_1"]["median"] / row["threads_2"]["median"]
                results["threads"].append(row)
                print(f'{name}: 1 thread {row["threads_1"]["median"]:.3f} s, 2 threads '
                      f'{row["threads_2"]["median"]:.3f} s, speed-up {row["speedup"]:.2f}x', flush=True)
        for n in SCALING_NS:
            x = rng.standard_normal((n, 2))
            q = rng.standard_normal((n, 2))
            np.save(xp, x)
            np.save(qp, q)
            ours = run_ours(xp, qp, SCALING_T, 0, SCALING_REPEATS, op)
            row = {"n": n, "m": n, "d": 2, "t": SCALING_T, **ours,
                   "ns_per_pair": ours["median"] / (n * n) * 1e9}
            results["scaling"].append(row)
            print(f'scaling N = M = {n}: {ours["median"]:.3f} s, {row["ns_per_pair"]:.3f} ns/pair', flush=True)
    # After the cases: a KeOps compilation that failed on a warm-up is a skip reason too.
    results["machine"] = machine(peers, sorted({c["deeptransport"]["simd"] for c in results["cases"]}))
    results["targets"] = targets(results)
    for row in results["targets"]:
        print(f'target {row["target"]}: {row["value"]} ({row["status"]})', flush=True)
    # A quick run checks the scripts: it must not overwrite the recorded results, so its report
    # goes to BENCH_MD (bench/run.sh points it into a temporary folder) or a temporary file.
    if not QUICK:
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        write_markdown(results)
    else:
        path = Path(os.environ.get("BENCH_MD") or Path(tempfile.mkdtemp()) / "BENCHMARKS.md")
        (path.parent / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        write_markdown(results, path)
        print(f"QUICK: report head and results.json written to {path.parent}", flush=True)
    if not reference_ok:
        print("deeptransport and NumPy disagree beyond 1e-9", file=sys.stderr)
        sys.exit(1)


# ------------------------------------------------------------------------------------ targets

def targets(results):
    def find(prefix_d):
        prefix, d = prefix_d
        return next((c for c in results["cases"] if c["name"].startswith(prefix) and c["d"] == d
                     and c["n"] == min(cc["n"] for cc in results["cases"]
                                       if cc["name"].startswith(prefix) and cc["d"] == d)), None)

    rows = []

    def add(target, goal, value, ok, note=""):
        """ok: True (met), False (missed) or None (not measured, `value` says why)."""
        status = "not measured" if ok is None else "met" if ok else "missed"
        rows.append({"target": target, "goal": goal, "value": value, "status": status, "note": note})

    c2 = find(("dae_empirical", 2))
    if c2:
        counted = {p: v for p, v in c2["peers"].items() if v.get("agree")}
        missing = [p for p in ("PyTorch", "KeOps") if p not in counted]
        if counted:
            best = min(counted, key=lambda p: counted[p]["median"])
            r = counted[best]["ratio"]
            note = f"fastest peer: {best}"
            if missing:
                note += f"; {' and '.join(missing)} not measured (see Machine): fastest available peer only"
            add(f'Φ_t N = M = {c2["n"]}, d = 2 vs the fastest peer', "≥ 4×", f"{r:.2f}×", r >= 4, note)
    c64 = find(("dae_empirical", 64))
    if c64 and c64["peers"].get("NumPy", {}).get("agree"):
        r = c64["peers"]["NumPy"]["ratio"]
        add(f'Φ_t N = M = {c64["n"]}, d = 64 vs NumPy', "≥ 2×", f"{r:.2f}×", r >= 2)
    cd = next((c for c in results["cases"] if c["layers"]), None)
    if cd and cd["peers"].get("NumPy", {}).get("agree"):
        r = cd["peers"]["NumPy"]["ratio"]
        add(f'deep DAE N = {cd["n"]}, {cd["layers"]} layers vs NumPy', "≥ 10×", f"{r:.2f}×", r >= 10)
    for target, goal, measured in simd_targets(results):
        add(target, goal, *measured)
    for row in results["threads"]:
        what = "Φ_t" if not row["layers"] else "deep DAE"
        add(f'{what} N = {row["n"]}: 2 threads vs 1', "≥ 1.8×", f'{row["speedup"]:.2f}×', row["speedup"] >= 1.8)
    sc = results["scaling"]
    if len(sc) >= 2:
        r = sc[-1]["ns_per_pair"] / sc[0]["ns_per_pair"]
        add(f'ns/pair at N = M = {sc[-1]["n"]} over N = M = {sc[0]["n"]} (linear in N·M)', "≤ 1.2",
            f"{r:.2f}", r <= 1.2, f'{sc[0]["ns_per_pair"]:.3f} → {sc[-1]["ns_per_pair"]:.3f} ns/pair')
    return rows


# The CPU feature each forced path needs, for a target row on a CPU without it.
PATH_FEATURE = {"avx512": "AVX-512", "avx2": "AVX2"}


def simd_targets(results):
    """Issue 11's targets on the forced paths: (target, goal, (value, ok, note)) each. ok is None
    (not measured) for a path this CPU cannot run, False for a path whose answer disagrees with
    the default run (its time does not count)."""
    specs = [  # (deep DAE?, d, path, against, goal, test on the ratio)
        (False, 2, "avx2", "NumPy", "≥ 8×", lambda r: r >= 8),
        (False, 2, "avx2", "avx512", "≤ 1.7× the time", lambda r: r <= 1.7),
        (False, 2, "portable", "NumPy", "≥ 3×", lambda r: r >= 3),
        (False, 8, "portable", "NumPy", "≥ 3×", lambda r: r >= 3),
        (True, 2, "avx2", "NumPy", "≥ 6×", lambda r: r >= 6),
    ]
    rows = []
    for deep_dae, d, path, against, goal, test in specs:
        s = next((s for s in results["simd_paths"] if bool(s["layers"]) == deep_dae and s["d"] == d), None)
        if s is None:
            continue
        by_path = {r["path"]: r for r in s["paths"]}
        used = [by_path[path]] + ([by_path["avx512"]] if against == "avx512" else [])
        what = f'deep DAE N = {s["n"]}, {s["layers"]} layers' if deep_dae else f'Φ_t N = M = {s["n"]}, d = {d}'
        target = f"{what}, {path} path vs " + ("avx512 path" if against == "avx512" else "NumPy")
        skipped = next((r["path"] for r in used if "skipped" in r), None)
        wrong = next((r["path"] for r in used if not r.get("agree", True)), None)
        ratio = by_path[path].get("vs_avx512" if against == "avx512" else "vs_numpy")
        if skipped:
            measured = (f"not measured: this CPU has no {PATH_FEATURE[skipped]}", None, "")
        elif wrong:
            measured = ("—", False, f"the {wrong} path disagrees with the default run (time not counted)")
        elif ratio is None:
            measured = ("—", None, "NumPy disagrees with the default run (time not counted)")
        else:
            measured = (f"{ratio:.2f}×" + (" the time" if against == "avx512" else ""), test(ratio), "")
        rows.append((target, goal, measured))
    return rows


# ----------------------------------------------------------------------------------- markdown

PEERS = ("NumPy", "PyTorch", "KeOps")


def cell(v):
    if v is None:
        return "—"
    if "skipped" in v:
        return "skipped"
    txt = f'{v["median"]:.3f} ({v["ratio"]:.2f}×)'
    return txt if v["agree"] else f'~~{txt}~~ disagrees ({v["max_abs_diff"]:.1e})'


def ours_cell(o):
    return f'{o["median"]:.3f} ({o["min"]:.3f}–{o["max"]:.3f})'


def simd_section(results):
    """The per-path table (issue 11), after the Φ_t and deep DAE sections whose inputs it reuses."""
    def ratio(v):
        return "—" if v is None else f"{v:.2f}×"

    out = [
        "",
        "## SIMD paths (issue 11)",
        "",
        "deeptransport alone with its kernel path forced (`DEEPTRANSPORT_SIMD`), on the inputs of the",
        "Φ_t and deep DAE cases above, float64, all cores. `avx512`: the register-tiled loop on one `zmm`",
        "register per vector of 8 f64 lanes; `avx2`: the same loop on two `ymm` registers per vector",
        "(AVX2 + FMA); `portable`: the tiled loop on plain arrays, vectorised by the compiler for the",
        "baseline target (SSE2 on x86-64, NEON on aarch64), with squared-Euclidean costs through GEMM from",
        "d = 4; `scalar`: no tiled loop, the chunked direct loops only (the reference path). Forcing a",
        "path on this CPU measures that path's code on this CPU's cores (the Machine section names the",
        "CPU and its flags), not the CPU the path is meant for; a path the CPU cannot run is skipped.",
        "vs NumPy: NumPy's time in the same case / the path's time; vs avx512: the path's time / the",
        "avx512 path's; max |Δ|: max |Φ_path − Φ_default| (must be ≤ 1e-9·max(1, max|Φ|)).",
        "",
        "| case | path | time (s, median and min–max) | vs NumPy | vs avx512 | max \\|Δ\\| vs default |",
        "|---|---|---|---|---|---|",
    ]
    for s in results["simd_paths"]:
        for r in s["paths"]:
            if "skipped" in r:
                out.append(f'| {s["case"]} | {r["path"]} | {r["skipped"]} | — | — | — |')
                continue
            diff = f'{r["max_abs_diff_default"]:.1e}'
            time = ours_cell(r)
            if not r["agree"]:
                time, diff = f"~~{time}~~", f"{diff}: disagrees"
            out.append(f'| {s["case"]} | {r["path"]} | {time} | {ratio(r["vs_numpy"])} | '
                       f'{ratio(r["vs_avx512"])} | {diff} |')
    return out


def write_markdown(results, path=None):
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `bash bench/run.sh` (do not edit by hand): deeptransport and its peers run on the",
        "same inputs in the same invocation; the answers are checked to agree before a time counts.",
        "deeptransport's time is the median of its repeats with the spread (min–max); a peer's cell is",
        "its median time and, in brackets, the ratio peer time / deeptransport time (> 1: deeptransport",
        "is faster). All repeats are in `bench/results/results.json` and `bench/results/*.jsonl`.",
        "",
        "## Targets (issues 6 and 11)",
        "",
        "Computed from this run (float64, all cores unless stated; a \"path\" is a forced SIMD path, see",
        "[SIMD paths](#simd-paths-issue-11)). The Sinkhorn target is in the Sinkhorn section's own table.",
        "",
        "| target | goal | measured | status | note |",
        "|---|---|---|---|---|",
    ]
    for r in results["targets"]:
        lines.append(f'| {r["target"]} | {r["goal"]} | {r["value"]} | {r["status"]} | {r["note"]} |')
    lines += [
        "",
        "## Machine",
        "",
        f'- CPU: {m["cpu"]}, {m["cores"]} cores, SIMD flags: '
        f'{", ".join(m["simd"]) or "none of avx512f/avx2/fma/asimd"}',
        f'- deeptransport\'s default SIMD path (the widest this CPU runs, as the default runs reported): '
        f'{", ".join(m["default_simd_path"])}',
        f'- {m["rustc"]}; Python {m["python"]}',
        f'- OS: {m["os"]}',
        "- Peers:",
    ]
    for name, version in m["peer_versions"].items():
        why = m["peers_skipped"].get(name)
        lines.append(f"  - {name}: " + (f"skipped: {why}" if why else version or "not installed"))
    lines += [
        "",
        "## Optimal DAE Φ_t on a point cloud (Gaussian noise, float64, all cores)",
        "",
        "Peers, each in query chunks of at most 2·10⁷ weights: NumPy as a careful user writes it (inner",
        "products and the weighted mean by BLAS, the per-query constant dropped from the exponent,",
        "max-shifted exp in place); PyTorch CPU `torch.softmax(q@x.T/t − |x|²/2t, dim=1) @ x`; KeOps",
        "`LazyTensor` `(−|q_i − x_j|²/2t).sumsoftmaxweight(x_j, axis=1)` (compiled by an untimed warm-up).",
        "A peer repeats up to 3 times (once at N = M = 100 000), stopping early once it has spent 30 s;",
        "every time is in `results.json`. max abs diff: the largest over the peers that agree.",
        "",
        "| case | N = M | d | deeptransport (s) | " + " | ".join(f"{p} (s)" for p in PEERS) + " | max abs diff |",
        "|---|---|---|---|" + "---|" * len(PEERS) + "---|",
    ]

    def diff(c):
        ds = [v["max_abs_diff"] for v in c["peers"].values() if v.get("agree")]
        return f"{max(ds):.1e}" if ds else "—"

    def f32_row(c, lead):
        # The f32 kernel: its time, its speed-up over deeptransport f64, and its distance to f64.
        f = c.get("deeptransport_f32")
        if not f:
            return []
        return [f'| {c["name"]} (deeptransport-f32) | {lead} | {ours_cell(f)}, {f["speedup"]:.2f}× f64 | '
                + " | ".join("—" for _ in PEERS) + f' | vs f64: {f["max_abs_diff_f64"]:.1e} |']

    for c in (c for c in results["cases"] if not c["layers"]):
        lines.append(f'| {c["name"]} | {c["n"]} | {c["d"]} | {ours_cell(c["deeptransport"])} | '
                     + " | ".join(cell(c["peers"].get(p)) for p in PEERS) + f" | {diff(c)} |")
        lines += f32_row(c, f'{c["n"]} | {c["d"]}')
    lines += [
        "",
        "## Deep DAE on a point cloud (blurring mean shift, Gaussian noise, float64, all cores)",
        "",
        "Every layer is the optimal DAE of the current particles, applied to them (`deeptransport deep",
        "--data`); each peer runs its Φ_t above once per layer on the particles.",
        "",
        "| case | N | d | layers | τ | deeptransport (s) | " + " | ".join(f"{p} (s)" for p in PEERS) + " | max abs diff |",
        "|---|---|---|---|---|---|" + "---|" * len(PEERS) + "---|",
    ]
    for c in (c for c in results["cases"] if c["layers"]):
        lines.append(f'| {c["name"]} | {c["n"]} | {c["d"]} | {c["layers"]} | {c["t"]} | '
                     f'{ours_cell(c["deeptransport"])} | '
                     + " | ".join(cell(c["peers"].get(p)) for p in PEERS) + f" | {diff(c)} |")
        lines += f32_row(c, f'{c["n"]} | {c["d"]} | {c["layers"]} | {c["t"]}')
    lines += simd_section(results)
    lines += [
        "",
        "## Thread scaling (deeptransport, `RAYON_NUM_THREADS` = 1 and 2)",
        "",
        "| case | 1 thread (s) | 2 threads (s) | speed-up |",
        "|---|---|---|---|",
    ]
    for r in results["threads"]:
        lines.append(f'| {r["name"]} | {ours_cell(r["threads_1"])} | {ours_cell(r["threads_2"])} | '
                     f'{r["speedup"]:.2f}× |')
    lines += [
        "",
        "## Size scaling (deeptransport Φ_t, d = 2, t = 0.5, all cores)",
        "",
        "ns per pair = time / (N·M): constant when the time grows linearly in N·M (no cache cliff).",
        "",
        "| N = M | pairs | time (s) | ns per pair |",
        "|---|---|---|---|",
    ]
    for r in results["scaling"]:
        lines.append(f'| {r["n"]} | {r["n"] * r["m"]:.1e} | {ours_cell(r)} | {r["ns_per_pair"]:.3f} |')
    lines.append("")
    (path or ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
