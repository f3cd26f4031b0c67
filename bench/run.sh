#!/usr/bin/env bash
# One command for the benchmarks: builds deeptransport, installs the peers in bench/.venv, runs
# both on the same inputs in the same invocation, checks the answers agree, and rewrites
# BENCHMARKS.md plus bench/results/results.json.
#   bash bench/run.sh            # all cases
#   QUICK=1 bash bench/run.sh    # small sizes, for checking the script itself
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install -q -r bench/requirements.txt
cargo build --release -q -p deeptransport --example bench_dae
bench/.venv/bin/python bench/peers/bench.py
