#!/usr/bin/env bash
# Renews every client certificate of a CA that expires within N days, writes the new PFX files, and adds the
# new thumbprints to AllowedClientCertificateThumbprints while keeping the old ones (a grace period for people
# to install their new PFX). With --retire, removes the thumbprints of renewed (superseded) certificates.
# With --kit DIR (repeatable), brings each kit certkit-export kit wrote up to date (CRL, allow-list, CA files,
# a renewed server certificate, an API Management policy) and, when one changed, runs --reload CMD (e.g.
# "nginx -s reload"). Safe to run from a scheduled job: a second run right after the first changes nothing.
#
# usage: rotate-client-certs.sh --ca DIR (--cscfg FILE | --kit DIR...) --out-dir DIR [--expiring-within DAYS] [--days N]
#          [--retire] [--reload CMD] [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE]
#          [--pfx-profile compat|modern]
# Password sources as certkit takes them (env:VAR, file:PATH, fd:N, stdin); without one, each renewal asks on
# the terminal (once: one run renews them all). A source given as `stdin` is read once, one line each in the
# order --ca-pass, --key-pass, --pfx-pass.
# Needs jq. Exit codes: 0 done (also when nothing was due), 2 bad input, 1 a certkit step failed.
set -euo pipefail

die() { echo "rotate-client-certs: $*" >&2; exit 2; }
CA= CSCFG= OUT= WITHIN=30 RETIRE=0 PFX_PROFILE=compat RELOAD=
EXTRA=() KITS=()
declare -A SOURCE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ca) CA=$2; shift 2 ;;
    --cscfg) CSCFG=$2; shift 2 ;;
    --out-dir) OUT=$2; shift 2 ;;
    --expiring-within) WITHIN=$2; shift 2 ;;
    --within) WITHIN=$2; shift 2
      echo "rotate-client-certs: note: --within is an old spelling: use --expiring-within" >&2 ;;
    --days) EXTRA+=(--days "$2"); shift 2 ;;
    --retire) RETIRE=1; shift ;;
    --kit) KITS+=("$2"); shift 2 ;;
    --reload) RELOAD=$2; shift 2 ;;
    --pfx-profile) PFX_PROFILE=$2; shift 2 ;;
    --ca-pass|--key-pass|--pfx-pass) SOURCE[$1]=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

# Passwords from stdin are read here, once; the others are passed on as given. The renewals are PFX files only
# (their keys are inside), so --key-pass is only for a kit's server key (kit --refresh --from-pass).
declare -A SECRET=()
for flag in --ca-pass --key-pass --pfx-pass; do
  [ -n "${SOURCE[$flag]:-}" ] || continue
  if [ "${SOURCE[$flag]}" = stdin ]; then
    IFS= read -r line || die "$flag stdin: no line on standard input"
    [ "$flag" = --key-pass ] || SECRET[$flag]=$line
  elif [ "$flag" != --key-pass ]; then
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
[ -n "$CA" ] && [ -n "$OUT" ] || die "--ca and --out-dir are required"
[ -n "$CSCFG" ] || [ ${#KITS[@]} -gt 0 ] || die "give --cscfg FILE or --kit DIR (or both)"
[ -z "$RELOAD" ] || [ ${#KITS[@]} -gt 0 ] || die "--reload runs after a kit changed: give --kit DIR"
[[ "$WITHIN" =~ ^[0-9]+$ ]] || die "--expiring-within takes a number of days"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[ -z "$CSCFG" ] || [ -f "$CSCFG" ] || die "$CSCFG not found"
for kit in "${KITS[@]}"; do [ -f "$kit/kit.json" ] || die "$kit is not a kit (no kit.json); make it with certkit-export kit"; done

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
if [ -z "$CSCFG" ]; then
  :
elif [ ${#args[@]} -gt 0 ]; then
  certkit-export cscfg --file "$CSCFG" "${args[@]}" 2> >(grep -v '^note: ' >&2)
else
  echo "rotate-client-certs: no renewed certificates; $CSCFG unchanged"
fi

# Each kit brought up to date; the reload command once, when a kit changed.
changed=0
for kit in "${KITS[@]}"; do
  kit_extra=()
  # The server key's password opens an existing key: the kit calls it --from-pass.
  [ -n "${SOURCE[--key-pass]:-}" ] && [ "${SOURCE[--key-pass]}" != stdin ] && kit_extra+=(--from-pass "${SOURCE[--key-pass]}")
  [ -n "${SOURCE[--pfx-pass]:-}" ] && [ "${SOURCE[--pfx-pass]}" != stdin ] && kit_extra+=(--pfx-pass "${SOURCE[--pfx-pass]}")
  refreshed=$(certkit-export kit --refresh "$kit" "${kit_extra[@]}" --json)
  jq -r --arg kit "$kit" '.files[] | select(.outcome != "unchanged") | "kit \($kit): \(.outcome) \(.name)"' <<< "$refreshed"
  if jq -e '[.files[] | select(.outcome != "unchanged")] | length > 0' <<< "$refreshed" >/dev/null; then
    changed=1
  fi
done
if [ "$changed" = 1 ] && [ -n "$RELOAD" ]; then
  echo "rotate-client-certs: reloading: $RELOAD"
  bash -c "$RELOAD" || { echo "rotate-client-certs: the reload command failed" >&2; exit 1; }
elif [ ${#KITS[@]} -gt 0 ] && [ "$changed" = 0 ]; then
  echo "rotate-client-certs: every kit is up to date"
fi
