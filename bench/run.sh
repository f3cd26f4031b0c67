#!/usr/bin/env bash
# One command for the benchmarks: builds deeptransport, installs the peers in bench/.venv (NumPy,
# SciPy, POT, scikit-learn pinned in bench/requirements.txt; PyTorch CPU and KeOps best effort from
# bench/requirements-optional.txt, skipped with a note in the report when they cannot be
# installed, imported or compiled), runs deeptransport and every peer on the same inputs in the
# same invocation (deeptransport's Φ_t, deep DAE and Sinkhorn cases also once per SIMD path the
# CPU runs, DEEPTRANSPORT_SIMD forced), times deeptransport-nn's training steps against PyTorch and
# candle and `deeptransport tracks` against NumPy + POT + SciPy (bench/tracks.sh), checks that the
# answers agree, and rewrites BENCHMARKS.md plus bench/results/ (results.json and one .jsonl per
# measurement family).
#   bash bench/run.sh            # all cases
#   QUICK=1 bash bench/run.sh    # small sizes, for checking the scripts themselves (records nothing:
#                                # its report goes to a temporary folder, printed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
PY=bench/.venv/bin/python
"$PY" -m pip install -q -r bench/requirements.txt

# Optional peers: each pin is installed once (skipped when that version is already there); a
# failure is recorded as "NAME<TAB>reason" for bench.py's report and never stops the run.
# OPTIONAL_REQUIREMENTS may name another pin file (to test the skip path).
FAILURES=bench/.venv/optional-install-failures.tsv
: > "$FAILURES"
while read -r spec; do
  spec=${spec%%#*}
  spec=${spec//[[:space:]]/}
  [ -n "$spec" ] || continue
  name=${spec%%==*}
  version=${spec#*==}
  # Installed already at this version (a local label such as +cpu does not count as different)?
  if "$PY" - "$name" "$version" <<'PYEOF' 2>/dev/null; then continue; fi
import importlib.metadata, sys
sys.exit(importlib.metadata.version(sys.argv[1]).split("+")[0] != sys.argv[2])
PYEOF
  log=$(mktemp)
  ok=0
  if [ "$name" = torch ]; then
    # The CPU-only wheels are far smaller than PyPI's CUDA build; PyPI is the fall-back.
    echo "installing $spec (CPU wheel index first, then PyPI) ..." >&2
    if "$PY" -m pip install -q --timeout 30 --index-url https://download.pytorch.org/whl/cpu "$spec" >"$log" 2>&1 \
      || "$PY" -m pip install -q "$spec" >"$log" 2>&1; then ok=1; fi
  else
    echo "installing $spec ..." >&2
    if "$PY" -m pip install -q "$spec" >"$log" 2>&1; then ok=1; fi
  fi
  if [ "$ok" = 0 ]; then
    reason=$(grep -m1 '^ERROR' "$log" | sed 's/ (from versions:.*//' || true)
    [ -n "$reason" ] || reason=$(tail -n1 "$log")
    printf '%s\tpip install %s failed: %s\n' "$name" "$spec" "${reason:0:160}" >> "$FAILURES"
    echo "optional peer $spec not installed (skipped): ${reason:0:160}" >&2
  fi
  rm -f "$log"
done < "${OPTIONAL_REQUIREMENTS:-bench/requirements-optional.txt}"

cargo build --release -q -p deeptransport --example bench_dae --example bench_entropy \
  --example bench_w2 --example bench_sinkhorn --example bench_bures --example bench_sdot \
  --example bench_persistence
cargo build --release -q -p deeptransport-nn --example bench_train
cargo build --release -q -p deeptransport-cli
if [ "${QUICK:-0}" = 1 ]; then
  out=$(mktemp -d)
  export BENCH_MD="$out/BENCHMARKS.md"
  N_ENT=2000 N_W2=300 BURES_CALLS=20
  TRAIN_ARGS=(--batch 256 --steps 100 --repeats 2)
  export TRACKS_N=1000 TRACKS_REPEATS=1 TRACKS_BIG_MAX_SAMPLES=200
else
  out=bench/results
  N_ENT=100000 N_W2=4000 BURES_CALLS=200
  TRAIN_ARGS=(--batch 256 --steps 500 --repeats 5)
fi
"$PY" bench/peers/bench.py
"$PY" bench/peers/bench_entropy.py --n "$N_ENT" --repeats 3 | tee "$out/entropy.jsonl"
"$PY" bench/peers/bench_bures.py --d 64 --calls "$BURES_CALLS" --repeats 5 | tee "$out/bures.jsonl"
: > "$out/w2.jsonl"
for n in $N_W2 $([ "${QUICK:-0}" = 1 ] || echo 10000); do
  target/release/examples/bench_w2 "$n" 2 3 "$out" | tee -a "$out/w2.jsonl"
  "$PY" bench/peers/bench_w2.py "$n" 2 3 "$out" | tee -a "$out/w2.jsonl"
  rm -f "$out"/w2_[xy]_*.npy
done
"$PY" bench/peers/bench_sinkhorn.py | tee "$out/sinkhorn.jsonl"
bash bench/train.sh "$out" "${TRAIN_ARGS[@]}"
bash bench/tracks.sh "$out"
bash bench/sdot.sh "$out"
bash bench/persistence.sh "$out"
if [ "${QUICK:-0}" = 1 ]; then
  RESULTS_DIR="$out" "$PY" bench/peers/report.py "$BENCH_MD"
  echo "QUICK run: report in $BENCH_MD (bench/results and BENCHMARKS.md untouched)"
else
  "$PY" bench/peers/report.py
fi
# The Python package (issue 16): built into its own venv, its section appended by bench_python.py.
if [ "${QUICK:-0}" = 1 ]; then
  PY_BENCH_N=2000 PY_DASK_N=5000 bash bench/python.sh "$out"
else
  bash bench/python.sh "$out"
fi
