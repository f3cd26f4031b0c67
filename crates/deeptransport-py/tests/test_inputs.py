"""Inputs in any layout give the same numbers; bad input raises ValueError naming the problem;
the GIL is released during computation."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import deeptransport as dt


def test_float32_fortran_strided_lists_and_integers_give_the_same_result(rng):
    x = rng.normal(size=(200, 3))
    q = rng.normal(size=(40, 3))
    want = dt.dae(x, 0.4, q)
    np.testing.assert_array_equal(dt.dae(np.asfortranarray(x), 0.4, np.asfortranarray(q)), want)
    # A non-contiguous view (every other row of a larger array, columns reversed twice).
    big = np.empty((400, 6))
    big[::2, ::2] = x
    view = big[::2, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    np.testing.assert_array_equal(dt.dae(view, 0.4, q), want)
    np.testing.assert_array_equal(dt.dae(x.tolist(), 0.4, q.tolist()), want)
    # float32 is widened exactly: the same as the float64 array of the same values.
    x32, q32 = x.astype(np.float32), q.astype(np.float32)
    np.testing.assert_array_equal(
        dt.dae(x32, 0.4, q32), dt.dae(x32.astype(np.float64), 0.4, q32.astype(np.float64))
    )
    np.testing.assert_array_equal(
        dt.dae(np.asfortranarray(x32)[::1, :], 0.4, q32), dt.dae(x32.astype(float), 0.4, q32)
    )
    # Integers and big-endian floats.
    xi = np.arange(30).reshape(15, 2)
    np.testing.assert_array_equal(dt.dae(xi, 2.0), dt.dae(xi.astype(float), 2.0))
    np.testing.assert_array_equal(dt.dae(x.astype(">f8"), 0.4, q), want)
    # The output is a fresh float64 C array owned by Python.
    assert want.dtype == np.float64 and want.flags.c_contiguous and want.flags.writeable


def test_inputs_are_copied_not_modified(rng):
    x = rng.normal(size=(50, 2))
    before = x.copy()
    dt.dae(x, 0.1)
    dt.deep(x, 0.1, 3)
    np.testing.assert_array_equal(x, before)


def test_tracks_takes_float32_and_generators(rng):
    layers = [rng.normal(size=(30, 2)).astype(np.float32) for _ in range(3)]
    r = dt.tracks(iter(layers))
    assert r.n == 30 and r.layers == 3


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda x: dt.dae(x, 0.0), "invalid t = 0: must be a finite number > 0"),
        (lambda x: dt.dae(x, float("nan")), "invalid t = NaN"),
        (lambda x: dt.dae(x, 1.0, noise="cauchy"), 'noise="cauchy"'),
        (lambda x: dt.dae(x, 1.0, noise="student:2"), "student"),
        (lambda x: dt.dae(x[:, 0], 1.0), "must be a 2-D array of shape (n, d)"),
        (lambda x: dt.dae(x, 1.0, x[:, :1]), "dimension mismatch: query has dimension 1, expected 2"),
        (lambda x: dt.dae(x.astype(complex), 1.0), "dtype complex128 is not a real number type"),
        (lambda x: dt.dae([["a", "b"]], 1.0), "not a real number type"),
        (lambda x: dt.dae(np.zeros((0, 2)), 1.0), "data is empty"),
        (lambda x: dt.dae(x, 1.0, weights=-np.ones(len(x))), "weight at row 1 is -1"),
        (lambda x: dt.dae(x, 1.0, weights=np.ones(3)), "3 weights given for 20 points"),
        (lambda x: dt.dae(x, 1.0, precision="f16"), 'precision="f16"'),
        (lambda x: dt.deep(x, 0.1, 0), "must be between 1 and"),
        (lambda x: dt.deep(x, [0.1, 0.2], 3), "layers=3 but tau lists 2 values"),
        (lambda x: dt.flow(x, 0.2, 0.1), "singular time t* = 0.1"),
        (lambda x: dt.flow(x, 0.2, 0.05, times=[0.06]), "times[0] = 0.06"),
        (lambda x: dt.entropy(x, k=20), "k=20 needs at least k + 1 = 21 points"),
        (lambda x: dt.entropy(np.repeat(x, 4, axis=0), k=3), "repeated"),
        (lambda x: dt.w2(x, x[:, :1]), "b has dimension 1, but a has dimension 2"),
        (lambda x: dt.w2(x, x, method="1d"), "sorting computes W₂ only in dimension 1"),
        (lambda x: dt.w2(x, x, method="emd"), 'method="emd"'),
        (lambda x: dt.w2(x, x, method="gaussian", plan=True), "has no plan"),
        (lambda x: dt.w2(x), "b is missing"),
        (lambda x: dt.tracks([x]), "need start < stop"),
        (lambda x: dt.tracks([x, x[:5]]), "layers[1] has 5 rows but layers[0] has 20"),
        (lambda x: dt.tracks([x, x[:, :1]], embed="none"), 'embed="none": layers[1] has width 1'),
        (lambda x: dt.tracks([x, np.zeros((20, 2, 2))]), "pass flatten=True"),
        (lambda x: dt.sdot(x, tol=2.0), "tol=2.0: the relative mass tolerance"),
        (lambda x: dt.sdot(x, source="beta"), 'source="beta"'),
        (lambda x: dt.recon(x, x[:, :1]), "xhat (columns; x has 2)"),
        (lambda x: dt.recon(x, x, eps=[-1.0]), "eps contains -1.0"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(rng, call, message):
    x = rng.normal(size=(20, 2))
    with pytest.raises(ValueError) as e:
        call(x)
    assert message in str(e.value)
    assert isinstance(e.value, dt.DeepTransportError)


def test_non_finite_values_are_named_by_row_and_column(rng):
    x = rng.normal(size=(20, 2))
    x[6, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value NaN in data at row 7, column 2"):
        dt.dae(x, 1.0)
    q = np.zeros((3, 2))
    q[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"non-finite value inf in query at row 3, column 1"):
        dt.dae(np.ones((4, 2)), 1.0, q)


def test_uniform_noise_without_posterior_names_the_query(rng):
    x = rng.uniform(size=(20, 1))
    q = np.array([[0.5], [100.0]])
    with pytest.raises(ValueError, match=r"no posterior at query row 2: .*uniform noise with t = 0.01"):
        dt.dae(x, 0.01, q, noise="uniform")


def test_the_gil_is_released_while_the_kernel_runs(rng):
    # A Python thread keeps counting while dae runs (≥ 0.1 s in all) in this thread: with the
    # GIL held the counter could not advance until dae returned.
    x = rng.normal(size=(12000, 2))
    done = threading.Event()
    ticks = []

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.01)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.1:
        dt.dae(x, 0.1)
    t1 = time.perf_counter()
    done.set()
    worker.join()
    during = [t for t in ticks if t0 < t < t1]
    assert len(during) > 10, (len(during), t1 - t0)


def test_version_and_simd_path():
    assert dt.__version__.count(".") == 2
    assert dt.simd_path() in ("avx512", "avx2", "portable", "scalar")
    with pytest.raises(ValueError, match="SIMD path"):
        dt.set_simd_path("sse9")


def test_result_objects_are_read_only_and_serialisable(rng):
    import json

    x = rng.normal(size=(20, 2))
    r = dt.w2(x, x + 1)
    with pytest.raises(AttributeError):
        r.w2 = 0
    with pytest.raises(AttributeError):
        r.nonexistent
    assert json.loads(json.dumps(r.to_dict())) == r.to_dict()
    assert "w2" in dir(r) and "w2_squared" in repr(r)


def test_optional_integrations_without_their_packages_raise_a_clear_import_error():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules.update({'torch': None, 'dask': None, 'dask.array': None})\n"
        "import deeptransport as dt\n"
        "for name in ('torch', 'dask'):\n"
        "    try:\n"
        "        getattr(dt, name)\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "deeptransport.torch needs PyTorch, which is not installed" in out.stdout
    assert "deeptransport.dask needs Dask" in out.stdout
