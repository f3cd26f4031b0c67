"""The `deeptransport tracks` benchmark (bench/tracks.sh): the obvious Python peer, timed, and
deeptransport itself, timed with its peak resident set size. Prints one JSON line per run.

    # the peer (NumPy for LSS/path/chord, POT ot.emd2 per step, SciPy linear_sum_assignment end to
    # end), timed per component; --check runs deeptransport on the same file and compares
    python bench_tracks.py peer --data F.npz [--repeats 1] [--check target/release/deeptransport]
    # deeptransport, wall time per repeat and peak RSS (/usr/bin/time -v, else getrusage)
    python bench_tracks.py deeptransport --data F.npz --bin target/release/deeptransport \
        [--threads T] [--repeats R] [--max-samples M] [--timeout S] [--case NAME]

The peer computes the keys of `deeptransport tracks --json` (METHODS.md §7): n, layers, lss_mean,
lss_median, ots, ots_cost_ratio, w2_steps, w2_end_to_end, geodesic_ratio, action, action_ratio.
- LSS (unit-step form): m_i / |Σ_ℓ Δ_ℓ/|Δ_ℓ||| over the non-zero steps (undefined with none).
- W₂ per step: ot.emd2(a, b, ot.dist(x_ℓ₋₁, x_ℓ)) with uniform a, b (square-rooted).
- End to end: scipy.optimize.linear_sum_assignment on ot.dist(x_I, x_J) (with uniform weights and
  equal n the optimal plan is a permutation, so this is exact OT); OTS = fraction of fixed
  points, W₂² = the assignment's mean cost.
- action = m Σ_ℓ mean_i |Δ_ℓ x_i|², ratios as in METHODS.md §7.
Agreement (--check): w2_steps and the other real keys within 1e-9 relative, ots and the integer
keys equal; the line's "agreement" object holds the max relative difference per key.
"""
import argparse
import json
import os
import platform
import re
import resource
import signal
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np

KEYS = ("n", "layers", "lss_mean", "lss_median", "ots", "ots_cost_ratio", "w2_steps", "w2_end_to_end",
        "geodesic_ratio", "action", "action_ratio")
EXACT = ("n", "layers", "ots")
REL_TOL = 1e-9
NUM_ITER_MAX = 1_000_000_000  # POT's default (100 000) stops far short of optimal at n = 10⁴


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def npz_keys(path):
    with zipfile.ZipFile(path) as zf:
        return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]


def data_info(path):
    """Shape and dtype of the archive's layers, read from the entries' headers only."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".npy")]
        with zf.open(names[0]) as f:
            version = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f)
    return {"data": str(path), "data_bytes": os.path.getsize(path), "n": shape[0],
            "width": int(np.prod(shape[1:])), "depth": len(names), "dtype": np.dtype(dtype).name}


# ---------------------------------------------------------------- the peer

def peer_once(path):
    import ot
    from scipy.optimize import linear_sum_assignment

    comp = {}
    t0 = time.perf_counter()
    z = np.load(path)
    xs = [np.asarray(z[k], dtype=np.float64) for k in npz_keys(path)]
    xs = [x.reshape(len(x), -1) for x in xs]
    width = max(x.shape[1] for x in xs)
    xs = [np.pad(x, ((0, 0), (0, width - x.shape[1]))) if x.shape[1] < width else x for x in xs]
    comp["load_s"] = time.perf_counter() - t0
    n, m = len(xs[0]), len(xs) - 1

    # Per-input quantities (NumPy): LSS, path length, chord, and the action's sum of squares.
    t = time.perf_counter()
    unit_sum = np.zeros_like(xs[0])
    nonzero = np.zeros(n, dtype=np.int64)
    path_len = np.zeros(n)
    sq_steps = 0.0
    for a, b in zip(xs[:-1], xs[1:]):
        step = b - a
        length = np.linalg.norm(step, axis=1)
        sq_steps += float(np.sum(length ** 2))
        moved = length > 0
        nonzero += moved
        path_len += length
        unit_sum[moved] += step[moved] / length[moved, None]
    defined = nonzero > 0
    with np.errstate(divide="ignore"):
        lss = nonzero[defined] / np.linalg.norm(unit_sum[defined], axis=1)
    chord = np.linalg.norm(xs[-1] - xs[0], axis=1)
    comp["lss_path_chord_s"] = time.perf_counter() - t

    # W₂ per step: POT's network simplex on the dense cost matrix.
    a = np.full(n, 1.0 / n)
    w2_steps, dist_s, emd_s, warnings, codes = [], [], [], [], []
    for k in range(m):
        t = time.perf_counter()
        cost = ot.dist(xs[k], xs[k + 1])
        t1 = time.perf_counter()
        w2sq, log = ot.emd2(a, a, cost, numItermax=NUM_ITER_MAX, log=True)
        t2 = time.perf_counter()
        del cost
        dist_s.append(t1 - t)
        emd_s.append(t2 - t1)
        w2_steps.append(float(np.sqrt(max(float(w2sq), 0.0))))
        codes.append(int(log.get("result_code", -1)))
        if log.get("warning"):
            warnings.append(f"step {k + 1}: {log['warning']}")
    comp["dist_steps_s"] = dist_s
    comp["emd2_steps_s"] = emd_s

    # End to end: the optimal assignment (SciPy), its fixed points and cost.
    t = time.perf_counter()
    cost = ot.dist(xs[0], xs[-1])
    t1 = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    t2 = time.perf_counter()
    comp["dist_end_s"] = t1 - t
    comp["lsa_s"] = t2 - t1
    w2sq_end = float(cost[rows, cols].mean())
    del cost
    ots = float(np.mean(cols == rows))
    chord_sq = float(np.mean(chord ** 2))
    ratio = lambda x, y: 1.0 if x == 0 and y == 0 else x / y
    w2_end = float(np.sqrt(max(w2sq_end, 0.0)))
    action = m * sq_steps / n
    result = {
        "n": n, "layers": m + 1,
        "lss_mean": float(lss.mean()) if lss.size else None,
        "lss_median": float(np.median(lss)) if lss.size else None,
        "ots": ots, "ots_cost_ratio": ratio(w2sq_end, chord_sq),
        "w2_steps": w2_steps, "w2_end_to_end": w2_end,
        "geodesic_ratio": ratio(sum(w2_steps), w2_end),
        "action": action, "action_ratio": ratio(action, w2sq_end),
    }
    return result, comp, warnings, codes


def rel(x, y):
    if x is None or y is None:
        return 0.0 if x is None and y is None else float("inf")
    if x == y:
        return 0.0
    return abs(x - y) / max(abs(x), abs(y))


def compare(peer, ours):
    """Max relative difference per key; `ok` when the exact keys are equal and the rest within
    REL_TOL."""
    diffs, ok = {}, True
    for k in KEYS:
        p, o = peer[k], ours.get(k)
        if k == "w2_steps":
            if o is None or len(o) != len(p):
                diffs[k], ok = float("inf"), False
                continue
            d = max(rel(x, y) for x, y in zip(p, o))
        else:
            d = rel(p, o)
        diffs[k] = d
        if (k in EXACT and d != 0) or d > REL_TOL:
            ok = False
    return {"ok": ok, "rel_tol": REL_TOL, "max_rel_diff": max(diffs.values()), "per_key": diffs}


def cmd_peer(a):
    import ot
    import scipy

    times, comps, result, warnings, codes = [], [], None, [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        result, comp, warnings, codes = peer_once(a.data)
        times.append(time.perf_counter() - t0)
        comps.append(comp)
    best = comps[int(np.argmin(times))]
    line = {
        "impl": "peer", "case": a.case, **data_info(a.data),
        "peer": f"NumPy {np.__version__}, POT {ot.__version__} ot.emd2 + ot.dist, "
                f"SciPy {scipy.__version__} linear_sum_assignment",
        "num_iter_max": NUM_ITER_MAX, "times": times, "median": float(np.median(times)),
        "components": {
            "load_s": best["load_s"], "lss_path_chord_s": best["lss_path_chord_s"],
            "dist_steps_s": sum(best["dist_steps_s"]), "emd2_steps_s": sum(best["emd2_steps_s"]),
            "emd2_per_step_s": float(np.median(best["emd2_steps_s"])),
            "emd2_per_step_min_max_s": [min(best["emd2_steps_s"]), max(best["emd2_steps_s"])],
            "dist_end_s": best["dist_end_s"], "lsa_s": best["lsa_s"],
        },
        "emd2_result_codes": sorted(set(codes)), "pot_warnings": warnings,
        "hit_num_iter_max": any("numItermax" in w or "iteration" in w.lower() for w in warnings),
        # Peak RSS of this process (kB on Linux): the dense cost matrices and POT's dense plan.
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "result": result,
    }
    if a.check:
        ours, why = run_deeptransport(a.check, a.data, [], a.timeout)
        if ours is None:
            line["agreement"] = {"ok": False, "error": why}
        else:
            line["agreement"] = {**compare(result, ours["result"]), "deeptransport_wall_s": ours["wall_s"]}
        ag = line["agreement"]
        print(f'agreement with deeptransport: {"ok" if ag["ok"] else "FAILED"}; max relative '
              f'difference {ag.get("max_rel_diff", "—")} ({ag.get("error", "")})', file=sys.stderr)
    print(json.dumps(line), flush=True)


# ---------------------------------------------------------------- deeptransport

# Runs the command given after it and reports the peak RSS of its children (kB on Linux) on
# stderr: the fall-back when /usr/bin/time is missing.
RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "print('Maximum resident set size (kbytes): %d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
    " file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def run_deeptransport(binary, data, extra, timeout):
    """One run of `tracks --json --quiet`: (dict with wall_s, max_rss_kib, rss_tool, result) or
    (None, reason)."""
    cmd = [binary, "tracks", "--activations", str(data), "--json", "--quiet", *extra]
    if os.access("/usr/bin/time", os.X_OK):
        wrapped, tool = ["/usr/bin/time", "-v", *cmd], "/usr/bin/time -v"
    else:
        wrapped, tool = [sys.executable, "-c", RUSAGE_WRAPPER, *cmd], "getrusage(RUSAGE_CHILDREN)"
    t0 = time.perf_counter()
    # Its own process group, so that a timeout ends deeptransport too, not only the wrapper.
    proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, f"timed out after {timeout} s"
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return None, f"exit {proc.returncode}: {stderr.strip()[-400:]}"
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return {"wall_s": wall, "max_rss_kib": int(rss.group(1)) if rss else None, "rss_tool": tool,
            "result": json.loads(stdout.strip().splitlines()[-1])}, None


def cmd_deeptransport(a):
    extra = []
    if a.threads:
        extra += ["--threads", str(a.threads)]
    if a.max_samples:
        extra += ["--max-samples", str(a.max_samples)]
    version = subprocess.run([a.bin, "--version"], capture_output=True, text=True).stdout
    simd = next((l.split(":", 1)[1].strip() for l in version.splitlines() if l.startswith("SIMD path:")), None)
    line = {"impl": "deeptransport", "case": a.case, **data_info(a.data), "threads": a.threads,
            "max_samples": a.max_samples or 10_000, "cpu": cpu_model(), "cores": os.cpu_count(),
            "simd": simd, "version": version.splitlines()[0] if version else None}
    runs = []
    for _ in range(a.repeats):
        r, why = run_deeptransport(a.bin, a.data, extra, a.timeout)
        if r is None:
            line["error"] = why
            line["timed_out"] = why.startswith("timed out")
            break
        runs.append(r)
    if runs:
        times = [r["wall_s"] for r in runs]
        line.update({"times": times, "median": float(np.median(times)),
                     "max_rss_kib": max(r["max_rss_kib"] or 0 for r in runs) or None,
                     "rss_tool": runs[0]["rss_tool"], "result": runs[-1]["result"]})
    print(json.dumps(line), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("peer")
    p.add_argument("--data", required=True)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--check", metavar="BIN", help="deeptransport binary to compare against")
    p.add_argument("--timeout", type=float, default=None, help="for the --check run (s)")
    p.add_argument("--case", default="timing")
    d = sub.add_parser("deeptransport")
    d.add_argument("--data", required=True)
    d.add_argument("--bin", default="target/release/deeptransport")
    d.add_argument("--threads", type=int, default=None)
    d.add_argument("--repeats", type=int, default=3)
    d.add_argument("--max-samples", type=int, default=None)
    d.add_argument("--timeout", type=float, default=None, help="per run (s)")
    d.add_argument("--case", default="timing")
    a = ap.parse_args()
    {"peer": cmd_peer, "deeptransport": cmd_deeptransport}[a.cmd](a)


if __name__ == "__main__":
    main()
