# shellcheck shell=bash
# scripts/bench.sh --import N: `certkit-ca import` of an `openssl ca` folder of N certificates against its bound,
# `openssl verify` of the same N certificates on every core (xargs -P, 500 a process): an import reads every
# certificate and checks its signature, so it should cost about what verifying them costs (goal: within 1.5x).
# The folder is a certkit CA of N P-256 client certificates (one batch) written out by `certkit-ca
# export-index`. Sourced by scripts/bench.sh, which built the release binaries ($R) and made the working folder
# (cwd) with ca.pass. Runs alternate; nothing is deleted between them (see bench.sh on ext4's recently_deleted).

RUNS=3
fail() { echo "bench: $*" >&2; exit 1; }
timed() { # timed LOG CMD...: runs CMD, prints its wall seconds
  local log=$1; shift
  local t0 t1
  t0=$(now)
  "$@" > "$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
  t1=$(now)
  elapsed "$t0" "$t1"
}

echo "certkit bench --import $IMPORT on $(nproc) cores ($(openssl version | cut -d' ' -f1-2))"
echo "making a CA of $IMPORT certificates (one batch) and its openssl ca folder ..."
"$R/certkit-ca" init --ca big --cn "Bench import" --key p256 --ca-pass file:ca.pass > /dev/null
{ echo "cn"; awk -v n="$IMPORT" 'BEGIN { for (i = 0; i < n; i++) printf "person%07d\n", i }'; } > big.csv
"$R/certkit-issue" client --ca big --batch big.csv --out-dir big-out --key p256 --pfx --pfx-pass file:pfx.pass \
  --ca-pass file:ca.pass --json > big.batch.json 2> big.batch.err || { cat big.batch.err >&2; fail "the batch failed"; }
"$R/certkit-ca" export-index --ca big --out src > /dev/null
[ "$(find src/newcerts -name '*.pem' | wc -l)" -eq "$IMPORT" ] || fail "the export holds too few certificates"
# --source-pass and --ca-pass each take a line of their own source.
cp ca.pass source.pass

imports=()
verifies=()
for ((i = 0; i < RUNS; i++)); do
  imports+=("$(timed "import-$i.log" "$R/certkit-ca" import --from-openssl-ca src --ca "imported-$i" \
    --source-pass file:source.pass --ca-pass file:ca.pass)")
  verifies+=("$(timed "verify-$i.log" bash -c \
    "find src/newcerts -name '*.pem' | xargs -P $(nproc) -n 500 openssl verify -CAfile src/ca.pem")")
done
grep -q "$IMPORT valid" import-0.log || { cat import-0.log >&2; fail "the import did not bring in $IMPORT certificates"; }
import=$(mean "${imports[@]}")
verify=$(mean "${verifies[@]}")
cat <<REPORT

| what | seconds |
|---|---|
| certkit-ca import, $IMPORT certificates (mean of ${imports[*]}) | $import |
| openssl verify of the same, on $(nproc) cores (mean of ${verifies[*]}) | $verify |

certkit import / openssl verify: $(ratio "$import" "$verify")x  (goal <= 1.5)
REPORT
