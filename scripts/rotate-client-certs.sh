#!/usr/bin/env bash
# Renews every client certificate of a CA that expires within N days, writes the new PFX files, and adds the
# new thumbprints to AllowedClientCertificateThumbprints while keeping the old ones (a grace period for people
# to install their new PFX). With --retire, removes the thumbprints of renewed (superseded) certificates.
# Safe to run from a scheduled job: a second run right after the first changes nothing.
#
# usage: rotate-client-certs.sh --ca DIR --cscfg FILE --out-dir DIR [--within DAYS] [--days N] [--retire]
#          [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE] [--pfx-profile compat|modern]
# Password sources as certkit takes them (env:VAR, file:PATH, fd:N, stdin); without one, each renewal asks on
# the terminal (once: one run renews them all). A source given as `stdin` is read once, one line each in the
# order --ca-pass, --key-pass, --pfx-pass.
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
# certkit-issue with the stdin passwords, each through a pipe of its own (printf is a shell builtin: the
# password never appears in a process's arguments).
with_secrets() {
  local fds=() fd=3 flag
  for flag in "${!SECRET[@]}"; do
    fd=$((fd + 1))
    fds+=("$flag" "fd:$fd")
  done
  case ${#SECRET[@]} in
    0) certkit-issue "$@" ;;
    1) certkit-issue "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") ;;
    2) certkit-issue "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") \
         5< <(printf '%s\n' "${SECRET[${fds[2]}]}") ;;
    *) certkit-issue "$@" "${fds[@]}" 4< <(printf '%s\n' "${SECRET[${fds[0]}]}") \
         5< <(printf '%s\n' "${SECRET[${fds[2]}]}") 6< <(printf '%s\n' "${SECRET[${fds[4]}]}") ;;
  esac
}
[ -n "$CA" ] && [ -n "$CSCFG" ] && [ -n "$OUT" ] || die "--ca, --cscfg and --out-dir are required"
[[ "$WITHIN" =~ ^[0-9]+$ ]] || die "--within takes a number of days"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[ -f "$CSCFG" ] || die "$CSCFG not found"

# Every valid client certificate that expires within the window, renewed in one run that unlocks the CA once
# (already renewed ones are skipped, revoked ones never renewed; when nothing is due, no password is asked).
report=$(with_secrets renew --ca "$CA" --expiring-within "$WITHIN" --profile client --out-dir "$OUT" \
  --pfx --pfx-profile "$PFX_PROFILE" "${EXTRA[@]}" --json)
jq -r '.rows[] | if .status == "renewed" then "renewed \(.subject): \(.old_thumbprint) -> \(.thumbprint)"
  elif .status == "skipped" then "already renewed \(.subject): \(.thumbprint)"
  else "not renewed \(.subject): revoked" end' <<< "$report"
echo "rotate-client-certs: $(jq .renewed <<< "$report") certificate(s) renewed"

# Every valid renewal is allowed (this also completes a run that stopped between renewing and editing).
valid=$(certkit-ca list --ca "$CA" --json --profile client --status valid)
mapfile -t allow < <(jq -r '.[] | select(.renewal_of != null) | .thumbprint' <<< "$valid")
args=()
for t in "${allow[@]}"; do args+=(--allow "$t"); done
if [ "$RETIRE" = 1 ]; then
  inventory=$(certkit-ca list --ca "$CA" --json --profile client)
  mapfile -t retire < <(jq -r '[.[] | .renewal_of // empty] as $r | .[] | select(.serial as $s | $r | index($s)) | .thumbprint' <<< "$inventory")
  for t in "${retire[@]}"; do args+=(--disallow "$t"); done
fi
if [ ${#args[@]} -gt 0 ]; then
  certkit-export cscfg --file "$CSCFG" "${args[@]}" 2> >(grep -v '^note: ' >&2)
else
  echo "rotate-client-certs: no renewed certificates; $CSCFG unchanged"
fi
