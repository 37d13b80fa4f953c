#!/usr/bin/env bash
# Renews every client certificate of a CA that expires within N days, writes the new PFX files, and adds the
# new thumbprints to AllowedClientCertificateThumbprints while keeping the old ones (a grace period for people
# to install their new PFX). With --retire, removes the thumbprints of renewed (superseded) certificates.
# Safe to run from a scheduled job: a second run right after the first changes nothing.
#
# usage: rotate-client-certs.sh --ca DIR --cscfg FILE --out-dir DIR [--within DAYS] [--days N] [--retire]
#          [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE] [--pfx-profile compat|modern]
# Password sources as certkit takes them (env:VAR, file:PATH, fd:N, stdin); without one, each renewal asks on
# the terminal. A source given as `stdin` is read once, one line each in the order --ca-pass, --key-pass,
# --pfx-pass, and handed to every renewal.
# Needs jq. Exit codes: 0 done (also when nothing was due), 2 bad input, 1 a certkit step failed.
set -euo pipefail

die() { echo "rotate-client-certs: $*" >&2; exit 2; }
CA= CSCFG= OUT= WITHIN=30 RETIRE=0 PFX_PROFILE=compat
EXTRA=()
declare -A SOURCE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) CA=$2; shift 2 ;;
    --cscfg) CSCFG=$2; shift 2 ;;
    --out-dir) OUT=$2; shift 2 ;;
    --within) WITHIN=$2; shift 2 ;;
    --days) EXTRA+=(--days "$2"); shift 2 ;;
    --retire) RETIRE=1; shift ;;
    --pfx-profile) PFX_PROFILE=$2; shift 2 ;;
    --ca-pass|--key-pass|--pfx-pass) SOURCE[$1]=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

# Passwords from stdin are read here, once; the others are passed on as given.
declare -A SECRET=()
for flag in --ca-pass --key-pass --pfx-pass; do
  [ -n "${SOURCE[$flag]:-}" ] || continue
  if [ "${SOURCE[$flag]}" = stdin ]; then
    IFS= read -r SECRET[$flag] || die "$flag stdin: no line on standard input"
  else
    EXTRA+=("$flag" "${SOURCE[$flag]}")
  fi
done
# A renewal with the stdin passwords, each through a pipe of its own (printf is a shell builtin: the
# password never appears in a process's arguments).
renew() {
  local fds=() fd=3 flag
  for flag in "${!SECRET[@]}"; do
    fd=$((fd + 1))
    fds+=("$flag" "fd:$fd")
  done
  case ${#SECRET[@]} in
    0) certkit-issue renew "$@" ;;
    1) certkit-issue renew "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") ;;
    2) certkit-issue renew "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") \
         5< <(printf '%s\n' "${SECRET[${fds[2]}]}") ;;
    *) certkit-issue renew "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") \
         5< <(printf '%s\n' "${SECRET[${fds[2]}]}") 6< <(printf '%s\n' "${SECRET[${fds[4]}]}") ;;
  esac
}
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
# The list comes in on descriptor 3: standard input stays the user's (for prompts and stdin sources).
while IFS=$'\t' read -r -u 3 serial cn; do
  [ -n "$serial" ] || continue
  slug=$(printf '%s' "$cn" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//')
  prefix="$OUT/${slug:-client}-${serial:0:8}-renewed"
  renew --ca "$CA" "$serial" --out "$prefix" --pfx --pfx-profile "$PFX_PROFILE" "${EXTRA[@]}" --json \
    | jq -r 'if .already_renewed then "already renewed \(.subject): \(.thumbprint)" else "renewed \(.subject): \(.old_thumbprint) -> \(.thumbprint)" end'
  renewed=$((renewed + 1))
done 3<<< "$due"
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
