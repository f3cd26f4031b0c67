"""deeptransport.dask on a LocalCluster of 2 worker processes: the sharded Φ_t and deep DAE equal
the single-process results (1e-12 relative, norm-wise), errors name rows of the whole arrays."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import deeptransport as dt  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def rel(a, b):
    """Norm-wise relative difference max|a − b| / max|b| (coordinates near 0 don't inflate it)."""
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def test_sharded_dae_equals_the_single_process_result(client, rng):
    x = rng.normal(size=(3000, 2))
    q = rng.normal(size=(1100, 2))
    want = dt.dae(x, 0.05, q)
    got = dt.dask.dae(
        da.from_array(x, chunks=(700, 2)), 0.05, da.from_array(q, chunks=(300, 2)), split_every=2
    )
    assert got.chunks[0] == (300, 300, 300, 200)
    out = got.compute()
    assert out.shape == (1100, 2)
    assert rel(out, want) < 1e-12
    # The graph ran on the two worker processes.
    assert len(client.scheduler_info()["workers"]) == 2


@pytest.mark.parametrize("noise", ["laplace", "student:5", "uniform"])
def test_sharded_dae_with_weights_every_noise(client, rng, noise):
    x = rng.normal(size=(900, 3))
    w = rng.uniform(0, 1, size=900)
    w[:300] = 0.0  # a whole shard without mass contributes nothing
    want = dt.dae(x, 0.5, weights=w, noise=noise)
    got = dt.dask.dae(
        da.from_array(x, chunks=(300, 3)), 0.5, weights=da.from_array(w, chunks=250), noise=noise
    ).compute()
    assert rel(got, want) < 1e-12


def test_sharded_deep_equals_the_single_process_trajectory(client, rng):
    x = rng.normal(size=(600, 2))
    q = rng.normal(size=(90, 2))
    want = dt.deep(x, 0.05, 5, q)
    got = dt.dask.deep(
        da.from_array(x, chunks=(200, 2)), 0.05, 5, da.from_array(q, chunks=(45, 2))
    ).compute()
    assert got.shape == want.shape == (6, 90, 2)
    assert rel(got, want) < 1e-12
    particles = dt.dask.deep(da.from_array(x, chunks=(150, 2)), [0.1, 0.05]).compute()
    assert rel(particles, dt.deep(x, [0.1, 0.05])) < 1e-12


def test_numpy_inputs_and_errors_name_rows_of_the_whole_array(client, rng):
    x = rng.normal(size=(400, 2))
    np.testing.assert_allclose(dt.dask.dae(x, 0.2).compute(), dt.dae(x, 0.2), rtol=0, atol=1e-13)
    bad = x.copy()
    bad[250, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value NaN in data at row 251, column 2"):
        dt.dask.dae(da.from_array(bad, chunks=(100, 2)), 0.2, x).compute()
    q = np.array([[0.0, 0.0]] * 5 + [[50.0, 50.0]])
    with pytest.raises(ValueError, match=r"no posterior at query row 6"):
        dt.dask.dae(
            da.from_array(x, chunks=(100, 2)), 0.01, da.from_array(q, chunks=(2, 2)),
            noise="uniform",
        ).compute()
    w = np.ones(400)
    w[333] = -1.0
    with pytest.raises(ValueError, match=r"weight at row 334 is -1"):
        dt.dask.dae(da.from_array(x, chunks=(100, 2)), 0.2, weights=w).compute()
    with pytest.raises(ValueError, match=r"weights sum to 0"):
        dt.dask.dae(da.from_array(x, chunks=(100, 2)), 0.2, weights=np.zeros(400)).compute()
    with pytest.raises(ValueError, match="dimension mismatch"):
        dt.dask.dae(x, 0.2, np.zeros((3, 5)))
    with pytest.raises(ValueError, match='noise="cauchy"'):
        dt.dask.dae(x, 0.2, noise="cauchy")
