#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600) on its committed corpus, one target after the
# other, one niced process, and reports crashes. Usage: fuzz/run.sh [SECONDS] [TARGET...]
# (targets: csv npy measure npz safetensors network; default all). Needs cargo-fuzz
# (`cargo install cargo-fuzz`); works on a stable toolchain through RUSTC_BOOTSTRAP=1.
# New inputs go to fuzz/target/corpus/TARGET (ignored), crashes to fuzz/artifacts/TARGET
# (ignored), logs to fuzz/target/logs/TARGET.log. Exit 1 when any target crashed.
set -uo pipefail
cd "$(dirname "$0")"

secs=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv npy measure npz safetensors network)

# cargo-fuzz passes nightly-only -Z flags to rustc; this lets a stable rustc accept them.
export RUSTC_BOOTSTRAP=1
# The readers take paths: each fuzzing process writes its inputs into a scratch folder here (one
# per run.sh, so that runs on disjoint targets can go side by side on several cores).
export TMPDIR="$PWD/target/tmp.$$"
mkdir -p "$TMPDIR" target/logs

max_len() {
  case $1 in
    measure) echo 2048 ;;
    npz | network) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  mkdir -p "target/corpus/$t" "artifacts/$t"
  touch "target/logs/$t.stamp"
  echo "== $t: ${secs}s, -max_len=$(max_len "$t")"
  nice -n 10 cargo fuzz run -j 1 "$t" "target/corpus/$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    >"target/logs/$t.log" 2>&1
  rc=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "target/logs/$t.log" | sed 's/^/   /'
  new=$(find "artifacts/$t" -type f -newer "target/logs/$t.stamp")
  if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
    status=1
    echo "   CRASH (exit $rc); see fuzz/target/logs/$t.log and:"
    echo "$new" | sed 's/^/     fuzz\//'
    grep -m1 -E "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "target/logs/$t.log" | sed 's/^/   /'
  fi
done
rm -rf "$TMPDIR"
exit $status
