#!/usr/bin/env bash
# `deeptransport tracks` (issue 13) beside the obvious Python peer (bench/peers/bench_tracks.py:
# NumPy, POT ot.emd2 per step, SciPy linear_sum_assignment end to end), on seeded synthetic
# residual-stream activations (bench/peers/make_tracks_data.py, written once into
# bench/results/tracks-data/, gitignored): timing case n = 10 000, 20 layers of width 64 (float64
# .npz) at --threads 1 and 2, the peer once with the agreement check, and the streaming case
# n = 10 000, 50 layers of width 1024 (float32 .npz, 2 GB) for peak RSS. JSON lines into
# OUT/tracks.jsonl; bench/peers/report.py renders them as the "Tracks" section of BENCHMARKS.md.
#   bash bench/tracks.sh OUT
# bench/run.sh calls it; run alone (deeptransport built first) to refresh only this section:
#   cargo build --release -p deeptransport-cli
#   bash bench/tracks.sh bench/results && bench/.venv/bin/python bench/peers/report.py --only tracks
# Environment: TRACKS_REPEATS (deeptransport repeats, default 3), TRACKS_PEER_REPEATS (default 1),
# TRACKS_BIG_MAX_SAMPLES (--max-samples of the streaming case, default 1000: the case measures
# memory while streaming, not the OT solver at width 1024), TRACKS_TIMEOUT (s per run, default
# 3600), TRACKS_N / TRACKS_BIG (n of both data sets; TRACKS_BIG=0 skips the streaming case).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
PY=bench/.venv/bin/python
BIN=target/release/deeptransport
if [ ! -x "$BIN" ]; then
  echo "tracks.sh: $BIN is missing; run cargo build --release -p deeptransport-cli" >&2
  exit 1
fi
REPEATS=${TRACKS_REPEATS:-3}
PEER_REPEATS=${TRACKS_PEER_REPEATS:-1}
BIG_M=${TRACKS_BIG_MAX_SAMPLES:-1000}
TIMEOUT=${TRACKS_TIMEOUT:-3600}
N=${TRACKS_N:-10000}
data=bench/results/tracks-data
small=$data/tracks_small_n${N}_L20_d64_float64.npz
big=$data/tracks_big_n${N}_L50_d1024_float32.npz
which=both
[ "${TRACKS_BIG:-1}" = 0 ] && which=small
"$PY" bench/peers/make_tracks_data.py --out "$data" --n "$N" --which "$which" >&2

: > "$out/tracks.jsonl"
for t in 1 2; do
  "$PY" bench/peers/bench_tracks.py deeptransport --bin "$BIN" --data "$small" --threads "$t" \
    --repeats "$REPEATS" --timeout "$TIMEOUT" --case timing | tee -a "$out/tracks.jsonl"
done
# Every SIMD path a user's CPU may take, forced (AVX2 machines, Apple silicon's portable path).
for p in avx2 portable; do
  DEEPTRANSPORT_SIMD=$p "$PY" bench/peers/bench_tracks.py deeptransport --bin "$BIN" --data "$small" \
    --threads 2 --repeats 1 --timeout "$TIMEOUT" --case timing | tee -a "$out/tracks.jsonl"
done
"$PY" bench/peers/bench_tracks.py peer --data "$small" --repeats "$PEER_REPEATS" --check "$BIN" \
  --timeout "$TIMEOUT" --case timing | tee -a "$out/tracks.jsonl"
if [ "$which" = both ]; then
  "$PY" bench/peers/bench_tracks.py deeptransport --bin "$BIN" --data "$big" --repeats 1 \
    --max-samples "$BIG_M" --timeout "$TIMEOUT" --case streaming | tee -a "$out/tracks.jsonl"
fi
