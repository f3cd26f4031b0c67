"""Fixtures for crates/deeptransport/tests/knn_entropy.rs: k-NN entropy estimates computed with
SciPy (scipy.spatial.cKDTree for the exact k-th neighbour distances, scipy.special.digamma /
gammaln for the constants), on small seeded clouds in several dimensions.

Writes into crates/deeptransport/tests/fixtures/entropy/:
  NAME.csv       the points, one per row, every number printed with 17 significant digits
                 (round-trips float64 exactly)
  expected.csv   one row per (cloud, estimator, k): name,estimator,k,value  (value in nats,
                 17 significant digits); a '# scipy X.Y.Z numpy A.B.C' comment line on top

Formulas (METHODS.md §6):
  Kozachenko-Leonenko  H = psi(N) - psi(k) + log V_d + (d/N) sum_i log eps_i
  Leonenko-Pronzato-Savani (2008), alpha != 1, alpha < k + 1:
      zeta_i = (N-1) C_k V_d eps_i^d,  C_k = [Gamma(k)/Gamma(k+1-alpha)]^(1/(1-alpha))
      I = mean_i zeta_i^(1-alpha);  Renyi = log(I)/(1-alpha);  Tsallis = (1-I)/(alpha-1)
where eps_i is the distance to the k-th nearest neighbour other than the point itself
(cKDTree.query(x, k+1)[0][:, k]).

    bench/.venv/bin/python bench/peers/fixtures_entropy.py
"""
from pathlib import Path

import numpy as np
import scipy
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

OUT = Path(__file__).resolve().parents[2] / "crates/deeptransport/tests/fixtures/entropy"


def knn_eps(x, k):
    dist, _ = cKDTree(x).query(x, k + 1)
    return dist[:, k]


def log_vd(d):
    return 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)


def kl(x, k):
    n, d = x.shape
    eps = knn_eps(x, k)
    return float(digamma(n) - digamma(k) + log_vd(d) + d * np.mean(np.log(eps)))


def lps_integral(x, k, alpha):
    n, d = x.shape
    eps = knn_eps(x, k)
    log_ck = (gammaln(k) - gammaln(k + 1.0 - alpha)) / (1.0 - alpha)
    log_zeta = np.log(n - 1.0) + log_ck + log_vd(d) + d * np.log(eps)
    return float(np.mean(np.exp((1.0 - alpha) * log_zeta)))


def renyi(x, k, alpha):
    return float(np.log(lps_integral(x, k, alpha)) / (1.0 - alpha))


def tsallis(x, k, alpha):
    return float((1.0 - lps_integral(x, k, alpha)) / (alpha - 1.0))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    clouds = {
        # name: points
        "gauss_d1_n60": rng.standard_normal((60, 1)),
        "uniform_d2_n200": rng.uniform(-1.0, 2.0, (200, 2)),
        "aniso_d3_n150": rng.standard_normal((150, 3)) * np.array([0.1, 1.0, 5.0]),
        "gauss_d5_n300": rng.standard_normal((300, 5)),
        # above the k-d tree bound (d = 10): exercises the brute-force path
        "gauss_d20_n120": rng.standard_normal((120, 20)),
    }
    specs = [("kl", None), ("renyi", 0.75), ("renyi", 2.0), ("tsallis", 0.5), ("tsallis", 3.5)]
    rows = []
    for name, x in clouds.items():
        np.savetxt(OUT / f"{name}.csv", x, fmt="%.17g", delimiter=",")
        for k in (1, 3, 5):
            for est, alpha in specs:
                if alpha is not None and not alpha < k + 1:
                    continue
                if est == "kl":
                    v, label = kl(x, k), "kl"
                elif est == "renyi":
                    v, label = renyi(x, k, alpha), f"renyi:{alpha}"
                else:
                    v, label = tsallis(x, k, alpha), f"tsallis:{alpha}"
                rows.append(f"{name},{label},{k},{v:.17g}")
    with open(OUT / "expected.csv", "w") as f:
        f.write(f"# scipy {scipy.__version__} numpy {np.__version__}; bench/peers/fixtures_entropy.py\n")
        f.write("name,estimator,k,value\n")
        f.write("\n".join(rows) + "\n")
    print(f"{len(rows)} expected values for {len(clouds)} clouds -> {OUT}")


if __name__ == "__main__":
    main()
