#!/usr/bin/env bash
# Makes the fuzz targets' seed corpora from real certkit output: a CA with its inventory (issued, renewed,
# revoked), server, client and encryption certificates as DER, PEM and bundles, CSRs, compat and modern PFX
# files, encrypted keys, a batch CSV, .cscfg files as certkit edits them, thumbprints as Windows shows them,
# dates and password sources. Passwords are the fuzz targets' own ("fuzz password 0123").
#
# usage: scripts/fuzz-seeds.sh [CORPUS_DIR]     (default fuzz/corpus; one folder per target, made anew)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CORPUS=$(realpath -m "${1:-fuzz/corpus}")
cargo build --workspace --locked --quiet
export PATH="$ROOT/target/debug:$PATH"
export FUZZ_PW="fuzz password 0123"
PASS=(--key-pass env:FUZZ_PW --pfx-pass env:FUZZ_PW)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

for target in cscfg_edit cscfg_network thumbprint certificates csr pfx_read encrypted_key inventory batch_csv dates secret_source pkcs11_uri inspect ca_settings slip39_share backup_file name_constraints crl_file ocsp_request ocsp_window apim_policy kit_record profile_file index_txt; do
  rm -rf "${CORPUS:?}/$target"
  mkdir -p "$CORPUS/$target"
done
seed() { cp "$2" "$CORPUS/$1/$(basename "$2")"; }
seed_text() { printf '%s' "$2" > "$CORPUS/$1/$3"; }

# A CA that issued one of each, renewed and revoked: its inventory has every kind of record.
certkit-ca init --ca pki --cn "Fuzz CA" --key p256 --crl-url http://pki.example.com/ca.crl --ca-pass env:FUZZ_PW >/dev/null
certkit-issue server --ca pki --cn svc.example.com --dns '*.example.com' --ip 10.0.0.4 --out server --key p256 \
  --pfx --pfx-profile modern --ca-pass env:FUZZ_PW "${PASS[@]}" >/dev/null
certkit-issue client --ca pki --cn "Alice Smith" --email alice@example.com --out alice --pfx \
  --ca-pass env:FUZZ_PW "${PASS[@]}" >/dev/null
certkit-issue encryption --self-signed --cn "Data Encryption" --out enc --pfx "${PASS[@]}" >/dev/null
certkit-issue client --ca pki --cn frank --upn frank@contoso.com --sid S-1-5-21-1004336348-1177238915-682003330-1105 \
  --sid-extension --uri https://contoso.com/people/frank --smartcard-logon --out frank --key p256 --pfx \
  --ca-pass env:FUZZ_PW "${PASS[@]}" >/dev/null
printf 'cn,email,upn,sid,uri,out\nBob Jones,bob@example.com,bob@contoso.com,S-1-5-21-1-2-3-1106,urn:x,bob\n"Carol, Jr.",,,,,carol\n' > people.csv
certkit-issue client --ca pki --batch people.csv --out-dir team --key p256 --pfx --ca-pass env:FUZZ_PW \
  --pfx-pass env:FUZZ_PW >/dev/null
certkit-issue renew --ca pki alice.cer --out alice-2 --ca-pass env:FUZZ_PW --key-pass env:FUZZ_PW >/dev/null
certkit-ca revoke --ca pki team/bob.cer --reason keyCompromise >/dev/null
certkit-ca crl --ca pki --ca-pass env:FUZZ_PW >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout req.key -subj "/CN=Dave/O=Contoso" \
  -out dave.csr 2>/dev/null
certkit-issue sign --ca pki --csr dave.csr --profile client --out dave --ca-pass env:FUZZ_PW >/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout rsa-req.key -subj "/CN=Eve" -outform DER -out eve.csr.der 2>/dev/null

seed inventory pki/inventory.jsonl
head -c 2000 pki/inventory.jsonl > inventory-torn.jsonl && seed inventory inventory-torn.jsonl
cp "$ROOT/tests/fixtures/ca-v0.1/inventory.jsonl" inventory-v0.1.jsonl && seed inventory inventory-v0.1.jsonl

for f in pki/ca.cer pki/ca.pem server.cer server.pem alice.pem enc.cer team/carol.pem dave.pem frank.pem; do
  cp "$f" "cert-$(basename "$f")" && seed certificates "cert-$(basename "$f")"
done
cat server.pem pki/ca.pem > bundle.pem && seed certificates bundle.pem
seed certificates pki/ca.crl
certkit-ca crl --ca pki --series 2 --every 30 --out-dir crls --ca-pass env:FUZZ_PW >/dev/null
certkit-ca crl --ca pki --series 1 --every 7 --out-dir crls-pem --pem --ca-pass env:FUZZ_PW >/dev/null
for f in pki/ca.crl crls/*.crl crls-pem/*.crl.pem; do seed crl_file "$f"; done
certkit-ca ocsp --ca pki --series 1 --out-dir ocsp --ca-pass env:FUZZ_PW >/dev/null
for f in ocsp/*.resp; do seed ocsp_window "$f"; done
# Requests: a POST body (first byte even) and a GET path (first byte odd), as openssl makes them.
openssl ocsp -issuer pki/ca.pem -cert alice.pem -no_nonce -reqout alice.req 2>/dev/null
openssl ocsp -issuer pki/ca.pem -cert alice.pem -reqout alice-nonce.req 2>/dev/null
{ printf '\000'; cat alice.req; } > "$CORPUS/ocsp_request/post.der"
{ printf '\000'; cat alice-nonce.req; } > "$CORPUS/ocsp_request/post-nonce.der"
{ printf '\001/ocsp/'; base64 -w0 alice.req; } > "$CORPUS/ocsp_request/get.txt"
{ printf '\001/'; base64 -w0 alice.req | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g'; } > "$CORPUS/ocsp_request/get-encoded.txt"

seed csr dave.csr
certkit-ca init --ca constrained --cn "Constrained CA" --key p256 --permit-dns example.com --exclude-dns \
  secret.example.com --permit-email .example.com --permit-ip 10.0.0.0/8 --exclude-ip 10.9.0.0/16 \
  --ca-pass env:FUZZ_PW >/dev/null
{ printf '\0'; cat constrained/ca.cer; } > constrained.der && seed name_constraints constrained.der
seed_text name_constraints $'example.com\n.example.com\nalice@example.com\n10.0.0.0/8\nfd00::/8' values.txt
seed csr eve.csr.der

seed pfx_read server.pfx   # modern
seed pfx_read alice.pfx    # compat, with the CA
openssl pkcs12 -export -in server.pem -inkey server.key -passin env:FUZZ_PW -passout env:FUZZ_PW -nomac -out nomac.pfx
seed pfx_read nomac.pfx    # no MAC: certkit gives it one in memory

# The CA folder's signed files: a version 2 checkpoint with settings, a token CA's settings.
seed ca_settings pki/checkpoint.json
seed ca_settings pki/ca.json
seed_text ca_settings '{"crl_url":"http://pki.example.com/ca.crl","pkcs11":{"uri":"pkcs11:token=t;object=CA;id=%01","module":"/usr/lib/softhsm/libsofthsm2.so"}}' token-ca.json
seed pfx_read enc.pfx
seed pfx_read team/carol.pfx

seed encrypted_key alice.key
# The same key under cheaper KDFs, as other tools write them: fuzzing a 600,000-round PBKDF2 seed is slow.
openssl pkcs8 -topk8 -in req.key -v2 aes-256-cbc -iter 1000 -passout env:FUZZ_PW -out pbkdf2.key
openssl pkcs8 -topk8 -in req.key -scrypt -scrypt_N 1024 -scrypt_r 8 -scrypt_p 1 -passout env:FUZZ_PW -out scrypt.key
seed encrypted_key pbkdf2.key
seed encrypted_key scrypt.key

seed batch_csv people.csv
printf '\xef\xbb\xbfcn,out\r\nAnn,ann\r\n\r\n' > bom.csv && seed batch_csv bom.csv

cp "$ROOT/examples/ServiceConfiguration.cscfg" example.cscfg
certkit-export cscfg --file example.cscfg --ssl server.cer --ca-cert pki/ca.cer --encryption enc.cer \
  --allow alice.cer --allow team/carol.cer --revocation-check Online >/dev/null
seed cscfg_edit example.cscfg
seed cscfg_edit "$ROOT/tests/fixtures/two-roles.cscfg"
# cscfg_network: a count byte and six bytes per subnet (allow 10.0.0.0/8, deny 10.9.0.0/16), then the file.
seed_network() { { printf '\002\000\012\000\000\000\010\000\012\011\000\000\020'; cat "$1"; } > "$CORPUS/cscfg_network/$2"; }
seed_network example.cscfg example.cscfg
seed_network "$ROOT/tests/fixtures/two-roles.cscfg" two-roles.cscfg
seed_network "$ROOT/tests/fixtures/no-network.cscfg" no-network.cscfg
certkit-export cscfg --file example.cscfg --allow-subnet 100.100.0.0/16 --allow-subnet 2001:db8::/32 >/dev/null
seed_network example.cscfg restricted.cscfg

certkit-export thumbprint alice.cer | cut -d' ' -f1 > plain.txt && seed thumbprint plain.txt
# As the Windows certificate dialog shows it: spaced pairs in lower case after an invisible U+200E.
printf '\xe2\x80\x8e%s' "$(certkit-export thumbprint alice.cer | cut -d' ' -f1 | tr 'A-F' 'a-f' | sed 's/../& /g; s/ $//')" > windows.txt
seed thumbprint windows.txt
seed_text thumbprint "$(certkit-export thumbprint pki/ca.cer server.cer | cut -d' ' -f1 | paste -sd,)" list.txt

seed_text dates 2030-12-31 future
seed_text dates 1999-01-01 past
seed_text dates 9999-12-31 last
seed_text dates 365 days

seed_text secret_source env:CA_PW env
seed_text secret_source file:/secure/ca.pass file
seed_text secret_source fd:3 fd
seed_text secret_source stdin stdin
seed_text secret_source pass:hunter2 pass

seed_text pkcs11_uri "pkcs11:token=certkit-ca;object=MyCA" plain
seed_text pkcs11_uri "pkcs11:token=certkit%20ca;serial=74479927813576d2;object=My%20CA;id=%2C%85%7A%0F?module-path=/usr/lib/softhsm/libsofthsm2.so" full
seed_text pkcs11_uri "pkcs11:object=CA;pin-value=1234" pin

# A key backup and its shares (the shares also seed the share reader).
certkit-ca backup --ca pki --shares 3 --threshold 2 --out backup.key --share-dir shares --ca-pass env:FUZZ_PW >/dev/null
seed backup_file backup.key
for share in shares/*.txt; do seed slip39_share "$share"; done

# SLIP-39 shares: the official test vectors (valid and invalid), one set of shares a file.
python3 - "$ROOT/tests/vectors/slip39-vectors.json" "$CORPUS/slip39_share" <<'PY'
import json, sys
for number, (_, mnemonics, _, _) in enumerate(json.load(open(sys.argv[1])), 1):
    with open(f"{sys.argv[2]}/vector-{number}", "w") as f:
        f.write("\n".join(mnemonics) + "\n")
PY

# A kit with an API Management policy (the tests' fixture) and a kit.json.
cp "$ROOT/tests/fixtures/apim-policy.xml" policy.xml
certkit-export kit --target apim --ca pki --out-dir apim-kit --policy policy.xml >/dev/null 2>&1
seed apim_policy policy.xml
seed apim_policy policy.xml.bak
seed kit_record apim-kit/kit.json

# Profile files: the issue's example (tests/fixtures/profiles/staff.toml) and each built-in profile as a file.
cp "$ROOT/tests/fixtures/profiles/staff.toml" staff.toml
seed profile_file staff.toml
for base in server client encryption; do
  certkit-ca profile show "$base" > "$base.toml"
  seed profile_file "$base.toml"
done

# import reads an openssl ca's index.txt and openssl.cnf: the export of the CA above, and its configuration.
certkit-ca export-index --ca pki --out pki-openssl >/dev/null
seed index_txt pki-openssl/index.txt
seed index_txt pki-openssl/openssl.cnf
seed_text index_txt 'R	290310042745Z	261206042745Z,keyTime,20261201000000Z	02	unknown	/O=Example/CN=k
R	20510101000000Z	261206042745Z,certificateHold,holdInstructionReject	04	unknown	/CN=h
E	210101000000Z		1004	unknown	/CN=old
' forms.txt

# inspect reads every kind of file: the seeds of the other readers, and a CRL.
cp "$CORPUS"/certificates/* "$CORPUS"/pfx_read/* "$CORPUS"/csr/* "$CORPUS"/encrypted_key/* "$CORPUS/inspect/"
seed inspect pki/ca.crl

echo "fuzz-seeds: seeds for $(ls "$CORPUS" | wc -l) targets in $CORPUS"
