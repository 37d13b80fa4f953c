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
# One build of everything (the binaries and every test), linted as it compiles: clippy's driver compiles the
# workspace's own crates, so the dependencies are built once, not checked by clippy and built again. Every
# cargo command after this one sees the same settings and reuses the build.
export RUSTC_WORKSPACE_WRAPPER=clippy-driver CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "build and lint (cargo build, clippy -D warnings)" cargo build --workspace --all-targets --locked
# Every test binary at once, three tests at a time, the crash scenarios first (.config/nextest.toml); then
# the test-seconds of each binary from nextest's JUnit report.
step "tests (cargo nextest)" cargo nextest run --workspace --locked --profile ci --cargo-quiet
test_seconds() {
  python3 - target/nextest/ci/junit.xml <<'PY'
import sys
import xml.etree.ElementTree as ET
suites = ET.parse(sys.argv[1]).getroot().iter("testsuite")
rows = sorted(((sum(float(c.get("time", 0)) for c in s.iter("testcase")), s.get("name"), s.get("tests")) for s in suites), reverse=True)
print("== tests: test-seconds per binary (three at a time) ==")
for seconds, name, count in rows:
    print(f"{seconds:8.1f} s  {name} ({count} tests)")
PY
}
test_seconds
step "doc tests" cargo test --workspace --locked --doc --quiet
# The README's main command as a new user runs it, and the pre-deploy check of what it made.
step "quickstart" scripts/quickstart.sh
demo=pki-demo/deployment
step "quickstart's cscfg --check" target/debug/certkit-export cscfg --file "$demo/ServiceConfiguration.cscfg" --check \
  --certs "$demo"/keys/*.cer "$demo/upload/ca.cer" --ca "$demo/ca"
# The packages an offline machine installs: built from the tested binaries, installed with dpkg -i, and a short
# flow run with the installed files only (scripts/lib/package_check.sh).
step "package: build, dpkg -i, short flow" scripts/lib/package_check.sh
# The fuzz targets: formatting and lints, then each target for a short fixed time (docs/fuzzing.md).
step "fuzz: cargo fmt --check" bash -c 'cd fuzz && cargo fmt --check'
# The fuzz targets are linted as they build (RUSTC_WORKSPACE_WRAPPER above).
step "fuzz: build, lint and run (scripts/fuzz.sh)" scripts/fuzz.sh "${CERTKIT_FUZZ_SECONDS:-4}"
