"""Fixtures for crates/deeptransport/tests/wasserstein_exact.rs: exact W2^2 by POT's network
simplex, ot.emd2(a, b, ot.dist(x, y)) with the cost C_ij = |x_i - y_j|^2 (not normalised), on small
seeded clouds in d = 1, 2, 5, uniform and weighted (weighted cases include zero weights).

Per case NAME, writes into crates/deeptransport/tests/fixtures/w2/:
  NAME_x.npy (n x d), NAME_y.npy (m x d), NAME_a.npy (n), NAME_b.npy (m) -- the weights as given
  (not normalised; uniform cases store ones), NAME_emd2.npy = [W2^2 from ot.emd2 on the normalised
  weights], and cases.txt listing the case names.

    bench/.venv/bin/python bench/peers/fixtures_w2.py
"""
from pathlib import Path

import numpy as np
import ot

OUT = Path(__file__).resolve().parents[2] / "crates/deeptransport/tests/fixtures/w2"


def case(name, x, y, a, b):
    an, bn = a / a.sum(), b / b.sum()
    w2 = ot.emd2(an, bn, ot.dist(x, y), numItermax=10_000_000)
    log = ot.emd(an, bn, ot.dist(x, y), numItermax=10_000_000, log=True)[1]
    assert log["warning"] is None, (name, log["warning"])
    for k, v in dict(x=x, y=y, a=a, b=b, emd2=np.array([w2])).items():
        np.save(OUT / f"{name}_{k}.npy", np.ascontiguousarray(v, dtype=np.float64))
    return name


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    names = []
    for d, n, m in [(1, 40, 55), (2, 60, 50), (5, 45, 45)]:
        x = rng.standard_normal((n, d))
        y = 0.8 * rng.standard_normal((m, d)) + 0.4
        names.append(case(f"d{d}_uniform", x, y, np.ones(n), np.ones(m)))
        a = rng.uniform(0.05, 1.0, n)
        b = rng.uniform(0.05, 1.0, m)
        a[rng.uniform(size=n) < 0.2] = 0.0
        b[rng.uniform(size=m) < 0.2] = 0.0
        a[0] = b[0] = 1.0
        names.append(case(f"d{d}_weighted", x, y, a, b))
    (OUT / "cases.txt").write_text("\n".join(names) + "\n")
    print(f"wrote {len(names)} cases to {OUT} (POT {ot.__version__})")


if __name__ == "__main__":
    main()
