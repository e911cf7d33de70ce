#!/usr/bin/env bash
# The public report of a register of 10,000 prisoners through the real CLI:
# `yaddash register export --level public` to CSV, HTML and PDF (and Uwazi,
# ESF), wall time with hyperfine and peak RSS with /usr/bin/time -v. Each
# run opens the vault, decrypts and reads every record, builds the register
# at the public level and writes the file. Figures go to docs/benchmarks.md.
#
#   scripts/bench-register.sh [DETAINEES]      (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
N=${1:-10000}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench-register}
TARGET=${CARGO_TARGET_DIR:-target}
rm -rf "$DIR"
cargo build --release -q -p yaddash-cli
cargo bench -q -p yaddash-register --bench report -- prepare "$DIR" "$N"
Y="$TARGET/release/yaddash --vault $DIR/vault --passphrase-file $DIR/passphrase"
export_cmd() { echo "$Y register export --level public --format $1 --out $DIR/report.$1"; }
echo "== $N detainees, $(nproc) cores, files in $DIR"
measured "register export" hyperfine --warmup 1 --runs 5 --export-markdown "$DIR/report.md" \
  -n csv "$(export_cmd csv)" \
  -n html "$(export_cmd html)" \
  -n pdf "$(export_cmd pdf)" \
  -n uwazi "$(export_cmd uwazi)" \
  -n esf "$(export_cmd esf)"
echo "== peak RSS and output size"
for f in csv html pdf uwazi esf; do
  measured "peak RSS $f" /usr/bin/time -v -o "$DIR/time-$f.txt" $(export_cmd "$f") >/dev/null
  printf '%-6s peak RSS %s KiB, wall %s, %s bytes\n' "$f" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time-$f.txt")" \
    "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time-$f.txt")" \
    "$(stat -c %s "$DIR/report.$f")"
done
if command -v pdfinfo >/dev/null; then pdfinfo "$DIR/report.pdf" | grep -E '^Pages'; fi
echo "== stages in process"
measured "stages in process" cargo bench -q -p yaddash-register --bench report -- time "$DIR"
cat "$DIR/report.md"
