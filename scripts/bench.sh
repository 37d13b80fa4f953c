#!/usr/bin/env bash
# Benchmark: N RSA-2048 client certificates with a compat PFX each, certkit batch vs a shell loop over the
# openssl CLI, against the key-generation bound, plus a P-256 batch and peak memory for N and 10N.
# All runs happen here, now, on this machine; figures are reported as ratios.
#
# usage: scripts/bench.sh [N]   (default 200; the 10N memory run takes about 10x the RSA batch time)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "bench: N must be a positive number" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }

cargo build --release --locked --quiet --workspace
R="$PWD/target/release"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
umask 077
openssl rand -base64 18 > ca.pass
openssl rand -base64 18 > pfx.pass
umask 022

people() { # people.csv with $1 rows
  { echo "cn,email"; for ((i = 0; i < $1; i++)); do echo "Person $i,person$i@example.com"; done; } > "people-$1.csv"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
maxrss() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

"$R/certkit-ca" init --ca ca --cn "Bench CA" --ca-pass file:ca.pass >/dev/null
people "$N"

batch() { # batch KEY ROWS OUTDIR -> time file in $OUTDIR.time
  /usr/bin/time -v -o "$3.time" "$R/certkit-issue" client --ca ca --batch "people-$2.csv" --out-dir "$3" \
    --key "$1" --pfx --pfx-pass file:pfx.pass --ca-pass file:ca.pass > /dev/null
}

echo "certkit bench: N=$N on $(nproc) cores ($(openssl version | cut -d' ' -f1-2))"

mean() { printf '%s\n' "$@" | awk '{ t += $1 } END { printf "%.2f", t / NR }'; }

# RSA key generation time is random (prime search): one 200-key run varies by about 4%, a ratio of two runs by
# about 6%. So the batch and its bound run five times, interleaved, and the means (1000 keys a side) are compared.
batch_times=() bound_times=()
for run in 1 2 3 4 5; do
  rm -rf rsa
  t0=$(now); batch rsa2048 "$N" rsa; t1=$(now)
  batch_times+=("$(elapsed "$t0" "$t1")")
  [ "$(ls rsa/*.pfx | wc -l)" -eq "$N" ] || { echo "bench: certkit wrote too few PFX files" >&2; exit 1; }
  t0=$(now); "$R/certkit-keygen-bound" "$N" rsa2048; t1=$(now)
  bound_times+=("$(elapsed "$t0" "$t1")")
done
certkit_rsa=$(mean "${batch_times[@]}")
keygen=$(mean "${bound_times[@]}")

# The openssl loop gets an unencrypted copy of the CA key, as such loops usually have (it favours openssl).
openssl pkey -in ca/ca.key -passin file:ca.pass -out ca-plain.key
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
  openssl x509 -req -in "loop/$i.csr" -CA ca/ca.pem -CAkey ca-plain.key -CAcreateserial -CAserial loop/serial \
    -days 365 -sha256 -extfile ext.cnf -out "loop/$i.cer" 2>/dev/null
  openssl pkcs12 -export -in "loop/$i.cer" -inkey "loop/$i.key" -name "Person $i" -out "loop/$i.pfx" \
    -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -iter 2000 -passout file:pfx.pass
done
t1=$(now)
openssl_loop=$(elapsed "$t0" "$t1")

t0=$(now); batch p256 "$N" p256; t1=$(now)
certkit_p256=$(elapsed "$t0" "$t1")

people $((N * 10))
batch rsa2048 $((N * 10)) rsa10
rss_n=$(maxrss rsa.time)
rss_10n=$(maxrss rsa10.time)

cat <<REPORT

| run | wall s | per cert ms |
|---|---|---|
| certkit batch, RSA-2048 + compat PFX (mean of ${batch_times[*]}) | $certkit_rsa | $(awk -v t="$certkit_rsa" -v n="$N" 'BEGIN{printf "%.1f", t*1000/n}') |
| openssl CLI loop (genrsa, req, x509 -req, pkcs12) | $openssl_loop | $(awk -v t="$openssl_loop" -v n="$N" 'BEGIN{printf "%.1f", t*1000/n}') |
| key-generation bound, RSA-2048 on all cores (mean of ${bound_times[*]}) | $keygen | $(awk -v t="$keygen" -v n="$N" 'BEGIN{printf "%.1f", t*1000/n}') |
| certkit batch, P-256 + compat PFX | $certkit_p256 | $(awk -v t="$certkit_p256" -v n="$N" 'BEGIN{printf "%.1f", t*1000/n}') |

openssl loop / certkit (RSA):   $(ratio "$openssl_loop" "$certkit_rsa")x  (target >= 4)
certkit / keygen bound (RSA):   $(ratio "$certkit_rsa" "$keygen")x  (target <= 1.15)
openssl loop / certkit (P-256): $(ratio "$openssl_loop" "$certkit_p256")x  (target >= 30)
peak memory, certkit batch: N=$N ${rss_n} KB, 10N=$((N * 10)) ${rss_10n} KB ($(ratio "$rss_10n" "$rss_n")x)
REPORT
