# shellcheck shell=bash
# scripts/bench.sh --records N: the cost of each command on a P-256 CA that holds N records (made with one
# batch) against the same command on a fresh CA (100 records), in the same run on the same machine, and
# `openssl ca` over an index.txt of N lines (and of 100) as the reference. Sourced by scripts/bench.sh, which
# has built the release binaries ($R) and made the working folder (cwd) with ca.pass and pfx.pass.
#
# Every timed command runs RUNS times (each on a certificate of its own where it changes one), alternating
# between the two CAs; means are compared. The page cache is warm for both (the batch just wrote the big CA).

RUNS=5
SMALL=100

fail() { echo "bench: $*" >&2; exit 1; }
# timed LOG CMD...: runs CMD, prints its wall seconds; on failure shows what it printed and stops.
timed() {
  local log=$1; shift
  local t0 t1
  t0=$(now)
  "$@" > "$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
  t1=$(now)
  elapsed "$t0" "$t1"
}
people_named() { # people_named FILE COUNT: cn person0000000 ...
  { echo "cn"; awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "person%07d\n", i }'; } > "$1"
}
cert_of() { printf '%s-out/person%07d.cer' "$1" "$2"; } # cert_of CA ROW

# A CA of `rows` records made by one batch; echoes "wall-seconds peak-KB".
made_ca() { # made_ca CA ROWS
  local ca=$1 rows=$2 t0 t1
  "$R/certkit-ca" init --ca "$ca" --cn "Bench $ca" --key p256 --ca-pass file:ca.pass > /dev/null
  people_named "$ca.csv" "$rows"
  t0=$(now)
  /usr/bin/time -v -o "$ca.batch.time" "$R/certkit-issue" client --ca "$ca" --batch "$ca.csv" --out-dir "$ca-out" \
    --key p256 --pfx --pfx-pass file:pfx.pass --ca-pass file:ca.pass --json > "$ca.batch.json" 2> "$ca.batch.err" \
    || { cat "$ca.batch.err" >&2; fail "the batch of $rows rows failed"; }
  t1=$(now)
  [ -f "$(cert_of "$ca" $((rows - 1)))" ] || fail "the batch of $ca wrote too few certificates"
  echo "$(elapsed "$t0" "$t1") $(maxrss "$ca.batch.time")"
}

echo "certkit bench --records $RECORDS on $(nproc) cores ($(openssl version | cut -d' ' -f1-2))"
echo "making a CA of $RECORDS records (one batch) and one of $SMALL ..."
made=$(made_ca big "$RECORDS")
read -r big_batch big_rss <<< "$made"
made=$(made_ca fresh "$SMALL")
# 50 revoked in each (the CRL's size is that of its revocations, not of what the CA issued).
for ca in big fresh; do
  for ((i = 0; i < 50; i++)); do
    "$R/certkit-ca" revoke --ca "$ca" "$(cert_of "$ca" "$i")" > /dev/null 2>&1 || fail "revoke on $ca"
  done
done
openssl ecparam -name prime256v1 -genkey -noout -out csr.key
openssl req -new -key csr.key -subj "/CN=bench request" -out bench.csr

declare -A mean_of
measure() { # measure NAME CMD-TEMPLATE: the template is eval'ed with $ca (big or fresh) and $i (the run)
  local name=$1 template=$2 ca i
  local -a big_runs=() fresh_runs=()
  for ((i = 0; i < RUNS; i++)); do
    for ca in big fresh; do
      local t
      t=$(eval "timed $ca.$name.log $template")
      if [ "$ca" = big ]; then big_runs+=("$t"); else fresh_runs+=("$t"); fi
    done
  done
  mean_of[$name.big]=$(mean "${big_runs[@]}")
  mean_of[$name.fresh]=$(mean "${fresh_runs[@]}")
}
measure issue '"$R/certkit-issue" client --ca $ca --cn "bench issue $i" --out $ca-issue-$i --key p256 --key-pass file:pfx.pass --ca-pass file:ca.pass'
measure sign '"$R/certkit-issue" sign --ca $ca --csr bench.csr --profile client --out $ca-sign-$i --ca-pass file:ca.pass'
measure renew '"$R/certkit-issue" renew --ca $ca "$(cert_of $ca $((60 + i)))" --out $ca-renew-$i --key p256 --key-pass file:pfx.pass --ca-pass file:ca.pass'
measure revoke '"$R/certkit-ca" revoke --ca $ca "$(cert_of $ca $((70 + i)))"'
measure show '"$R/certkit-ca" show --ca $ca'
for ((i = 0; i < RUNS; i++)); do printf 'cn\nbench batch %s\n' "$i" > "one-$i.csv"; done
measure batch1 '"$R/certkit-issue" client --ca $ca --batch one-$i.csv --out-dir $ca-one-$i --key p256 --pfx --pfx-pass file:pfx.pass --ca-pass file:ca.pass'
measure crl '"$R/certkit-ca" crl --ca $ca --ca-pass file:ca.pass'

list_json=$(timed list.log "$R/certkit-ca" list --ca big --json)
list_first=$(timed list-head.log bash -c "set -o pipefail; \"$R/certkit-ca\" list --ca big | head -1")
audit=$(timed audit.log "$R/certkit-ca" audit --ca big)
report=$(timed report.log "$R/certkit-ca" report --ca big --out big-report.html)
# A CA rollover's plans build the chain of every valid certificate offline (openssl, on every core).
renew_plan=$(timed renew-plan.log "$R/certkit-ca" renew --ca big --plan)
rekey_plan=$(timed rekey-plan.log "$R/certkit-ca" rekey --ca big --plan)
grep -q "valid certificate(s) verify" renew-plan.log || fail "renew --plan did not check the chains"
report_mb=$(awk -v b="$(stat -c %s big-report.html)" 'BEGIN { printf "%.1f", b / 1048576 }')
grep -q . list.log || fail "list printed nothing"

# openssl ca over an index.txt of N lines and of SMALL lines: sign one, revoke one, gencrl; the CA key
# unencrypted, as such setups usually have it (it favours openssl).
openssl pkey -in big/ca.key -passin file:ca.pass -out ca-plain.key
openssl_ca() { # openssl_ca DIR LINES
  local dir=$1
  mkdir -p "$dir/new"
  awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "V\t271127000000Z\t\t%08X%08X\tunknown\t/CN=person%07d\n", i, n - i, i }' \
    > "$dir/index.txt"
  echo "unique_subject = no" > "$dir/index.txt.attr"
  echo 7000000000000001 > "$dir/serial"
  echo 01 > "$dir/crlnumber"
  cat > "$dir/ca.cnf" <<CNF
[ ca ]
default_ca = bench
[ bench ]
dir = $PWD/$dir
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PWD/big/ca.pem
private_key = $PWD/ca-plain.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = anything
unique_subject = no
x509_extensions = client
[ anything ]
commonName = supplied
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
CNF
}
openssl_ca oca-big "$RECORDS"
openssl_ca oca-fresh "$SMALL"
declare -A ossl_runs ossl_mean
for ((i = 0; i < RUNS; i++)); do
  for o in big fresh; do
    ossl_runs[sign.$o]+=" $(timed "oca-$o.sign.log" openssl ca -batch -config "oca-$o/ca.cnf" -in bench.csr -out "oca-$o/$i.pem")"
    ossl_runs[revoke.$o]+=" $(timed "oca-$o.revoke.log" openssl ca -config "oca-$o/ca.cnf" -revoke "oca-$o/$i.pem")"
    ossl_runs[crl.$o]+=" $(timed "oca-$o.crl.log" openssl ca -config "oca-$o/ca.cnf" -gencrl -out "oca-$o/crl.pem")"
  done
done
for key in "${!ossl_runs[@]}"; do
  # shellcheck disable=SC2086 # the runs are a space-separated list
  ossl_mean[$key]=$(mean ${ossl_runs[$key]})
done

verdict() { # verdict BIG FRESH: within 1.2x of fresh plus 50 ms?
  awk -v b="$1" -v f="$2" 'BEGIN { print (b <= 1.2 * f + 0.05) ? "ok" : "MISSED" }'
}
row() { # row NAME LABEL [OPENSSL-KEY]
  local b=${mean_of[$1.big]} f=${mean_of[$1.fresh]} o=${3:-} ob="" of="" vs=""
  if [ -n "$o" ]; then
    ob=${ossl_mean[$o.big]}
    of=${ossl_mean[$o.fresh]}
    vs="$(ratio "$b" "$ob")x"
  fi
  echo "| $2 | $f | $b | $(ratio "$b" "$f")x ($(verdict "$b" "$f")) | $of | $ob | $vs |"
}
cat <<REPORT

Records: a P-256 CA of $RECORDS records made by one batch of $RECORDS rows with compat PFX files ($big_batch s,
peak memory ${big_rss} KB; target <= 65536 KB), against a fresh P-256 CA of $SMALL records; 50 revoked in each.
Means of $RUNS runs, in seconds; "openssl ca" signs with an unencrypted key over an index.txt of $SMALL and of
$RECORDS lines (compare growth, not the fixed cost).

| command | certkit, $SMALL records | certkit, $RECORDS records | $RECORDS / $SMALL (target 1.2x + 50 ms) | openssl ca, $SMALL lines | openssl ca, $RECORDS lines | certkit / openssl ca at $RECORDS |
|---|---|---|---|---|---|---|
$(row issue "certkit-issue client (one)")
$(row sign "certkit-issue sign (one CSR)" sign)
$(row renew "certkit-issue renew (one)")
$(row revoke "certkit-ca revoke" revoke)
$(row show "certkit-ca show")
$(row batch1 "certkit-issue client --batch (one row)")
$(row crl "certkit-ca crl (50-55 revoked)" crl)

certkit-ca list --ca (all $RECORDS) --json:  $list_json s  (target at 100000: <= 1 s)
certkit-ca list | head -1:                  $list_first s
certkit-ca audit ($RECORDS records):         $audit s  (target at 100000: <= 3 s)
certkit-ca renew --plan ($RECORDS records): $renew_plan s, rekey --plan: $rekey_plan s  ($(awk -v r="$renew_plan" -v a="$audit" 'BEGIN { printf "%.2f", r / a }')x the audit: a chain built for every valid certificate)
certkit-ca report --out ($RECORDS records): $report s, $report_mb MB  (target at 100000: <= 2 s; $(awk -v r="$report" -v a="$audit" 'BEGIN { printf "%.2f", r / a }')x the audit, which it runs)
REPORT
