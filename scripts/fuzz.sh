#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/, cargo-fuzz with libFuzzer on the stable toolchain, no sanitizer) from seeds
# made by scripts/fuzz-seeds.sh plus the inputs kept in fuzz/regressions/TARGET/ (every crash ever found).
# Fails on the first crash, timeout or out-of-memory, naming the input libFuzzer saved.
#
# usage: scripts/fuzz.sh [SECONDS [TARGET...]]     (default 30 seconds for each target; all targets)
#   scripts/fuzz.sh 3600 cscfg_edit                  one target for an hour
#   FUZZ_JOBS=2 scripts/fuzz.sh 600                  two processes per target (libFuzzer -fork)
#   FUZZ_PARALLEL=1 scripts/fuzz.sh                  one target at a time (default: one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
deps_fuzz

SECONDS_EACH=${1:-30}
shift || true
case "$SECONDS_EACH" in '' | *[!0-9]*) deps_fail "seconds must be a whole number, e.g. scripts/fuzz.sh 60" ;; esac
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cd fuzz && cargo fuzz list)

(cd fuzz && cargo fuzz build -s none --release)
[ -d fuzz/corpus ] || scripts/fuzz-seeds.sh fuzz/corpus

# One target per core at a time (FUZZ_PARALLEL, default: the number of cores): each target still runs for its
# full time on a core of its own, so the coverage per target is what it was when they ran one after another.
PARALLEL=${FUZZ_PARALLEL:-$(nproc)}
fuzz_one() {
  local target=$1
  mkdir -p "fuzz/corpus/$target" "fuzz/regressions/$target" fuzz/logs
  local log="fuzz/logs/$target.txt"
  # -timeout: one input taking 10 s is a finding (unbounded work); -rss_limit_mb: so is 2 GiB of memory.
  if ! (cd fuzz && cargo fuzz run -s none --release "$target" "corpus/$target" "regressions/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      ${FUZZ_JOBS:+-fork=$FUZZ_JOBS} 2> "../$log"); then
    grep -v '^#[0-9]' "$log" | tail -40 >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/ (fix it, then keep the input in fuzz/regressions/$target/)" >&2
    return 1
  fi
  echo "fuzz: $target for ${SECONDS_EACH}s: $(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ')"
}

failed=0
running=()
for target in "${TARGETS[@]}"; do
  fuzz_one "$target" &
  running+=($!)
  if [ ${#running[@]} -ge "$PARALLEL" ]; then
    wait "${running[0]}" || failed=1
    running=("${running[@]:1}")
  fi
  [ "$failed" -eq 0 ] || break
done
for pid in "${running[@]}"; do
  wait "$pid" || failed=1
done
exit "$failed"
