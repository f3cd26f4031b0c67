#!/usr/bin/env bash
# Semi-discrete OT (issue 14): one QMC/Adam iteration of deeptransport (cached exact assignment,
# and the same step by a full scan) beside pyOMT's algorithm reimplemented in NumPy and PyTorch
# CPU (bench/peers/bench_sdot.py) on the same targets and Sobol samples — n = 1000 targets in
# d = 16, 10⁵ samples — forced on every SIMD path; the exact 2-D Newton solver at n = 10⁴; and
# QMC/Adam against Newton at equal accuracy in 2-D (the `deeptransport sdot` command, both
# methods, tol 2e-2). JSON lines into OUT/sdot.jsonl; report.py renders them.
#   cargo build --release -p deeptransport-cli --example bench_sdot
#   bash bench/sdot.sh bench/results && bench/.venv/bin/python bench/peers/report.py --only sdot
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
PY=bench/.venv/bin/python
EX=target/release/examples/bench_sdot
BIN=target/release/deeptransport
ITER=${SDOT_ITERATIONS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$out/sdot.jsonl"
for p in avx512 avx2 portable; do
  if DEEPTRANSPORT_SIMD=$p "$BIN" --version >/dev/null 2>&1; then
    DEEPTRANSPORT_SIMD=$p "$EX" qmc 1000 16 100000 "$ITER" "$tmp" | tee -a "$out/sdot.jsonl"
  fi
done
"$PY" bench/peers/bench_sdot.py 1000 16 100000 "$ITER" "$tmp" | tee -a "$out/sdot.jsonl"
"$EX" newton 10000 3 | tee -a "$out/sdot.jsonl"
# Equal accuracy in 2-D: 500 uniform targets in the square, both methods to tol 2e-2.
"$PY" -c "import numpy as np; np.save('$tmp/y2.npy', np.random.default_rng(7).uniform(-0.5, 0.5, (500, 2)))"
for m in newton adam; do
  start=$(date +%s.%N)
  line=$("$BIN" sdot --target "$tmp/y2.npy" --method $m --tol 2e-2 --potential "$tmp/h.npy" --json --quiet)
  end=$(date +%s.%N)
  "$PY" -c "import json, sys; r = json.loads(sys.argv[1]); r.update(case='equal_accuracy', seconds=float(sys.argv[2])); print(json.dumps(r))" \
    "$line" "$(echo "$end - $start" | bc)" | tee -a "$out/sdot.jsonl"
done
