#!/usr/bin/env bash
# Vietoris–Rips persistence (issue 15): H₀/H₁ of N = 2000 points in ℝ³ (uniform in the unit cube,
# a noisy torus, two linked circles with noise) by deeptransport (bench_persistence example; every
# SIMD path this CPU runs — the distance kernel depends on it — with 1 and 2 threads) and by
# ripser.py from PyPI (bench/peers/bench_persistence.py; an optional peer), on the same point
# files; the diagrams are compared (equal pairs on ripser's float32 distance matrix; bottleneck
# from the points).
# JSON lines into OUT/persistence.jsonl; report.py renders them.
#   cargo build --release -p deeptransport --example bench_persistence
#   bash bench/persistence.sh bench/results && bench/.venv/bin/python bench/peers/report.py --only persistence
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
PY=bench/.venv/bin/python
EX=target/release/examples/bench_persistence
N=${PERSISTENCE_N:-2000}
REPEATS=${PERSISTENCE_REPEATS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$out/persistence.jsonl"
"$PY" bench/peers/bench_persistence.py make "$tmp" "$N"
for case in cube torus linked; do
  for p in avx512 avx2 portable; do
    for t in 1 2; do
      if DEEPTRANSPORT_SIMD=$p RAYON_NUM_THREADS=$t "$EX" "$tmp/${case}_x.npy" "$REPEATS" "$tmp/${case}_${p}_$t" \
          > "$tmp/line" 2> "$tmp/err"; then
        "$PY" -c "import json, sys; r = json.loads(open(sys.argv[1]).read()); r['case'] = sys.argv[2]; print(json.dumps(r))" \
          "$tmp/line" "$case" | tee -a "$out/persistence.jsonl"
      else
        echo "skipped $case on $p: $(cat "$tmp/err")" >&2
      fi
    done
  done
  # Every run of a case (path, threads) must give the same diagrams bit for bit, from the points
  # and from the float32 matrix; the widest path's 2-thread files stand for them.
  widest=""
  for p in avx512 avx2 portable; do
    if [ -f "$tmp/${case}_${p}_2_h0.npy" ]; then widest="$tmp/${case}_${p}_2"; break; fi
  done
  for f in "$tmp/${case}"_*_h[01].npy; do
    rest=${f#"$tmp/${case}_"}
    rest=${rest#*_*_}
    cmp -s "$f" "${widest}_$rest" || { echo "diagrams differ between runs: $f" >&2; exit 1; }
  done
  if "$PY" -c "import ripser, persim" 2>/dev/null; then
    "$PY" bench/peers/bench_persistence.py run "$tmp" "$case" "$REPEATS" "$widest" | tee -a "$out/persistence.jsonl"
  else
    echo "ripser.py not installed (bench/requirements-optional.txt): peer skipped" >&2
  fi
done
