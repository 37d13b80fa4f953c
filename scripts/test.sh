#!/usr/bin/env bash
# Builds certkit and runs every test: formatting, lints, unit tests and the integration tests that check
# certkit's files with the openssl CLI, Java keytool and Python cryptography.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "scripts/test.sh: $1 is required ($2)" >&2; exit 1; }; }
need cargo "install Rust with rustup"
need openssl "apt-get install openssl"
need keytool "apt-get install default-jre-headless"
need python3 "apt-get install python3"
python3 -c 'import cryptography' 2>/dev/null || { echo "scripts/test.sh: Python cryptography is required (pip install cryptography)" >&2; exit 1; }
need script "apt-get install bsdutils"
need jq "apt-get install jq (used by scripts/rotate-client-certs.sh)"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The integration tests drive the built binaries, so build them first.
cargo build --workspace --locked
cargo test --workspace --locked
