"""Each function against an independent NumPy / SciPy / POT computation on small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.special import digamma, gammaln, logsumexp

import deeptransport as dt


def phi_numpy(x, t, q, noise="gaussian", w=None):
    """Φ_t(q) = Σ_i w_i ν_t(q − x_i) x_i / Σ_i w_i ν_t(q − x_i), as a dense softmax."""
    n, d = x.shape
    w = np.full(n, 1.0 / n) if w is None else np.asarray(w) / np.sum(w)
    diff = q[:, None, :] - x[None, :, :]
    if noise == "gaussian":
        logit = -np.sum(diff**2, axis=2) / (2 * t)
    elif noise == "laplace":
        logit = -np.sum(np.abs(diff), axis=2) / math.sqrt(t / 2)
    elif noise == "uniform":
        logit = np.where(np.max(np.abs(diff), axis=2) <= math.sqrt(3 * t), 0.0, -np.inf)
    elif noise.startswith("student:"):
        nu = float(noise.split(":")[1])
        s2 = t * (nu - 2) / nu
        logit = -((nu + d) / 2) * np.log1p(np.sum(diff**2, axis=2) / (nu * s2))
    with np.errstate(divide="ignore"):
        logit = logit + np.log(w)[None, :]
    p = np.exp(logit - logsumexp(logit, axis=1, keepdims=True))
    return p @ x


@pytest.mark.parametrize("noise", ["gaussian", "laplace", "uniform", "student:3"])
def test_dae_is_the_softmax_weighted_mean(rng, noise):
    # Tolerance: both sides are sums of n ≤ 300 terms of O(1) in different orders: ~1e-15;
    # 1e-12 leaves room for the exponentials' last bits.
    x = rng.normal(size=(300, 2))
    q = rng.normal(size=(50, 2)) * 0.5
    got = dt.dae(x, 0.3, q, noise=noise)
    np.testing.assert_allclose(got, phi_numpy(x, 0.3, q, noise), rtol=0, atol=1e-12)


def test_dae_weighted_and_default_queries(rng):
    x = rng.normal(size=(200, 3))
    w = rng.uniform(0, 2, size=200)
    np.testing.assert_allclose(
        dt.dae(x, 0.5, weights=w), phi_numpy(x, 0.5, x, w=w), rtol=0, atol=1e-12
    )


def test_dae_in_high_dimension_takes_the_gemm_path(rng):
    # d ≥ 9 runs GEMM on centred data: cancellation error ~ ε·(|x|² + |y|²)/t in the logits.
    x = rng.normal(size=(400, 12))
    q = rng.normal(size=(30, 12))
    np.testing.assert_allclose(dt.dae(x, 2.0, q), phi_numpy(x, 2.0, q), rtol=0, atol=1e-11)


def test_deep_is_blurring_mean_shift(rng):
    x = rng.normal(size=(120, 2))
    q = rng.normal(size=(7, 2))
    traj, times = dt.deep(x, 0.05, 4, q, return_times=True)
    assert traj.shape == (5, 7, 2)
    np.testing.assert_allclose(times, [0, 0.05, 0.1, 0.15, 0.2], rtol=1e-15)
    p, y = x.copy(), q.copy()
    for layer in range(1, 5):
        p, y = phi_numpy(p, 0.05, p), phi_numpy(p, 0.05, y)
        np.testing.assert_allclose(traj[layer], y, rtol=0, atol=1e-11)
    # Without queries: the particles; a schedule as a list.
    np.testing.assert_allclose(dt.deep(x, [0.05] * 4)[-1], p, rtol=0, atol=1e-11)


def test_flow_of_one_smoothed_atom_is_the_gaussian_closed_form(rng):
    # One atom at 0 smoothed with H: μ_t = N(0, (H − 2t)I), φ_t(x) = √(1 − 2t/H)·x (eq. 12).
    q = rng.normal(size=(20, 2))
    h = 0.5
    traj = dt.flow(np.zeros((1, 2)), h, 0.2, q, times=[0.1], rtol=1e-12)
    assert traj.shape == (3, 20, 2)
    for k, t in enumerate([0.0, 0.1, 0.2]):
        np.testing.assert_allclose(traj[k], math.sqrt(1 - 2 * t / h) * q, rtol=0, atol=1e-9)


def kl_entropy_numpy(x, k):
    from scipy.spatial import cKDTree

    n, d = x.shape
    eps = cKDTree(x).query(x, k=k + 1)[0][:, k]
    log_vd = d / 2 * math.log(math.pi) - gammaln(d / 2 + 1)
    return digamma(n) - digamma(k) + log_vd + d / n * np.sum(np.log(eps))


def test_entropy_is_kozachenko_leonenko(rng):
    x = rng.normal(size=(500, 3))
    for k in (1, 3, 5):
        assert dt.entropy(x, k=k) == pytest.approx(kl_entropy_numpy(x, k), rel=1e-12)
    # Along a trajectory: one value per slice.
    traj = np.stack([x, 2 * x])
    h = dt.entropy(traj)
    assert h.shape == (2,)
    assert h[1] - h[0] == pytest.approx(3 * math.log(2), rel=1e-12)


def test_w2_exact_equals_pot_emd2(rng):
    ot = pytest.importorskip("ot")
    x = rng.normal(size=(60, 2))
    y = rng.normal(size=(45, 2)) + 1.0
    a = rng.uniform(0.1, 1, 60)
    b = rng.uniform(0.1, 1, 45)
    r = dt.w2(x, y, a_weights=a, b_weights=b, plan=True)
    want = ot.emd2(a / a.sum(), b / b.sum(), ot.dist(x, y))
    assert r.w2_squared == pytest.approx(want, rel=1e-12)
    assert r.w2 == pytest.approx(math.sqrt(want), rel=1e-12)
    assert abs(r.duality_gap) < 1e-12
    # The plan: rows i, j, mass with the right marginals.
    i, j, mass = r.plan[:, 0].astype(int), r.plan[:, 1].astype(int), r.plan[:, 2]
    np.testing.assert_allclose(np.bincount(i, mass, 60), a / a.sum(), atol=1e-14)
    np.testing.assert_allclose(np.bincount(j, mass, 45), b / b.sum(), atol=1e-14)
    assert np.sum(mass * np.sum((x[i] - y[j]) ** 2, axis=1)) == pytest.approx(want, rel=1e-12)


def test_w2_1d_and_sinkhorn_and_gaussian(rng):
    ot = pytest.importorskip("ot")
    from scipy.linalg import sqrtm

    x1, y1 = rng.normal(size=(80, 1)), rng.normal(size=(50, 1)) * 2
    assert dt.w2(x1, y1, method="1d").w2_squared == pytest.approx(
        ot.emd2([], [], ot.dist(x1, y1)), rel=1e-12
    )
    # Sinkhorn: KL(P | a⊗b) and POT's −H(P) regularisers differ by a constant on the
    # transport polytope, so the entropic plans are the same; tolerance set by tol = 1e-10.
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + 0.5
    r = dt.w2(x, y, method="sinkhorn", eps=0.1, tol=1e-10)
    p = ot.sinkhorn(
        np.full(40, 1 / 40), np.full(30, 1 / 30), ot.dist(x, y), 0.1,
        method="sinkhorn_log", stopThr=1e-13, numItermax=100000,
    )
    assert r.converged and r.eps == 0.1
    assert r.w2_squared == pytest.approx(np.sum(p * ot.dist(x, y)), rel=1e-8)
    # Bures–Wasserstein between the fitted (biased) Gaussians.
    g = dt.w2(x, y, method="gaussian")
    ma, mb = x.mean(0), y.mean(0)
    sa, sb = np.cov(x.T, bias=True), np.cov(y.T, bias=True)
    ra = sqrtm(sa).real
    want = np.sum((ma - mb) ** 2) + np.trace(sa + sb - 2 * sqrtm(ra @ sb @ ra).real)
    assert g.w2_squared == pytest.approx(want, rel=1e-10)


def test_w2_along_a_trajectory(rng):
    x = rng.normal(size=(30, 2))
    r = dt.w2(np.stack([x, x + 1.0, 2 * x]))
    assert r.w2.shape == (3,)
    np.testing.assert_allclose(r.w2[:2], [0.0, math.sqrt(2.0)], atol=1e-12)
    assert r.to_dict()["w2"][1] == pytest.approx(math.sqrt(2.0), rel=1e-12)


def test_tracks_against_numpy_and_scipy(rng):
    ot = pytest.importorskip("ot")
    n = 40
    layers = [rng.normal(size=(n, 2))]
    layers.append(layers[-1] @ rng.normal(size=(2, 3)))
    layers.append(np.tanh(layers[-1]) + 0.1 * rng.normal(size=(n, 3)))
    layers.append(layers[-1][:, :2] * 1.5)
    r = dt.tracks(layers)
    width = 3
    padded = [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in layers]
    steps = [b - a for a, b in zip(padded, padded[1:])]
    units = sum(s / np.linalg.norm(s, axis=1, keepdims=True) for s in steps)
    lss = len(steps) / np.linalg.norm(units, axis=1)
    np.testing.assert_allclose(r.lss, lss, rtol=1e-12)
    assert r.lss_mean == pytest.approx(lss.mean(), rel=1e-12)
    np.testing.assert_allclose(
        r.path_length, sum(np.linalg.norm(s, axis=1) for s in steps), rtol=1e-12
    )
    cost = ot.dist(padded[0], padded[-1])
    rows, cols = linear_sum_assignment(cost)
    assert r.ots == pytest.approx(np.mean(cols == rows), abs=0)
    w2_end = math.sqrt(cost[rows, cols].mean())
    assert r.w2_end_to_end == pytest.approx(w2_end, rel=1e-10)
    w2_steps = [math.sqrt(ot.emd2([], [], ot.dist(a, b))) for a, b in zip(padded, padded[1:])]
    np.testing.assert_allclose(r.w2_steps, w2_steps, rtol=1e-10)
    assert r.geodesic_ratio == pytest.approx(sum(w2_steps) / w2_end, rel=1e-10)
    action = len(steps) * sum(np.mean(np.sum(s**2, axis=1)) for s in steps)
    assert r.action == pytest.approx(action, rel=1e-12)
    assert r.action_ratio == pytest.approx(action / w2_end**2, rel=1e-10)
    assert r.widths == [2, 3, 3, 2] and r.layers == 4 and (r.start, r.stop) == (0, 3)
    # The same layers as one (T, n, d) array, and a sub-range.
    same = dt.tracks(np.stack(padded))
    np.testing.assert_allclose(same.lss, r.lss, rtol=1e-12)
    assert dt.tracks(layers, start=1, stop=2).layers == 2


def test_sdot_1d_cells_split_the_cube_into_equal_intervals(rng):
    # Cube source in d = 1, uniform weights on n sorted targets: the cell of y_i is
    # [−½ + i/n, −½ + (i+1)/n], so the boundary between y_i and y_{i+1},
    # x = (h_i − h_{i+1}) / (y_{i+1} − y_i), is −½ + (i+1)/n.
    y = np.sort(rng.normal(size=12))[:, None]
    r = dt.sdot(y, method="newton", tol=1e-10)
    h = r.potential
    assert h.shape == (12,) and abs(h.mean()) < 1e-12
    bounds = (h[:-1] - h[1:]) / (y[1:, 0] - y[:-1, 0])
    np.testing.assert_allclose(bounds, -0.5 + np.arange(1, 12) / 12, atol=1e-9)
    g = r.generate(6000, seed=1)
    assert g.shape == (6000, 1)
    assert set(np.unique(g)) <= set(y[:, 0])


def test_recon_summary_and_betti_of_a_circle(rng):
    s = rng.uniform(0, 2 * math.pi, 300)
    x = np.c_[np.cos(s), np.sin(s)]
    xhat = x + 0.01 * rng.normal(size=x.shape)
    r = dt.recon(x, xhat, x[:, :1], eps=[0.01, 0.02], homology=True)
    e = np.linalg.norm(xhat - x, axis=1)
    np.testing.assert_allclose(r.errors, e, rtol=1e-15)
    assert r.error_max == pytest.approx(e.max(), rel=1e-15)
    assert r.error_mean == pytest.approx(e.mean(), rel=1e-14)
    assert r.error_rms == pytest.approx(math.sqrt(np.mean(e**2)), rel=1e-14)
    q = r.error_quantiles
    assert q["0.5"] == pytest.approx(np.quantile(e, 0.5), rel=1e-14)
    assert q["0.99"] == pytest.approx(np.quantile(e, 0.99), rel=1e-14)
    assert r.exceptional_fraction == [np.mean(e >= 0.01), np.mean(e >= 0.02)]
    assert r.betti_input == [1, 1] and r.betti_recon == [1, 1] and r.betti_latent[1] == 0
    assert r.latent_dim == 1 and r.homology_n == 300
