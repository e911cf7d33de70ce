#!/usr/bin/env bash
# Attachment import of a 1 GiB file: `yaddash attach` side by side with the
# stock `age -r` CLI on the same file, in one run. Throughput (hyperfine) and
# peak RSS (/usr/bin/time -v). Figures go to docs/benchmarks.md.
#
#   scripts/bench-attach.sh [SIZE_MIB]      (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench}
rm -rf "$DIR" && mkdir -p "$DIR"
cargo build --release -q -p yaddash-cli
Y=$(pwd)/target/release/yaddash
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$DIR/input.bin"
printf 'benchmark passphrase\n' > "$DIR/pass"
age-keygen -o "$DIR/key.txt" 2>/dev/null
R=$(age-keygen -y "$DIR/key.txt")
init="rm -rf $DIR/v && $Y --vault $DIR/v --passphrase-file $DIR/pass init --kdf-work-factor 10 >/dev/null && $Y --vault $DIR/v --passphrase-file $DIR/pass person add --name Bench > $DIR/id"
eval "$init"
echo "== throughput: $SIZE_MIB MiB, $(nproc) cores, files in $DIR"
hyperfine --warmup 1 --runs 5 --export-markdown "$DIR/attach.md" \
  --prepare "$init; rm -f $DIR/out.age" \
  -n "yaddash attach (hash + age + padding + fsync)" "$Y --vault $DIR/v --passphrase-file $DIR/pass attach --to \$(cat $DIR/id) $DIR/input.bin" \
  -n "age -r (no fsync)" "age -r $R -o $DIR/out.age $DIR/input.bin" \
  -n "age -r then sync the file" "age -r $R -o $DIR/out.age $DIR/input.bin && sync $DIR/out.age"
echo "== peak RSS"
eval "$init"
/usr/bin/time -v "$Y" --vault "$DIR/v" --passphrase-file "$DIR/pass" attach --to "$(cat "$DIR/id")" "$DIR/input.bin" 2> "$DIR/time-yaddash.txt" >/dev/null
/usr/bin/time -v age -r "$R" -o "$DIR/out.age" "$DIR/input.bin" 2> "$DIR/time-age.txt"
for t in yaddash age; do
  printf '%-8s peak RSS %s KiB, wall %s\n' "$t" \
    "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time-$t.txt")" \
    "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time-$t.txt")"
done
cat "$DIR/attach.md"
rm -rf "$DIR"
