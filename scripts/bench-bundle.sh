#!/usr/bin/env bash
# Export of 1 GiB of attachments as one bundle, side by side in one run with
# the stock pipeline that does the same job: sha256sum of each file,
# tar | age -r, ssh-keygen -Y sign of the result, sync. Then the import of
# that bundle by the coordinator side by side with `age -d` of an age file
# of the same size. Wall time (hyperfine) and peak RSS (/usr/bin/time -v).
# Every timed step runs under `measured` (scripts/bench-lib.sh): load
# average before and after, and UNDER LOAD when other processes used the
# cores. Figures go to docs/benchmarks.md.
#
#   scripts/bench-bundle.sh [FILES] [MIB_EACH]     (default 4 × 256 MiB; WAIT_QUIET=SECS waits for a quiet machine;
#                                                   Y_BEFORE=PATH adds another CLI build's import to the same run;
#                                                   RUNS=N runs each command N times, default 3;
#                                                   KEEP=1 leaves the bench directory behind)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
FILES=${1:-4}
MIB=${2:-256}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bundle-bench}
rm -rf "$DIR" && mkdir -p "$DIR/in"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
export BENCH_LOAD_LOG=$DIR/load.tsv
cargo build --release -q -p yaddash-cli
Y=$(pwd)/${CARGO_TARGET_DIR:-target}/release/yaddash
P="--passphrase-file $DIR/pass"
printf 'benchmark passphrase\n' > "$DIR/pass"
$Y --vault "$DIR/coord0" $P init --role coordinator --kdf-work-factor 10 >/dev/null
$Y --vault "$DIR/coord0" $P trust export --out "$DIR/trust.json" >/dev/null
$Y --vault "$DIR/v0" $P init --kdf-work-factor 10 >/dev/null
$Y --vault "$DIR/v0" $P --json device show > "$DIR/device.json"
$Y --vault "$DIR/coord0" $P device enroll "$DIR/device.json" --label bench >/dev/null
$Y --vault "$DIR/v0" $P trust import "$DIR/trust.json" >/dev/null
ID=$($Y --vault "$DIR/v0" $P person add --name Bench)
for i in $(seq 1 "$FILES"); do
  head -c "$((MIB << 20))" /dev/urandom > "$DIR/in/recording-$i.ogg"
  $Y --vault "$DIR/v0" $P attach --to "$ID" "$DIR/in/recording-$i.ogg" >/dev/null
done
R=$($Y --vault "$DIR/coord0" $P --json device show | python3 -c 'import json,sys; print(json.load(sys.stdin)["age_recipient"])')
ssh-keygen -q -t ed25519 -N '' -f "$DIR/sshkey"
echo "== export of $FILES × $MIB MiB, $(nproc) cores"
measured "bundle export vs stock pipeline" hyperfine --runs "${RUNS:-3}" --export-markdown "$DIR/bundle.md" \
  --prepare "rm -rf $DIR/v $DIR/out.yaddash $DIR/p.age* $DIR/sums && cp -a $DIR/v0 $DIR/v && sync" \
  -n "yaddash bundle export" "$Y --vault $DIR/v $P bundle export --out $DIR/out.yaddash" \
  -n "stock: sha256sum; tar | age -r; ssh-keygen -Y sign; sync" \
  "cd $DIR/in && sha256sum *.ogg > $DIR/sums && tar cf - *.ogg -C $DIR sums | age -r $R > $DIR/p.age && ssh-keygen -q -Y sign -f $DIR/sshkey -n yaddash $DIR/p.age && sync $DIR/p.age"
echo "== peak RSS"
rm -rf "$DIR/v" "$DIR/out.yaddash" && cp -a "$DIR/v0" "$DIR/v"
measured "peak RSS export" /usr/bin/time -v -o "$DIR/time.txt" "$Y" --vault "$DIR/v" $P bundle export --out "$DIR/out.yaddash" >/dev/null
printf 'yaddash bundle export: peak RSS %s KiB, wall %s\n' \
  "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")" \
  "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")"
echo "== import of that bundle ($(stat -c %s "$DIR/out.yaddash") bytes) vs age -d of as many bytes"
age-keygen -o "$DIR/key.txt" 2>/dev/null
(cd "$DIR/in" && tar cf - *.ogg) | age -r "$(age-keygen -y "$DIR/key.txt")" > "$DIR/same.age"
# Y_BEFORE=PATH: another build of the CLI (e.g. before a change) imports the
# same bundle in the same run.
BEFORE=()
if [ -n "${Y_BEFORE:-}" ]; then
  BEFORE=(-n "yaddash bundle import, the build in Y_BEFORE" "$Y_BEFORE --vault $DIR/coord $P bundle import $DIR/out.yaddash")
fi
measured "bundle import vs age -d" hyperfine --warmup 1 --runs "${RUNS:-3}" --export-markdown "$DIR/import.md" \
  --prepare "rm -rf $DIR/coord && cp -a $DIR/coord0 $DIR/coord && sync" \
  -n "yaddash bundle import (verify, decrypt, check hashes, store encrypted, fsync)" "$Y --vault $DIR/coord $P bundle import $DIR/out.yaddash" \
  "${BEFORE[@]}" \
  -n "age -d" "age -d -i $DIR/key.txt -o /dev/null $DIR/same.age"
rm -rf "$DIR/coord" && cp -a "$DIR/coord0" "$DIR/coord" && sync
measured "peak RSS import" /usr/bin/time -v -o "$DIR/time.txt" "$Y" --vault "$DIR/coord" $P bundle import "$DIR/out.yaddash" >/dev/null
printf 'yaddash bundle import: peak RSS %s KiB, wall %s\n' \
  "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")" \
  "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")"
cat "$DIR/bundle.md" "$DIR/import.md"
load_verdicts
