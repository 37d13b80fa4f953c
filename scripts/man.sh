#!/usr/bin/env bash
# Writes the man pages of the three binaries and every subcommand into man/, from their clap definitions.
# Run it after changing a flag or a help text; tests/tests/man.rs fails while man/ is out of date.
#
# usage: scripts/man.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
deps_build
cargo build --locked --quiet -p certkit-tests --bin certkit-man
rm -f man/*.1
target/debug/certkit-man man
echo "man.sh: $(ls man/*.1 | wc -l) pages in man/ (read one with: man -l man/certkit-ca-init.1)"
