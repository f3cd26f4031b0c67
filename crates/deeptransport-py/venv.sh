#!/usr/bin/env bash
# Creates (or reuses) the virtual environment of the Python package's tests and benchmarks and
# installs the package into it from this checkout: `bash crates/deeptransport-py/venv.sh [VENV]`
# (default target/py-venv, or $DEEPTRANSPORT_VENV), printing the venv's path last.
#
# - The venv is made with python3 (or $PYTHON, ≥ 3.9) when missing, and reused afterwards.
# - Its pinned test dependencies (requirements-test.txt, then requirements-torch.txt with
#   --no-deps) are installed from PyPI when those files have changed since the last install.
# - The package is built by maturin (pinned there) with `pip install --no-build-isolation .` into
#   this workspace's target/ (CARGO_TARGET_DIR), where `cargo test --release` has already built
#   the Rust library: only the extension crate is compiled.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${1:-${DEEPTRANSPORT_VENV:-target/py-venv}}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
HERE=crates/deeptransport-py
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV" >&2
fi
want=$(cat "$HERE/requirements-test.txt" "$HERE/requirements-torch.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements-test.txt" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    -r "$HERE/requirements-torch.txt" >&2
  echo "$want" >"$VENV/.requirements.sha256"
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# maturin, the build backend, is on the venv's PATH for --no-build-isolation.
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall . >&2
echo "$VENV"
