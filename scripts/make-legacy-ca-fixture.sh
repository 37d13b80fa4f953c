#!/usr/bin/env bash
# Rebuilds tests/fixtures/ca-v0.1/: a CA folder written by certkit 0.1 (commit 626ae6b, before the
# tamper-evident inventory), which the upgrade test reads, upgrades and audits.
#
# usage: scripts/make-legacy-ca-fixture.sh [BINDIR]
#   BINDIR holds certkit-ca and certkit-issue built from commit 626ae6b. Without it the script builds that
#   commit in a temporary git worktree (a few minutes).
# The CA password is in tests/fixtures/ca-v0.1.pass (a test fixture, not a secret).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="$ROOT/tests/fixtures/ca-v0.1"
RELEASE=626ae6b

if [ $# -ge 1 ]; then
  BIN=$(cd "$1" && pwd)
else
  TREE=$(mktemp -d)
  trap 'git -C "$ROOT" worktree remove --force "$TREE" >/dev/null 2>&1 || true' EXIT
  git worktree add --detach "$TREE" "$RELEASE" >/dev/null
  (cd "$TREE" && cargo build --locked --quiet --bin certkit-ca --bin certkit-issue)
  BIN="$TREE/target/debug"
fi

WORK=$(mktemp -d)
cd "$WORK"
printf 'fixture ca password\n' > ca.pass
printf 'fixture key password\n' > key.pass
P=(--ca-pass file:ca.pass)
K=(--key-pass file:key.pass)
"$BIN/certkit-ca" init --dir ca --cn "Fixture CA" --crl-url http://pki.example.com/fixture.crl "${P[@]}" >/dev/null
"$BIN/certkit-issue" client --ca ca --cn "Alice Smith" --email alice@example.com --out alice "${P[@]}" "${K[@]}" >/dev/null
"$BIN/certkit-issue" client --ca ca --cn "Bob Jones" --out bob "${P[@]}" "${K[@]}" >/dev/null
"$BIN/certkit-issue" server --ca ca --cn svc.example.com --dns '*.example.com' --ip 10.0.0.4 --out svc "${P[@]}" "${K[@]}" >/dev/null
"$BIN/certkit-issue" encryption --ca ca --cn "Data Encryption" --key p256 --out enc "${P[@]}" "${K[@]}" >/dev/null
"$BIN/certkit-issue" renew --ca ca alice.cer --out alice-2 "${P[@]}" "${K[@]}" >/dev/null
"$BIN/certkit-ca" revoke --dir ca bob.cer --reason keyCompromise >/dev/null
"$BIN/certkit-ca" crl --dir ca "${P[@]}" >/dev/null

rm -rf "$OUT"
mkdir -p "$OUT"
cp -r ca/. "$OUT/"
rm -f "$OUT/.lock"
cp ca.pass "$ROOT/tests/fixtures/ca-v0.1.pass"
rm -rf "$WORK"
echo "wrote $OUT"
