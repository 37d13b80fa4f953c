#!/usr/bin/env bash
# Builds certkit and runs every test: formatting, lints, unit tests and the integration tests that check
# certkit's files with the openssl CLI, Java keytool and Python cryptography. Installs what the machine lacks
# first (scripts/lib/deps.sh). Then runs the quickstart and checks its output; ends with every fuzz target for
# 30 seconds (docs/fuzzing.md). Prints how long each step took at the end (docs/testing.md keeps the table).
#
#   CERTKIT_CRASH_SWEEP=full scripts/test.sh    kill each crash scenario before every file-system call, not
#                                               only before each distinct step (the weekly run; docs/testing.md)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh

# Each step's name and seconds, printed as a table when the run ends (also when it fails).
STEP_TIMES=()
CURRENT_STEP=""
step() {
  local name=$1 start=$SECONDS
  shift
  CURRENT_STEP="$name"
  "$@"
  CURRENT_STEP=""
  STEP_TIMES+=("$(printf '%6d s  %s' $((SECONDS - start)) "$name")")
}
report_times() {
  local status=$?
  if [ ${#STEP_TIMES[@]} -gt 0 ]; then
    echo "== test.sh: time per step (total ${SECONDS} s) =="
    printf '%s\n' "${STEP_TIMES[@]}"
  fi
  [ -z "$CURRENT_STEP" ] || echo "test.sh: failed in: $CURRENT_STEP" >&2
  exit "$status"
}
trap report_times EXIT

step "packages (deps.sh)" deps_test
step "fuzz tools (deps.sh)" deps_fuzz

step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
# The integration tests drive the built binaries, so build them first.
step "cargo build" cargo build --workspace --locked
step "build the tests" cargo test --workspace --locked --no-run --quiet
# Each test binary on its own, so that its time is known.
test_binaries() {
  cargo test --workspace --locked --no-run --message-format=json 2> /dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        kind = m["target"]["kind"][0]
        print(m["executable"], m["manifest_path"], m["target"]["name"] + ("" if kind == "test" else " (" + kind + ")"))
'
}
while read -r exe manifest name; do
  step "test $name" bash -c 'cd "$(dirname "$1")" && "$2" --quiet' _ "$manifest" "$exe"
done < <(test_binaries)
step "doc tests" cargo test --workspace --locked --doc --quiet
# The README's main command as a new user runs it, and the pre-deploy check of what it made.
step "quickstart" scripts/quickstart.sh
demo=pki-demo/deployment
step "quickstart's cscfg --check" target/debug/certkit-export cscfg --file "$demo/ServiceConfiguration.cscfg" --check \
  --certs "$demo"/keys/*.cer "$demo/upload/ca.cer" --ca-dir "$demo/ca"
# The fuzz targets: formatting and lints, then each target for a short fixed time (docs/fuzzing.md).
step "fuzz: cargo fmt --check" bash -c 'cd fuzz && cargo fmt --check'
step "fuzz: cargo clippy" bash -c 'cd fuzz && cargo clippy --locked --all-targets -- -D warnings'
step "fuzz: build and run (scripts/fuzz.sh)" scripts/fuzz.sh "${CERTKIT_FUZZ_SECONDS:-30}"
