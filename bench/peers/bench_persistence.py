"""Vietoris-Rips persistence (issue 15): ripser.py (PyPI; Ripser's C++ core, distances rounded to
float32) against deeptransport's topology::persistence on the same point files.

    bench/.venv/bin/python bench/peers/bench_persistence.py make DIR N
        writes DIR/{cube,torus,linked}_x.npy: N seeded points uniform in the unit cube, on a noisy
        torus (radii 1 and 0.4, noise 0.03) and on two linked unit circles with noise 0.03 (one in
        the xy-plane about 0, one in the xz-plane about (1, 0, 0)).
    bench/.venv/bin/python bench/peers/bench_persistence.py run DIR CASE REPEATS OURS_PREFIX
        times ripser.ripser(X, maxdim=1) (median of REPEATS, as a user calls it: sklearn's
        distances, then float32) and ripser on the float32-rounded direct-difference matrix that
        bench_persistence.rs also used (distance_matrix=True); compares the diagrams with ours
        (OURS_PREFIX_h*.npy from the points in float64, OURS_PREFIX_f32_h*.npy from that float32
        matrix) and prints one JSON line.

Comparisons: on the same float32 matrix, the diagrams sorted by (death, birth) are compared pair
by pair (equal counts required; max |difference| reported, infinities equal). From the points,
ripser's float32 distances differ from ours by ~1e-7, so the pair-by-pair difference in sorted
order is reported for H0 (all births 0: sorted order is the optimal matching) and the bottleneck
distance (persim) for H1.
"""
import json
import os
import sys
import time

import numpy as np


def make(out, n):
    rng = np.random.default_rng(15)
    cube = rng.uniform(0.0, 1.0, (n, 3))
    u, v = rng.uniform(0, 2 * np.pi, (2, n))
    torus = np.stack([(1 + 0.4 * np.cos(v)) * np.cos(u), (1 + 0.4 * np.cos(v)) * np.sin(u),
                      0.4 * np.sin(v)], axis=1) + 0.03 * rng.standard_normal((n, 3))
    a, b = rng.uniform(0, 2 * np.pi, (2, n // 2))
    linked = np.concatenate([np.stack([np.cos(a), np.sin(a), 0 * a], axis=1),
                             np.stack([1 + np.cos(b), 0 * b, np.sin(b)], axis=1)])
    linked += 0.03 * rng.standard_normal(linked.shape)
    for name, x in (("cube", cube), ("torus", torus), ("linked", linked)):
        np.save(f"{out}/{name}_x.npy", np.ascontiguousarray(x, dtype=np.float64))


def direct_distances(x):
    """The direct-difference distances in deeptransport's arithmetic (coordinate order, no FMA)."""
    dx = x[:, None, :] - x[None, :, :]
    s = dx[..., 0] * dx[..., 0]
    for k in range(1, x.shape[1]):
        s = s + dx[..., k] * dx[..., k]
    return np.sqrt(s)


def ordered(d):
    d = np.asarray(d, dtype=np.float64).reshape(-1, 2)
    return d[np.lexsort((d[:, 0], d[:, 1]))]


def pairwise_difference(a, b):
    a, b = ordered(a), ordered(b)
    if len(a) != len(b):
        return None
    # Equal entries (the essential classes' inf deaths included) differ by 0; inf − inf would warn.
    with np.errstate(invalid="ignore"):
        diff = np.where(a == b, 0.0, np.abs(a - b))
    return float(diff.max()) if len(diff) else 0.0


def bottleneck(a, b):
    import persim
    a, b = ordered(a), ordered(b)
    return float(persim.bottleneck(a[np.isfinite(a[:, 1])], b[np.isfinite(b[:, 1])]))


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def run(directory, case, repeats, ours):
    import ripser
    x = np.load(f"{directory}/{case}_x.npy")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dg = ripser.ripser(x, maxdim=1)["dgms"]
        times.append(time.perf_counter() - t0)
    d32 = direct_distances(x).astype(np.float32)
    t0 = time.perf_counter()
    dg32 = ripser.ripser(d32, distance_matrix=True, maxdim=1)["dgms"]
    t32 = time.perf_counter() - t0
    o = [np.load(f"{ours}_h{k}.npy") for k in (0, 1)]
    o32 = [np.load(f"{ours}_f32_h{k}.npy") for k in (0, 1)]
    same = [pairwise_difference(o32[k], dg32[k]) for k in (0, 1)]
    row = {
        "impl": f"ripser.py {ripser.__version__}", "case": case, "n": int(x.shape[0]),
        "times": times, "median": float(np.median(times)), "f32_matrix_seconds": t32,
        "h0": len(dg[0]), "h1": len(dg[1]),
        "ours_h0": len(o[0]), "ours_h1": len(o[1]),
        "f32_matrix_max_pair_difference": None if None in same else max(same),
        "f32_matrix_counts_equal": all(len(o32[k]) == len(dg32[k]) for k in (0, 1)),
        "points_h0_max_pair_difference": pairwise_difference(o[0], dg[0]),
        "points_h1_bottleneck": bottleneck(o[1], dg[1]),
        "longest_h1": sorted((float(d - b) for b, d in dg[1]), reverse=True)[:3],
        "cpu": cpu_model(), "cores": os.cpu_count(),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
