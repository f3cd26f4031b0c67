"""The Python functions against the `deeptransport` binary on the same inputs: same numbers (the
same library call), and every key of the command's --json on the result object."""

from __future__ import annotations

import numpy as np
import pytest

import deeptransport as dt

# Keys the command prints that name its files (the Python results have no files).
FILE_KEYS = {"out", "times_file", "plan"}


def test_dae_matches_the_cli_bit_for_bit(run_cli, rng):
    x = rng.normal(size=(500, 2))
    q = rng.normal(size=(100, 2))
    w = rng.uniform(0.5, 1.5, size=500)
    for noise in ("gaussian", "laplace", "student:4"):
        s = run_cli(
            "dae", "--data", "x.npy", "--query", "q.npy", "--weights", "w.npy", "--t", "0.2",
            "--noise", noise, "--out", "phi.npy", "--json",
            arrays={"x.npy": x, "q.npy": q, "w.npy": w},
        )
        want = np.load(run_cli.dir / "phi.npy")
        got = dt.dae(x, 0.2, q, noise=noise, weights=w)
        np.testing.assert_array_equal(got, want)
        assert s["n_query"] == 100 and s["noise"] == noise


def test_deep_and_flow_match_the_cli(run_cli, rng):
    x = rng.normal(size=(150, 2))
    q = rng.normal(size=(20, 2))
    run_cli(
        "deep", "--data", "x.npy", "--query", "q.npy", "--tau", "0.05", "--layers", "6",
        "--out", "traj.npy", "--json", arrays={"x.npy": x, "q.npy": q},
    )
    np.testing.assert_array_equal(dt.deep(x, 0.05, 6, q), np.load(run_cli.dir / "traj.npy"))

    s = run_cli(
        "flow", "--data", "x.npy", "--bandwidth", "0.2", "--t", "0.08", "--times", "0.02,0.05",
        "--query", "q.npy", "--out", "f.npy", "--json", arrays={"x.npy": x, "q.npy": q},
    )
    traj, info = dt.flow(x, 0.2, 0.08, q, times=[0.02, 0.05], return_info=True)
    np.testing.assert_array_equal(traj, np.load(run_cli.dir / "f.npy"))
    assert set(s) - FILE_KEYS <= set(info)
    for k in ("steps", "rejected_steps", "rhs_evaluations", "singular_time", "times"):
        assert info[k] == s[k], k


def test_entropy_and_w2_match_the_cli(run_cli, rng):
    x = rng.normal(size=(300, 2))
    y = rng.normal(size=(200, 2)) + 0.3
    s = run_cli(
        "entropy", "--data", "x.npy", "--k", "4", "--estimator", "renyi:2", "--json",
        arrays={"x.npy": x},
    )
    assert dt.entropy(x, k=4, estimator="renyi:2") == s["entropy"]
    for method, extra in (("exact", []), ("sinkhorn", ["--eps", "0.1"]), ("gaussian", [])):
        s = run_cli(
            "w2", "--a", "x.npy", "--b", "y.npy", "--method", method, *extra, "--json",
            arrays={"x.npy": x, "y.npy": y},
        )
        r = dt.w2(x, y, method=method, eps=0.1 if method == "sinkhorn" else None)
        assert set(s) - FILE_KEYS == set(r.to_dict()), method
        for k, v in s.items():
            if k not in FILE_KEYS:
                assert getattr(r, k) == v, (method, k)


def test_tracks_sdot_and_recon_match_the_cli(run_cli, rng):
    layers = [rng.normal(size=(80, 3)) for _ in range(4)]
    arrays = {f"l{k}.npy": a for k, a in enumerate(layers)}
    s = run_cli("tracks", "--layers", "l0.npy,l1.npy,l2.npy,l3.npy", "--json", arrays=arrays)
    r = dt.tracks(layers)
    assert r.to_dict() == s

    y = rng.normal(size=(30, 2)) * 0.2
    s = run_cli(
        "sdot", "--target", "y.npy", "--potential", "h.npy", "--json", arrays={"y.npy": y}
    )
    r = dt.sdot(y)
    assert r.to_dict() == s
    np.testing.assert_array_equal(r.potential, np.load(run_cli.dir / "h.npy"))

    x = rng.normal(size=(120, 2))
    xhat = x + 0.05 * rng.normal(size=x.shape)
    z = x[:, :1]
    s = run_cli(
        "recon", "--input", "x.npy", "--recon", "xh.npy", "--latent", "z.npy",
        "--eps", "0.01,0.1", "--homology", "--json",
        arrays={"x.npy": x, "xh.npy": xhat, "z.npy": z},
    )
    r = dt.recon(x, xhat, z, eps=[0.01, 0.1], homology=True)
    assert r.to_dict() == s


@pytest.mark.parametrize(
    "args,call",
    [
        (["dae", "--data", "x.npy", "--t", "-1", "--out", "o.npy"], lambda x: dt.dae(x, -1)),
        (
            ["dae", "--data", "x.npy", "--t", "1", "--noise", "student:2", "--out", "o.npy"],
            lambda x: dt.dae(x, 1, noise="student:2"),
        ),
    ],
)
def test_bad_input_is_refused_by_both(run_cli, rng, args, call):
    x = rng.normal(size=(10, 2))
    p = run_cli(*args, arrays={"x.npy": x}, check=False)
    assert p.returncode == 2
    with pytest.raises(ValueError):
        call(x)
