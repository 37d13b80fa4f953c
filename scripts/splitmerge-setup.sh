#!/usr/bin/env bash
# The Split-Merge security guide's whole certificate flow for a new deployment, in one run:
#   a CA (for client authentication), a self-signed SSL certificate, one client certificate per person,
#   a data-encryption certificate, a PFX for each, the CA's .cer, and a ServiceConfiguration.cscfg with
#   every thumbprint filled in.
# Non-interactive when the three passwords come from sources (env:VAR or file:PATH; stdin cannot serve
# several commands); otherwise each certkit command asks on the terminal.
# Every name is checked before anything is made. A run that stops half-way resumes when run again with
# the same options; a finished setup is never run over.
#
# usage: splitmerge-setup.sh --dir DIR --service HOST --people "Name One,Name Two" | --people-file FILE
#          (--cscfg-template FILE | --cscfg FILE) [--ca-cn NAME] [--pfx-profile compat|modern]
#          [--allow-subnet CIDR]... [--ca-pass SOURCE] [--key-pass SOURCE] [--pfx-pass SOURCE]
# --allow-subnet (repeatable) lets only those IP ranges reach the HTTPS endpoint (certkit-export cscfg).
# Exit codes: those of the certkit command that failed (2 bad input, 1 operation failed).
set -euo pipefail

die() { echo "splitmerge-setup: $*" >&2; exit 2; }
DIR= SERVICE= PEOPLE= PEOPLE_FILE= TEMPLATE= CSCFG= CA_CN= PFX_PROFILE=compat
PASS_ARGS=() NET_ARGS=()
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
    --allow-subnet) NET_ARGS+=("$1" "$2"); shift 2 ;;
    --ca-pass|--key-pass|--pfx-pass) PASS_ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
if [ ${#NET_ARGS[@]} -gt 0 ]; then # subnets and the web role checked now, not after the certificates are made
  certkit-export cscfg --file "${TEMPLATE:-$CSCFG}" --dry-run "${NET_ARGS[@]}" > /dev/null
fi

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
  [ -f "$PEOPLE_FILE" ] || die "$PEOPLE_FILE not found"
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}; [ -n "${line// }" ] && people+=("$line")
  done < "$PEOPLE_FILE"
else
  IFS=',' read -r -a people <<< "$PEOPLE"
fi

# Every name is checked before anything is made: a bad name found half-way would leave a CA,
# keys and half the PFX files behind.
names=() slugs=()
for person in "${people[@]}"; do
  person=$(printf '%s' "$person" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
  [ -n "$person" ] || continue
  case "$person" in *[[:cntrl:]]*) die "the name '$(printf '%q' "$person")' holds a control character; remove it" ;; esac
  s=$(slug "$person")
  [ -n "$s" ] || die "cannot make a file name from '$person': use letters or digits in each name"
  for ((i = 0; i < ${#slugs[@]}; i++)); do
    [ "${slugs[i]}" != "$s" ] ||
      die "'${names[i]}' and '$person' would share the file name $s.pfx; make the names differ in letters or digits"
  done
  names+=("$person") slugs+=("$s")
done
[ ${#names[@]} -gt 0 ] || die "no people given"

# A setup that stopped half-way (a wrong password, a full disk, Ctrl-C) resumes when run again with
# the same options: the marker file records them, and each step is skipped once its files are there.
MARKER="$DIR/.splitmerge-setup"
settings=$(printf 'service %s\nca-cn %s\npfx-profile %s\ncscfg %s\npeople %s\n' \
  "$SERVICE" "$CA_CN" "$PFX_PROFILE" "${CSCFG:-template}" "${slugs[*]}")
if [ -f "$MARKER" ]; then
  grep -qx complete "$MARKER" &&
    die "the setup in $DIR is complete; add a person with certkit-issue client --ca $DIR/ca and certkit-export cscfg --allow, or choose a new --dir"
  [ "$(grep -vx complete "$MARKER")" = "$settings" ] ||
    die "$DIR holds an unfinished setup made with other options (see $MARKER); run again with those options, or choose a new --dir"
  echo "Resuming the unfinished setup in $DIR"
elif [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR exists and is not an unfinished setup; choose a new --dir"
else
  mkdir -p "$DIR"
  printf '%s\n' "$settings" > "$MARKER.tmp" && mv -f "$MARKER.tmp" "$MARKER"
fi
mkdir -p "$DIR/upload" "$DIR/clients" "$DIR/keys"
if [ -n "$TEMPLATE" ]; then
  CSCFG="$DIR/ServiceConfiguration.cscfg"
  if [ ! -e "$CSCFG" ]; then
    cp "$TEMPLATE" "$CSCFG.tmp" && mv -f "$CSCFG.tmp" "$CSCFG"
  fi
fi

place() { # move a finished file to where the guide wants it, never over another file
  mv -n "$1" "$2"
  [ ! -e "$1" ] || die "$2 exists already; move it away and run again"
}
finished() { # PREFIX PFX: whether the certificate step that writes PREFIX.* and moves PREFIX.pfx to PFX is done
  if [ -f "$1.cer" ] && [ -f "$2" ]; then return 0; fi
  if [ -f "$1.cer" ] && [ -f "$1.pfx" ]; then place "$1.pfx" "$2"; return 0; fi
  local leftover aside="$DIR/keys/unfinished-$(date +%Y%m%dT%H%M%S)"
  for leftover in "$1".*; do
    [ -e "$leftover" ] || continue
    mkdir -p "$aside" && mv -n "$leftover" "$aside/"
    echo "Moved the unfinished $leftover aside to $aside/"
  done
  return 1
}

mapfile -t CA_PASS < <(pass --ca-pass)
mapfile -t NEW_PASS < <(pass --key-pass --pfx-pass)
mapfile -t ALL_PASS < <(pass --ca-pass --key-pass --pfx-pass)

echo "== 1. CA for client authentication (makecert -r -cy authority)"
[ -f "$DIR/ca/ca.pem" ] || certkit-ca init --ca "$DIR/ca" --cn "$CA_CN" "${CA_PASS[@]}"
[ -f "$DIR/upload/ca.cer" ] || certkit-export cer --in "$DIR/ca/ca.pem" --out "$DIR/upload/ca.cer" >/dev/null

echo "== 2. Self-signed SSL certificate for $SERVICE"
if ! finished "$DIR/keys/ssl" "$DIR/upload/ssl.pfx"; then
  certkit-issue server --self-signed --cn "$SERVICE" --out "$DIR/keys/ssl" --pfx --pfx-profile "$PFX_PROFILE" "${NEW_PASS[@]}"
  place "$DIR/keys/ssl.pfx" "$DIR/upload/ssl.pfx"
fi

echo "== 3. Client certificates, one per person"
allow=()
for ((i = 0; i < ${#names[@]}; i++)); do
  s=${slugs[i]}
  if ! finished "$DIR/keys/client-$s" "$DIR/clients/$s.pfx"; then
    certkit-issue client --ca "$DIR/ca" --cn "${names[i]}" --out "$DIR/keys/client-$s" --pfx --pfx-profile "$PFX_PROFILE" "${ALL_PASS[@]}"
    place "$DIR/keys/client-$s.pfx" "$DIR/clients/$s.pfx"
  fi
  allow+=(--allow "$DIR/keys/client-$s.cer")
done

echo "== 4. Data encryption certificate"
if ! finished "$DIR/keys/encryption" "$DIR/upload/encryption.pfx"; then
  certkit-issue encryption --self-signed --cn "$SERVICE Data Encryption" --out "$DIR/keys/encryption" --pfx --pfx-profile "$PFX_PROFILE" "${NEW_PASS[@]}"
  place "$DIR/keys/encryption.pfx" "$DIR/upload/encryption.pfx"
fi

echo "== 5. Thumbprints into $CSCFG"
certkit-export cscfg --file "$CSCFG" --ssl "$DIR/keys/ssl.cer" --ca-cert "$DIR/upload/ca.cer" \
  --encryption "$DIR/keys/encryption.cer" "${allow[@]}" "${NET_ARGS[@]}"
echo complete >> "$MARKER"

echo
echo "Done. Upload to the cloud service: $DIR/upload/ssl.pfx, $DIR/upload/encryption.pfx and $DIR/upload/ca.cer"
echo "Give each person their PFX from $DIR/clients/ (and its password, out of band)."
echo "Deploy with $CSCFG. Keep $DIR/ca/ca.key and $DIR/keys/ offline."
