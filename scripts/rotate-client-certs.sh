#!/usr/bin/env bash
# Renews every client certificate of a CA that expires within N days, writes the new PFX files, and adds the
# new thumbprints to AllowedClientCertificateThumbprints while keeping the old ones (a grace period for people
# to install their new PFX). With --retire, removes the thumbprints of renewed (superseded) certificates.
# Safe to run from a scheduled job: a second run right after the first changes nothing.
#
# usage: rotate-client-certs.sh --ca DIR --cscfg FILE --out-dir DIR [--within DAYS] [--days N] [--retire]
#          [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE] [--pfx-profile compat|modern]
# Needs jq. Exit codes: 0 done (also when nothing was due), 2 bad input, 1 a certkit step failed.
set -euo pipefail

die() { echo "rotate-client-certs: $*" >&2; exit 2; }
CA= CSCFG= OUT= WITHIN=30 RETIRE=0 PFX_PROFILE=compat
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) CA=$2; shift 2 ;;
    --cscfg) CSCFG=$2; shift 2 ;;
    --out-dir) OUT=$2; shift 2 ;;
    --within) WITHIN=$2; shift 2 ;;
    --days) EXTRA+=(--days "$2"); shift 2 ;;
    --retire) RETIRE=1; shift ;;
    --pfx-profile) PFX_PROFILE=$2; shift 2 ;;
    --ca-pass|--key-pass|--pfx-pass) EXTRA+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$CA" ] && [ -n "$CSCFG" ] && [ -n "$OUT" ] || die "--ca, --cscfg and --out-dir are required"
[[ "$WITHIN" =~ ^[0-9]+$ ]] || die "--within takes a number of days"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[ -f "$CSCFG" ] || die "$CSCFG not found"
mkdir -p "$OUT"

inventory=$(certkit-ca list --ca "$CA" --json --profile client)
# Due: valid, expiring within the window, and not renewed yet (no certificate names it in renewal_of).
due=$(jq -r --argjson within "$WITHIN" '
  (now + $within * 86400) as $limit
  | [.[] | .renewal_of // empty] as $renewed
  | .[] | select(.status == "valid")
  | select((.not_after | fromdateiso8601) <= $limit)
  | select(.serial as $s | $renewed | index($s) | not)
  | [.serial, .cn] | @tsv' <<< "$inventory")

renewed=0
while IFS=$'\t' read -r serial cn; do
  [ -n "$serial" ] || continue
  slug=$(printf '%s' "$cn" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//')
  prefix="$OUT/$slug-${serial:0:8}-renewed"
  certkit-issue renew --ca "$CA" "$serial" --out "$prefix" --pfx --pfx-profile "$PFX_PROFILE" "${EXTRA[@]}" --json \
    | jq -r '"renewed \(.subject): \(.old_thumbprint) -> \(.thumbprint)"'
  renewed=$((renewed + 1))
done <<< "$due"
echo "rotate-client-certs: $renewed certificate(s) renewed"

# Every valid renewal is allowed (this also completes a run that stopped between renewing and editing).
inventory=$(certkit-ca list --ca "$CA" --json --profile client)
mapfile -t allow < <(jq -r '.[] | select(.status == "valid" and .renewal_of != null) | .thumbprint' <<< "$inventory")
args=()
for t in "${allow[@]}"; do args+=(--allow "$t"); done
if [ "$RETIRE" = 1 ]; then
  mapfile -t retire < <(jq -r '[.[] | .renewal_of // empty] as $r | .[] | select(.serial as $s | $r | index($s)) | .thumbprint' <<< "$inventory")
  for t in "${retire[@]}"; do args+=(--disallow "$t"); done
fi
if [ ${#args[@]} -gt 0 ]; then
  certkit-export cscfg --file "$CSCFG" "${args[@]}" 2> >(grep -v '^note: ' >&2)
else
  echo "rotate-client-certs: no renewed certificates; $CSCFG unchanged"
fi
