#!/usr/bin/env bash
# One command for the benchmarks: builds deeptransport, installs the peers in bench/.venv, runs
# both on the same inputs in the same invocation, checks the answers agree, and rewrites
# BENCHMARKS.md plus bench/results/ (results.json and one .jsonl per measurement family).
#   bash bench/run.sh            # all cases
#   QUICK=1 bash bench/run.sh    # small sizes, for checking the scripts themselves (records nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
PY=bench/.venv/bin/python
"$PY" -m pip install -q -r bench/requirements.txt
cargo build --release -q -p deeptransport --example bench_dae --example bench_entropy \
  --example bench_w2 --example bench_sinkhorn
"$PY" bench/peers/bench.py
if [ "${QUICK:-0}" = 1 ]; then
  out=$(mktemp -d)
  N_ENT=2000 N_W2=300
else
  out=bench/results
  N_ENT=100000 N_W2=4000
fi
"$PY" bench/peers/bench_entropy.py --n "$N_ENT" --repeats 3 | tee "$out/entropy.jsonl"
: > "$out/w2.jsonl"
for n in $N_W2 $([ "${QUICK:-0}" = 1 ] || echo 10000); do
  target/release/examples/bench_w2 "$n" 2 3 "$out" | tee -a "$out/w2.jsonl"
  "$PY" bench/peers/bench_w2.py "$n" 2 3 "$out" | tee -a "$out/w2.jsonl"
  rm -f "$out"/w2_[xy]_*.npy
done
"$PY" bench/peers/bench_sinkhorn.py | tee "$out/sinkhorn.jsonl"
if [ "${QUICK:-0}" != 1 ]; then
  "$PY" bench/peers/report.py
fi
