#!/usr/bin/env bash
# Benchmark, all runs here and now on this machine, reported as ratios:
# - RSA-2048: a certkit batch of N client certificates with a compat PFX each, against a shell loop over the
#   openssl CLI and against the key-generation bound (N RSA keys on all cores, nothing else);
# - P-256: a batch of 5N with compat PFX, against the same batch with fsync made a no-op (eatmydata), against its
#   compute bound (keys, signatures and PFX files on all cores, nothing written) and, for reference, its
#   key-generation-and-signing bound;
# - peak memory of an RSA batch of N and of 10N.
#
#
# usage: scripts/bench.sh [N]   (default 200; the 10N memory run takes about 10x the RSA batch time)
#
# scripts/bench.sh --records [N]   (default 100000): each command on a P-256 CA of N records against a fresh
# CA and against `openssl ca` (scripts/lib/bench_records.sh). About 2.5 minutes per 100,000 records, and
# about 7 GB of disk per 1,000,000.
#
# scripts/bench.sh --ocsp [N]   (default 100000): OCSP responses signed for N certificates against the
# signature bound, and the responder against `openssl ocsp -index` under wrk (scripts/lib/bench_ocsp.sh).
#
# scripts/bench.sh --import [N]   (default 100000): certkit-ca import of an `openssl ca` folder of N certificates
# against `openssl verify` of the same certificates on every core (scripts/lib/bench_import.sh; goal 1.5x).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=""
OCSP=""
IMPORT=""
if [ "${1:-}" = "--import" ]; then
  IMPORT=${2:-100000}
  [[ "$IMPORT" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --import takes a number of certificates" >&2; exit 2; }
elif [ "${1:-}" = "--ocsp" ]; then
  OCSP=${2:-100000}
  [[ "$OCSP" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --ocsp takes a number of certificates" >&2; exit 2; }
elif [ "${1:-}" = "--records" ]; then
  RECORDS=${2:-100000}
  [[ "$RECORDS" =~ ^[1-9][0-9]*$ ]] && [ "$RECORDS" -ge 200 ] \
    || { echo "bench: --records takes a number of records, at least 200" >&2; exit 2; }
else
  N=${1:-200}
  [[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "bench: N must be a positive number, or --records N" >&2; exit 2; }
fi
. scripts/lib/deps.sh
deps_build
missing=()
command -v /usr/bin/time >/dev/null || missing+=(time)
command -v eatmydata >/dev/null || missing+=(eatmydata)
deps_apt "${missing[@]}"

cargo build --release --locked --quiet --workspace
ROOT=$PWD
R="$PWD/target/release"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
umask 077
openssl rand -base64 18 > ca.pass
openssl rand -base64 18 > pfx.pass
umask 022

people() { # people-$1.csv with $1 rows
  { echo "cn,email"; for ((i = 0; i < $1; i++)); do echo "Person $i,person$i@example.com"; done; } > "people-$1.csv"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mean() { printf '%s\n' "$@" | awk '{ t += $1 } END { printf "%.3f", t / NR }'; }
maxrss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }
if [ -n "$RECORDS" ]; then
  . "$ROOT/scripts/lib/bench_records.sh"
  exit 0
fi
if [ -n "$OCSP" ]; then
  . "$ROOT/scripts/lib/bench_ocsp.sh"
  exit 0
fi
if [ -n "$IMPORT" ]; then
  . "$ROOT/scripts/lib/bench_import.sh"
  exit 0
fi
P=$((N * 5))
# Every run writes into folders of its own and nothing is deleted before the end: ext4 skips inodes freed in the
# last minutes when it allocates new ones (find_inode_bit -> recently_deleted), so deleting thousands of files
# right before a run would make that run pay for it (seen here: 2-3x, with or without fsync).
fresh_ca() { # fresh_ca DIR KEY
  "$R/certkit-ca" init --ca "$1" --cn "Bench CA" --key "$2" --ca-pass file:ca.pass >/dev/null
}
batch() { # batch CA KEY ROWS OUTDIR [PREFIX...]: prints the wall seconds
  local ca=$1 key=$2 rows=$3 out=$4; shift 4
  local t0 t1
  t0=$(now)
  /usr/bin/time -v -o "$out.time" "$@" "$R/certkit-issue" client --ca "$ca" --batch "people-$rows.csv" \
    --out-dir "$out" --key "$key" --pfx --pfx-pass file:pfx.pass --ca-pass file:ca.pass > /dev/null
  t1=$(now)
  [ "$(ls "$out"/*.pfx | wc -l)" -eq "$rows" ] || { echo "bench: certkit wrote too few PFX files" >&2; exit 1; }
  elapsed "$t0" "$t1"
}

echo "certkit bench: N=$N on $(nproc) cores ($(openssl version | cut -d' ' -f1-2))"
people "$N"
people "$P"
fresh_ca rsa-ca rsa2048

# Key generation and disk flushes vary from run to run (RSA prime search; other writers on the disk), so each
# measurement runs several times (RSA seven, P-256 five), interleaved with its references, and means are compared.
rsa=() rsa_bound=() rsa_compute=() p256=() p256_nosync=() p256_bound=()
for run in 1 2 3 4 5 6 7; do
  rsa+=("$(batch rsa-ca rsa2048 "$N" "rsa-$run")")
  rsa_bound+=("$("$R/certkit-bench-bound" "$N" rsa2048 keygen)")
  rsa_compute+=("$("$R/certkit-bench-bound" "$N" rsa2048 compute)")
  [ "$run" -le 5 ] || continue
  fresh_ca "p256-ca-$run" p256
  p256+=("$(batch "p256-ca-$run" p256 "$P" "p256-$run")")
  fresh_ca "p256-nosync-ca-$run" p256
  p256_nosync+=("$(batch "p256-nosync-ca-$run" p256 "$P" "p256-nosync-$run" eatmydata)")
  p256_bound+=("$("$R/certkit-bench-bound" "$P" p256 compute)")
done
p256_sign=$("$R/certkit-bench-bound" "$P" p256 sign)
certkit_rsa=$(mean "${rsa[@]}")
keygen=$(mean "${rsa_bound[@]}")
compute_rsa=$(mean "${rsa_compute[@]}")
certkit_p256=$(mean "${p256[@]}")
nosync_p256=$(mean "${p256_nosync[@]}")
compute_p256=$(mean "${p256_bound[@]}")

# The openssl loop gets an unencrypted copy of the CA key, as such loops usually have (it favours openssl).
openssl pkey -in rsa-ca/ca.key -passin file:ca.pass -out ca-plain.key
cat > ext.cnf <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
mkdir -p loop
t0=$(now)
for ((i = 0; i < N; i++)); do
  openssl genrsa -out "loop/$i.key" 2048 2>/dev/null
  openssl req -new -key "loop/$i.key" -subj "/CN=Person $i" -out "loop/$i.csr"
  openssl x509 -req -in "loop/$i.csr" -CA rsa-ca/ca.pem -CAkey ca-plain.key -CAcreateserial \
    -CAserial loop/serial -days 365 -sha256 -extfile ext.cnf -out "loop/$i.cer" 2>/dev/null
  openssl pkcs12 -export -in "loop/$i.cer" -inkey "loop/$i.key" -name "Person $i" -out "loop/$i.pfx" \
    -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -iter 2000 -passout file:pfx.pass
done
t1=$(now)
openssl_loop=$(elapsed "$t0" "$t1")

people $((N * 10))
batch rsa-ca rsa2048 $((N * 10)) rsa10 > /dev/null
rss_n=$(maxrss rsa-7.time)
rss_10n=$(maxrss rsa10.time)

per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f", t * 1000 / n }'; }
cat <<REPORT

| run | wall s | per cert ms |
|---|---|---|
| certkit batch, RSA-2048 + compat PFX, N=$N (mean of ${rsa[*]}) | $certkit_rsa | $(per "$certkit_rsa" "$N") |
| openssl CLI loop (genrsa, req, x509 -req, pkcs12), N=$N | $openssl_loop | $(per "$openssl_loop" "$N") |
| key-generation bound, RSA-2048 on all cores (mean of ${rsa_bound[*]}) | $keygen | $(per "$keygen" "$N") |
| compute bound, RSA-2048: keys, signatures, PFX files, nothing written (mean of ${rsa_compute[*]}) | $compute_rsa | $(per "$compute_rsa" "$N") |
| certkit batch, P-256 + compat PFX, $P (mean of ${p256[*]}) | $certkit_p256 | $(per "$certkit_p256" "$P") |
| the same with fsync a no-op (eatmydata) (mean of ${p256_nosync[*]}) | $nosync_p256 | $(per "$nosync_p256" "$P") |
| compute bound, P-256: keys, signatures, PFX files, nothing written (mean of ${p256_bound[*]}) | $compute_p256 | $(per "$compute_p256" "$P") |
| key-generation-and-signing bound, P-256 (no PFX) | $p256_sign | $(per "$p256_sign" "$P") |

openssl loop / certkit (RSA):          $(ratio "$openssl_loop" "$certkit_rsa")x  (target >= 4)
certkit / key-generation bound (RSA):  $(ratio "$certkit_rsa" "$keygen")x  (target <= 1.10)
certkit / compute bound (RSA):         $(ratio "$certkit_rsa" "$compute_rsa")x
certkit / eatmydata (P-256):           $(ratio "$certkit_p256" "$nosync_p256")x  (target <= 1.25)
certkit / compute bound (P-256):       $(ratio "$certkit_p256" "$compute_p256")x  (target <= 1.5)
openssl loop / certkit (P-256, per certificate): $(ratio "$(per "$openssl_loop" "$N")" "$(per "$certkit_p256" "$P")")x
peak memory, certkit batch: N=$N ${rss_n} KB, 10N=$((N * 10)) ${rss_10n} KB ($(ratio "$rss_10n" "$rss_n")x)
REPORT
