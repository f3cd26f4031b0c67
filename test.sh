#!/usr/bin/env bash
# The whole test suite (the README's test command; .ci/run runs it): every Rust test, then every
# Python test against the `deeptransport` package built into a local virtual environment
# (target/py-venv, created on the first run with the pinned test dependencies from PyPI and
# reused afterwards; see crates/deeptransport-py/venv.sh).
set -euo pipefail
cd "$(dirname "$0")"
START=$SECONDS

echo "== Rust: cargo test --workspace --release"
cargo test --workspace --release

echo "== Python: build the package (crates/deeptransport-py) into a venv, run pytest"
PY_START=$SECONDS
VENV=$(bash crates/deeptransport-py/venv.sh)
echo "package built and installed into $VENV in $((SECONDS - PY_START)) s"
"$VENV/bin/python" -m pytest crates/deeptransport-py/tests -q -p no:cacheprovider
echo "== all tests passed in $((SECONDS - START)) s (Python part $((SECONDS - PY_START)) s)"
