#!/usr/bin/env bash
# Attachment import of a 1 GiB file: `yaddash attach` side by side with the
# stock `age -r` CLI on the same file, in one run; then `yaddash vault check`
# of the vault holding it side by side with `age -d` of an age file of the
# same bytes. Throughput (hyperfine) and peak RSS (/usr/bin/time -v). Every
# timed step runs under `measured` (scripts/bench-lib.sh): load average
# before and after, and UNDER LOAD when other processes used the cores.
# Figures go to docs/benchmarks.md.
#
#   scripts/bench-attach.sh [SIZE_MIB]      (default 1024; WAIT_QUIET=SECS waits for a quiet machine)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
SIZE_MIB=${1:-1024}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench}
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
export BENCH_LOAD_LOG=$DIR/load.tsv
cargo build --release -q -p yaddash-cli
Y=$(pwd)/${CARGO_TARGET_DIR:-target}/release/yaddash
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$DIR/input.bin"
printf 'benchmark passphrase\n' > "$DIR/pass"
age-keygen -o "$DIR/key.txt" 2>/dev/null
R=$(age-keygen -y "$DIR/key.txt")
init="rm -rf $DIR/v && $Y --vault $DIR/v --passphrase-file $DIR/pass init --kdf-work-factor 10 >/dev/null && $Y --vault $DIR/v --passphrase-file $DIR/pass person add --name Bench > $DIR/id"
eval "$init"
echo "== import: $SIZE_MIB MiB, $(nproc) cores, files in $DIR"
measured "attach vs age -r" hyperfine --warmup 1 --runs 5 --export-markdown "$DIR/attach.md" \
  --prepare "$init; rm -f $DIR/out.age" \
  -n "yaddash attach (hash + age + padding + fsync)" "$Y --vault $DIR/v --passphrase-file $DIR/pass attach --to \$(cat $DIR/id) $DIR/input.bin" \
  -n "age -r (no fsync)" "age -r $R -o $DIR/out.age $DIR/input.bin" \
  -n "age -r then sync the file" "age -r $R -o $DIR/out.age $DIR/input.bin && sync $DIR/out.age"
echo "== check: the vault holding it vs age -d of the same bytes"
eval "$init"
"$Y" --vault "$DIR/v" --passphrase-file "$DIR/pass" attach --to "$(cat "$DIR/id")" "$DIR/input.bin" >/dev/null
age -r "$R" -o "$DIR/out.age" "$DIR/input.bin"
measured "vault check vs age -d" hyperfine --warmup 1 --runs 5 --export-markdown "$DIR/check.md" \
  -n "yaddash vault check (decrypt + SHA-256 of every attachment)" "$Y --vault $DIR/v --passphrase-file $DIR/pass vault check" \
  -n "age -d" "age -d -i $DIR/key.txt -o /dev/null $DIR/out.age" \
  -n "age -d | sha256sum" "age -d -i $DIR/key.txt $DIR/out.age | sha256sum"
echo "== peak RSS"
eval "$init"
measured "peak RSS attach" /usr/bin/time -v -o "$DIR/time-yaddash.txt" "$Y" --vault "$DIR/v" --passphrase-file "$DIR/pass" attach --to "$(cat "$DIR/id")" "$DIR/input.bin" >/dev/null
measured "peak RSS age" /usr/bin/time -v -o "$DIR/time-age.txt" age -r "$R" -o "$DIR/out.age" "$DIR/input.bin"
for t in yaddash age; do
  printf '%-8s peak RSS %s KiB, wall %s\n' "$t" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time-$t.txt")" \
    "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time-$t.txt")"
done
cat "$DIR/attach.md" "$DIR/check.md"
load_verdicts
