#!/usr/bin/env bash
# Benchmarks of the Python package (issue 16), in the package's venv (crates/deeptransport-py/
# venv.sh builds and installs it): the call overhead of dt.dae on tiny inputs; dt.dae at
# N = M = 20 000 in d = 2 against the Rust library's time for the same call
# (examples/bench_dae on the same .npy inputs, alternating rounds); dt.dask.dae on a LocalCluster
# of 2 worker processes against one process. JSON lines into OUT/python.jsonl, then the section
# "Python package" of BENCHMARKS.md ($BENCH_MD if set; bench/peers/bench_python.py report).
#   bash bench/python.sh [OUT]        (default OUT: bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
mkdir -p "$out"
cargo build --release -p deeptransport --example bench_dae
VENV=$(bash crates/deeptransport-py/venv.sh)
PY=$VENV/bin/python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$out/python.jsonl"
"$PY" bench/peers/bench_python.py overhead | tee -a "$out/python.jsonl"
"$PY" bench/peers/bench_python.py large "$tmp" "${PY_BENCH_N:-20000}" 5 | tee -a "$out/python.jsonl"
"$PY" bench/peers/bench_python.py dask "${PY_DASK_N:-60000}" 3 | tee -a "$out/python.jsonl"
RESULTS_DIR=$out "$PY" bench/peers/bench_python.py report "${BENCH_MD:-BENCHMARKS.md}"
