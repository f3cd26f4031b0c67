"""Shared fixtures: the `deeptransport` binary (built if missing) and a seeded generator."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    """target/release/deeptransport (or $DEEPTRANSPORT_BIN); built with cargo when missing."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    exe = pathlib.Path(os.environ.get("DEEPTRANSPORT_BIN", target / "release" / "deeptransport"))
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "-p", "deeptransport-cli"], cwd=ROOT, check=True
        )
    assert exe.exists(), f"{exe} was not built"
    return exe


@pytest.fixture
def run_cli(cli, tmp_path):
    """run_cli(args..., arrays={name: array}) writes each array to tmp_path/name (.npy), runs
    the binary there and returns its parsed --json summary."""

    def run(*args: str, arrays=None, check=True):
        for name, a in (arrays or {}).items():
            np.save(tmp_path / name, a)
        p = subprocess.run(
            [str(cli), *args], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        if not check:
            return p
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    run.dir = tmp_path
    return run


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)
