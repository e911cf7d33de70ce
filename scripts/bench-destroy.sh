#!/usr/bin/env bash
# Quick delete (`yaddash vault destroy --yes`) of a vault holding 1 GiB of
# attachments: how long the crypto-erase takes (every keyslot overwritten,
# synced and removed, then the database heads) and how long the whole
# delete takes, with the load average before and after. Figures go to
# docs/benchmarks.md.
#
#   scripts/bench-destroy.sh [SIZE_MIB] [FILES]      (default 1024 MiB in 8 files)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
SIZE_MIB=${1:-1024}
FILES=${2:-8}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench-destroy}
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
cargo build --release -q -p yaddash-cli
Y=$(pwd)/target/release/yaddash
printf 'benchmark passphrase\n' > "$DIR/pass"
y() { "$Y" --vault "$DIR/v" --passphrase-file "$DIR/pass" "$@"; }
# The scrypt work factor does not matter here: destroy --yes unlocks nothing.
y init --kdf-work-factor 10 >/dev/null
id=$(y person add --name Bench)
for i in $(seq 1 "$FILES"); do
  head -c "$(((SIZE_MIB << 20) / FILES))" /dev/urandom > "$DIR/input.bin"
  y attach --to "$id" "$DIR/input.bin" >/dev/null
done
rm -f "$DIR/input.bin"
sync
echo "== vault: $(du -sh "$DIR/v" | cut -f1) in $(find "$DIR/v" -type f | wc -l) files, $(nproc) cores, $(df -T "$DIR" | awk 'NR==2 {print $2}') on $(df "$DIR" | awk 'NR==2 {print $1}')"
start=$(date +%s.%N)
measured "vault destroy" "$Y" --vault "$DIR/v" --passphrase-file "$DIR/pass" --json vault destroy --yes > "$DIR/report.json"
end=$(date +%s.%N)
echo "crypto-erase: $(jq .crypto_erase_ms "$DIR/report.json") ms; whole delete: $(jq .total_ms "$DIR/report.json") ms; process wall time: $(echo "($end - $start) * 1000" | bc) ms"
echo "left: $(jq -c .left "$DIR/report.json"); vault directory exists afterwards: $([ -e "$DIR/v" ] && echo yes || echo no)"
