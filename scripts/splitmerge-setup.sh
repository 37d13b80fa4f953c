#!/usr/bin/env bash
# The Split-Merge security guide's whole certificate flow for a new deployment, in one run:
#   a CA (for client authentication), a self-signed SSL certificate, one client certificate per person,
#   a data-encryption certificate, a PFX for each, the CA's .cer, and a ServiceConfiguration.cscfg with
#   every thumbprint filled in.
# Non-interactive when the three passwords come from sources (env:VAR or file:PATH; stdin cannot serve
# several commands); otherwise each certkit command asks on the terminal.
#
# usage: splitmerge-setup.sh --dir DIR --service HOST --people "Name One,Name Two" | --people-file FILE
#          (--cscfg-template FILE | --cscfg FILE) [--ca-cn NAME] [--pfx-profile compat|modern]
#          [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE]
# Exit codes: those of the certkit command that failed (2 bad input, 1 operation failed).
set -euo pipefail

die() { echo "splitmerge-setup: $*" >&2; exit 2; }
DIR= SERVICE= PEOPLE= PEOPLE_FILE= TEMPLATE= CSCFG= CA_CN= PFX_PROFILE=compat
PASS_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --service) SERVICE=$2; shift 2 ;;
    --people) PEOPLE=$2; shift 2 ;;
    --people-file) PEOPLE_FILE=$2; shift 2 ;;
    --cscfg-template) TEMPLATE=$2; shift 2 ;;
    --cscfg) CSCFG=$2; shift 2 ;;
    --ca-cn) CA_CN=$2; shift 2 ;;
    --pfx-profile) PFX_PROFILE=$2; shift 2 ;;
    --ca-pass|--key-pass|--pfx-pass) PASS_ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$DIR" ] || die "--dir is required"
[ -n "$SERVICE" ] || die "--service is required (the service's host name, e.g. myservice.cloudapp.net)"
[ -n "$PEOPLE$PEOPLE_FILE" ] || die "--people or --people-file is required"
[ -n "$TEMPLATE$CSCFG" ] || die "--cscfg-template or --cscfg is required"
[ -z "$TEMPLATE" ] || [ -f "$TEMPLATE" ] || die "template $TEMPLATE not found"
[ -z "$CSCFG" ] || [ -f "$CSCFG" ] || die "$CSCFG not found"
CA_CN=${CA_CN:-"$SERVICE CA"}

pass() { # the password-source flags a certkit command takes, from those given
  local flag i
  for flag in "$@"; do
    for ((i = 0; i < ${#PASS_ARGS[@]}; i += 2)); do
      [ "${PASS_ARGS[i]}" = "$flag" ] && printf '%s\n%s\n' "${PASS_ARGS[i]}" "${PASS_ARGS[i+1]}"
    done
  done
}
slug() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//'; }

people=()
if [ -n "$PEOPLE_FILE" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}; [ -n "${line// }" ] && people+=("$line")
  done < "$PEOPLE_FILE"
else
  IFS=',' read -r -a people <<< "$PEOPLE"
fi
[ ${#people[@]} -gt 0 ] || die "no people given"

mkdir -p "$DIR/upload" "$DIR/clients" "$DIR/keys"
if [ -n "$TEMPLATE" ]; then
  CSCFG="$DIR/ServiceConfiguration.cscfg"
  [ ! -e "$CSCFG" ] || die "$CSCFG exists already; use --cscfg $CSCFG to update it"
  cp "$TEMPLATE" "$CSCFG"
fi

mapfile -t CA_PASS < <(pass --ca-pass)
mapfile -t NEW_PASS < <(pass --key-pass --pfx-pass)
mapfile -t ALL_PASS < <(pass --ca-pass --key-pass --pfx-pass)

echo "== 1. CA for client authentication (makecert -r -cy authority)"
certkit-ca init --ca "$DIR/ca" --cn "$CA_CN" "${CA_PASS[@]}"
certkit-export cer --in "$DIR/ca/ca.pem" --out "$DIR/upload/ca.cer" >/dev/null

echo "== 2. Self-signed SSL certificate for $SERVICE"
certkit-issue server --self-signed --cn "$SERVICE" --out "$DIR/keys/ssl" --pfx --pfx-profile "$PFX_PROFILE" "${NEW_PASS[@]}"
mv "$DIR/keys/ssl.pfx" "$DIR/upload/ssl.pfx"

echo "== 3. Client certificates, one per person"
allow=()
for person in "${people[@]}"; do
  person=$(printf '%s' "$person" | sed 's/^ *//; s/ *$//')
  s=$(slug "$person")
  [ -n "$s" ] || die "cannot make a file name from '$person'"
  certkit-issue client --ca "$DIR/ca" --cn "$person" --out "$DIR/keys/client-$s" --pfx --pfx-profile "$PFX_PROFILE" "${ALL_PASS[@]}"
  mv "$DIR/keys/client-$s.pfx" "$DIR/clients/$s.pfx"
  allow+=(--allow "$DIR/keys/client-$s.cer")
done

echo "== 4. Data encryption certificate"
certkit-issue encryption --self-signed --cn "$SERVICE Data Encryption" --out "$DIR/keys/encryption" --pfx --pfx-profile "$PFX_PROFILE" "${NEW_PASS[@]}"
mv "$DIR/keys/encryption.pfx" "$DIR/upload/encryption.pfx"

echo "== 5. Thumbprints into $CSCFG"
certkit-export cscfg --file "$CSCFG" --ssl "$DIR/keys/ssl.cer" --ca-cert "$DIR/upload/ca.cer" \
  --encryption "$DIR/keys/encryption.cer" "${allow[@]}"

echo
echo "Done. Upload to the cloud service: $DIR/upload/ssl.pfx, $DIR/upload/encryption.pfx and $DIR/upload/ca.cer"
echo "Give each person their PFX from $DIR/clients/ (and its password, out of band)."
echo "Deploy with $CSCFG. Keep $DIR/ca/ca.key and $DIR/keys/ offline."
