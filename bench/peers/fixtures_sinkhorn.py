"""Fixtures for crates/deeptransport/tests/sinkhorn.rs: entropic OT solved by POT's log-domain
Sinkhorn (ot.bregman.sinkhorn_log) to a marginal error ~1e-15, on small random problems.

Per case NAME, writes into crates/deeptransport/tests/fixtures/sinkhorn/:
  NAME_x.npy (n×d), NAME_y.npy (m×d), NAME_a.npy (n), NAME_b.npy (m), NAME_plan.npy (n×m),
  NAME_scalars.npy = [eps, <P,C>, primal OT_eps(a,b), OT_eps(a,a), OT_eps(b,b), marginal error]
where the OT_eps values are the primal objective <P,C> + eps KL(P | a⊗b) of POT's plan (equal to
the dual value at convergence; the symmetric ones by a NumPy/SciPy averaged iteration), cost C_ij = |x_i - y_j|^2 (not normalised).

    bench/.venv/bin/python bench/peers/fixtures_sinkhorn.py
"""
from pathlib import Path

import numpy as np
import ot
from scipy.special import logsumexp

OUT = Path(__file__).resolve().parents[2] / "crates/deeptransport/tests/fixtures/sinkhorn"


def solve(x, y, a, b, eps):
    c = ot.dist(x, y)  # squared Euclidean
    p = ot.bregman.sinkhorn_log(a, b, c, eps, numItermax=200_000, stopThr=1e-15)
    err = np.abs(p.sum(1) - a).sum() + np.abs(p.sum(0) - b).sum()
    ab = np.outer(a, b)
    pos = p > 0
    kl = np.sum(p[pos] * np.log(p[pos] / ab[pos])) - p.sum() + ab.sum()
    return p, float(np.sum(p * c)), float(np.sum(p * c) + eps * kl), float(err)


def solve_symmetric(x, a, eps):
    """OT_eps(a, a) by the symmetric averaged update f <- (f + T(f))/2 in NumPy/SciPy (POT's
    alternating update converges too slowly on symmetric problems for a 1e-12 fixture); the value
    is the primal objective of the plan P = a_i a_j exp((f_i + f_j - C_ij)/eps)."""
    c = ot.dist(x, x)
    la = np.log(a)
    f = np.zeros(len(a))
    for _ in range(100_000):
        t = -eps * logsumexp(la[None, :] + (f[None, :] - c) / eps, axis=1)
        err = 2 * np.abs(a * np.exp((f - t) / eps) - a).sum()
        if err < 1e-15:
            break
        f = 0.5 * (f + t)
    p = np.exp(la[:, None] + la[None, :] + (f[:, None] + f[None, :] - c) / eps)
    ab = np.outer(a, a)
    kl = np.sum(p * np.log(p / ab)) - p.sum() + ab.sum()
    return float(np.sum(p * c) + eps * kl), float(err)


def case(name, x, y, a, b, eps):
    p, cost, primal, err = solve(x, y, a, b, eps)
    ot_aa, err_a = solve_symmetric(x, a, eps)
    ot_bb, err_b = solve_symmetric(y, b, eps)
    assert max(err, err_a, err_b) < 1e-12, (name, err, err_a, err_b)
    for suffix, arr in [("x", x), ("y", y), ("a", a), ("b", b), ("plan", p)]:
        np.save(OUT / f"{name}_{suffix}.npy", np.ascontiguousarray(arr, dtype=np.float64))
    np.save(OUT / f"{name}_scalars.npy", np.array([eps, cost, primal, ot_aa, ot_bb, err]))
    print(name, x.shape, y.shape, "eps", eps, "cost", cost, "S_eps", primal - 0.5 * (ot_aa + ot_bb),
          "err", err)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    x = rng.normal(size=(30, 3))
    y = rng.normal(size=(40, 3)) * 0.8 + 0.5
    case("uniform_d3", x, y, np.full(30, 1 / 30), np.full(40, 1 / 40), 0.1)
    x = rng.uniform(size=(25, 2))
    y = rng.uniform(size=(20, 2)) + [0.3, 0.0]
    a = rng.uniform(0.1, 1.0, size=25)
    b = rng.uniform(0.1, 1.0, size=20)
    case("weighted_d2", x, y, a / a.sum(), b / b.sum(), 0.02)
    x = rng.normal(size=(12, 1))
    y = rng.normal(size=(9, 1)) * 2.0
    case("uniform_d1_large_eps", x, y, np.full(12, 1 / 12), np.full(9, 1 / 9), 1.0)


if __name__ == "__main__":
    main()
