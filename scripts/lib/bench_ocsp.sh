# shellcheck shell=bash
# scripts/bench.sh --ocsp N: OCSP at N valid certificates (a P-256 CA made with one batch), in the same run on
# the same machine. Sourced by scripts/bench.sh, which has built the release binaries ($R) and made the
# working folder (cwd) with ca.pass and pfx.pass.
# - Signing: `certkit-ca ocsp --series W` against its bound, N x W ECDSA P-256 signatures on every core
#   (openssl speed -multi, the same machine, the same moment).
# - Serving: `certkit-ca ocsp serve` driven by wrk (POST, one certificate's request, 10 s, 64 connections)
#   against `openssl ocsp -index` as a responder over the same certificates (it signs each response; -multi
#   on every core): responses per second and p99 latency; the responder's memory before and after.

WINDOWS=4
fail() { echo "bench: $*" >&2; exit 1; }
command -v wrk >/dev/null || deps_apt wrk
cores=$(nproc)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$R/certkit-ca" init --ca pki --cn "Bench OCSP" --key p256 --ca-pass file:ca.pass > /dev/null
{ echo "cn"; awk -v n="$OCSP" 'BEGIN { for (i = 0; i < n; i++) printf "person%07d\n", i }'; } > people.csv
# The guide's PFX per person (compat profile): the batch costs seconds per thousand, not minutes.
"$R/certkit-issue" client --ca pki --batch people.csv --out-dir out --key p256 --ca-pass file:ca.pass \
  --pfx --pfx-pass file:pfx.pass > batch.log 2>&1 || { cat batch.log >&2; fail "the batch failed"; }

# Signing against its bound: the bench's series of $WINDOWS windows, then the default series of one window.
signs_per_s=$(openssl speed -seconds 3 -multi "$cores" ecdsap256 2>/dev/null \
  | awk '/^ *256 bits ecdsa \(nistp256\)/ { print $(NF-1) }' | tail -1)
[ -n "$signs_per_s" ] || fail "openssl speed gave no ECDSA P-256 figure"
for windows in "$WINDOWS" 1; do
  t0=$(now)
  "$R/certkit-ca" ocsp --ca pki --out-dir "ocsp-$windows" --series "$windows" --every 7 --ca-pass file:ca.pass \
    --json > ocsp.json 2> ocsp.err || { cat ocsp.err >&2; fail "certkit-ca ocsp failed"; }
  t1=$(now)
  signing=$(elapsed "$t0" "$t1")
  bound=$(awk -v n="$OCSP" -v w="$windows" -v s="$signs_per_s" 'BEGIN { printf "%.3f", n * w / s }')
  echo "OCSP signing, $OCSP certificates x $windows windows: ${signing}s; bound (openssl speed, $cores cores: $signs_per_s signatures/s) ${bound}s; ratio $(ratio "$signing" "$bound")"
done
rm -rf ocsp-1
mv "ocsp-$WINDOWS" ocsp

# Serving: certkit's responder against openssl's.
openssl ocsp -issuer pki/ca.pem -cert out/person0000001.pem -no_nonce -reqout req.der 2>/dev/null
lua_body=$(od -An -v -tx1 req.der | tr -d ' \n' | sed 's/../\\x&/g')
cat > post.lua <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
wrk.body = "$lua_body"
LUA
p1=$(port)
"$R/certkit-ca" ocsp serve --from ocsp --listen "127.0.0.1:$p1" --ca-cert pki/ca.pem 2> /dev/null &
certkit_pid=$!
p2=$(port)
# openssl ca's index: one line per certificate, valid (from certkit-ca list: one process, not one per file).
"$R/certkit-ca" list --ca pki --json | python3 -c '
import json, sys, datetime
for c in json.load(sys.stdin):
    end = datetime.datetime.strptime(c["not_after"], "%Y-%m-%dT%H:%M:%SZ").strftime("%y%m%d%H%M%SZ")
    print("V\t%s\t\t%s\tunknown\t/%s" % (end, c["serial"], c["subject"].replace(", ", "/")))
' > index.txt
openssl pkey -in pki/ca.key -passin file:ca.pass -out ca-plain.key
openssl ocsp -index index.txt -port "$p2" -rsigner pki/ca.pem -rkey ca-plain.key -CA pki/ca.pem \
  -multi "$cores" -ignore_err > openssl-ocsp.log 2>&1 &
openssl_pid=$!
# openssl's -multi children outlive their parent (and spin): stopped with it.
stop_openssl() { pkill -P "$openssl_pid" 2>/dev/null || true; kill "$openssl_pid" 2>/dev/null || true; }
trap 'stop_openssl; kill $certkit_pid 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 2
# Both answer good before they are measured.
for p in "$p1" "$p2"; do
  openssl ocsp -issuer pki/ca.pem -cert out/person0000001.pem -url "http://127.0.0.1:$p/" -CAfile pki/ca.pem \
    -no_nonce 2>&1 | grep -q ': good' || fail "the responder on port $p does not answer good"
done
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
before=$(rss "$certkit_pid")
measure() { # measure PORT: "requests/s p99-ms"
  wrk -t "$cores" -c 64 -d 10s --latency -s post.lua "http://127.0.0.1:$1/" > "wrk-$1.txt"
  awk '
    /^Requests\/sec/ { r = $2 }
    /^ +99%/ {
      v = $2
      if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
      else if (v ~ /ms$/) { sub(/ms$/, "", v) }
      else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
      p = v
    }
    END { printf "%s %.2f\n", r, p }' "wrk-$1.txt"
}
read -r certkit_rps certkit_p99 < <(measure "$p1")
read -r openssl_rps openssl_p99 < <(measure "$p2")
stop_openssl
echo "OCSP serving (wrk, 64 connections, 10 s, $cores cores): certkit-ca ocsp serve $certkit_rps responses/s, p99 ${certkit_p99} ms; openssl ocsp -index $openssl_rps/s, p99 ${openssl_p99} ms; ratio $(ratio "$certkit_rps" "$openssl_rps")"
# Memory: on until the responder has answered at least 1,000,000 requests.
served=$(awk '/requests in/ { print $1 }' "wrk-$p1.txt")
while [ "$served" -lt 1000000 ]; do
  wrk -t "$cores" -c 64 -d 10s -s post.lua "http://127.0.0.1:$p1/" > wrk-more.txt
  more=$(awk '/requests in/ { print $1 }' wrk-more.txt)
  [ "${more:-0}" -gt 0 ] || fail "the responder stopped answering"
  served=$((served + more))
done
after=$(rss "$certkit_pid")
echo "OCSP responder memory: ${before} KiB before, ${after} KiB after $served requests"
