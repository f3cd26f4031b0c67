"""Fixtures for crates/deeptransport/tests/topology_persistence.rs: Vietoris-Rips H0/H1 diagrams by
ripser.py (Ripser's C++ core, which rounds every distance to float32) on 300 seeded points of a
noisy torus in R^3.

Writes into crates/deeptransport/tests/fixtures/persistence/:
  torus300_x.npy        the points (300 x 3, float64)
  torus300_dm_h0.npy,   ripser.ripser(D32, distance_matrix=True, maxdim=1) where D32 is the
  torus300_dm_h1.npy    float32 rounding of the direct-difference distances
                        sqrt((dx0^2 + dx1^2) + dx2^2) -- the same float64 numbers deeptransport's
                        kernel::pairwise computes, so the Rust side can rebuild D32 exactly
  torus300_h0.npy,      ripser.ripser(X, maxdim=1): as a user calls it (sklearn's
  torus300_h1.npy       |x|^2 + |y|^2 - 2<x, y> distances, then float32)
Diagrams are (k x 2) float64 arrays (float32 values widened exactly; death inf for essential).

    bench/.venv/bin/python bench/peers/fixtures_persistence.py
"""
from pathlib import Path

import numpy as np
import ripser

OUT = Path(__file__).resolve().parents[2] / "crates/deeptransport/tests/fixtures/persistence"


def torus(rng, n, big=1.0, small=0.4, noise=0.03):
    u, v = rng.uniform(0, 2 * np.pi, (2, n))
    x = np.stack([(big + small * np.cos(v)) * np.cos(u), (big + small * np.cos(v)) * np.sin(u),
                  small * np.sin(v)], axis=1)
    return x + noise * rng.standard_normal((n, 3))


def direct_distances(x):
    dx = x[:, None, :] - x[None, :, :]
    return np.sqrt((dx[..., 0] * dx[..., 0] + dx[..., 1] * dx[..., 1]) + dx[..., 2] * dx[..., 2])


def save(name, a):
    np.save(OUT / f"{name}.npy", np.ascontiguousarray(a, dtype=np.float64))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    x = torus(np.random.default_rng(20260415), 300)
    save("torus300_x", x)
    d32 = direct_distances(x).astype(np.float32)
    dm = ripser.ripser(d32, distance_matrix=True, maxdim=1)["dgms"]
    pts = ripser.ripser(x, maxdim=1)["dgms"]
    for name, dgms in (("torus300_dm", dm), ("torus300", pts)):
        for k in (0, 1):
            save(f"{name}_h{k}", dgms[k])
        print(name, [len(g) for g in dgms], "longest H1:",
              sorted(dgms[1][:, 1] - dgms[1][:, 0])[-3:])


if __name__ == "__main__":
    main()
