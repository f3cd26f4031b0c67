#!/usr/bin/env bash
# Training throughput of deeptransport-nn beside PyTorch (bench/peers/bench_train.py) and candle
# (the same example, --impl candle), at 1 and 2 threads; JSON lines into OUT/train.jsonl.
#   bash bench/train.sh OUT [bench_train flags, e.g. --batch 256 --steps 500 --repeats 5]
# bench/run.sh calls it; run alone (after building the example) to refresh only this section:
#   cargo build --release -p deeptransport-nn --example bench_train
#   bash bench/train.sh bench/results --batch 256 --steps 500 --repeats 5
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
shift
PY=bench/.venv/bin/python
: > "$out/train.jsonl"
for t in 1 2; do
  "$PY" bench/peers/bench_train.py "$@" --threads "$t" | tee -a "$out/train.jsonl"
  for model in mlp resmlp ae; do
    for opt in sgd adam; do
      for impl in deeptransport candle; do
        target/release/examples/bench_train --model "$model" --optimizer "$opt" "$@" \
          --threads "$t" --impl "$impl" | tee -a "$out/train.jsonl"
      done
    done
  done
done
