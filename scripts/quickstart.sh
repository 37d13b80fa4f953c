#!/usr/bin/env bash
# Builds certkit and runs the Split-Merge guide's whole certificate flow on a demo deployment in
# ./pki-demo/deployment, with no questions: demo passwords are generated into pki-demo/passwords/ (mode 0600).
# Run it again to start a fresh demo (the previous ./pki-demo is removed; only a folder made by this script is).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
deps_build

cargo build --locked --quiet
BIN="$PWD/target/debug"
DEMO="$PWD/pki-demo"

if [ -e "$DEMO" ]; then
  if [ -f "$DEMO/.certkit-demo" ]; then
    rm -rf "$DEMO"
  else
    echo "quickstart: $DEMO exists and was not made by this script; move it away first" >&2
    exit 1
  fi
fi
mkdir -p "$DEMO/passwords"
touch "$DEMO/.certkit-demo"
chmod 700 "$DEMO/passwords"
umask 077
for name in ca key pfx; do
  # Demo passwords only: a real deployment types its own at the prompts or keeps them in a secret store.
  openssl rand -base64 18 > "$DEMO/passwords/$name.txt"
done
umask 022

PATH="$BIN:$PATH" exec scripts/splitmerge-setup.sh \
  --dir "$DEMO/deployment" \
  --service "certkit-demo.cloudapp.net" \
  --people "Alice Smith,Bob Jones" \
  --cscfg-template examples/ServiceConfiguration.cscfg \
  --allow-subnet 100.100.0.0/16 \
  --ca-pass "file:$DEMO/passwords/ca.txt" \
  --key-pass "file:$DEMO/passwords/key.txt" \
  --pfx-pass "file:$DEMO/passwords/pfx.txt"
