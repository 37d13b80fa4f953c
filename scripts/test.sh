#!/usr/bin/env bash
# Builds certkit and runs every test: formatting, lints, unit tests and the integration tests that check
# certkit's files with the openssl CLI, Java keytool and Python cryptography. Installs what the machine lacks
# first (scripts/lib/deps.sh). Then runs the quickstart and checks its output; ends with every fuzz target for
# 30 seconds (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
deps_test
deps_fuzz

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The integration tests drive the built binaries, so build them first.
cargo build --workspace --locked
cargo test --workspace --locked
# The README's main command as a new user runs it, and the pre-deploy check of what it made.
scripts/quickstart.sh
demo=pki-demo/deployment
target/debug/certkit-export cscfg --file "$demo/ServiceConfiguration.cscfg" --check \
  --certs "$demo"/keys/*.cer "$demo/upload/ca.cer" --ca-dir "$demo/ca"
# The fuzz targets: formatting and lints, then each target for a short fixed time (docs/fuzzing.md).
(cd fuzz && cargo fmt --check && cargo clippy --locked --all-targets -- -D warnings)
scripts/fuzz.sh "${CERTKIT_FUZZ_SECONDS:-30}"
