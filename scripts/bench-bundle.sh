#!/usr/bin/env bash
# Export of 1 GiB of attachments as one bundle, side by side in one run with
# the stock pipeline that does the same job: sha256sum of each file,
# tar | age -r, ssh-keygen -Y sign of the result. Wall time (hyperfine) and
# peak RSS (/usr/bin/time -v). Figures go to docs/benchmarks.md.
#
#   scripts/bench-bundle.sh [FILES] [MIB_EACH]     (default 4 × 256 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-4}
MIB=${2:-256}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bundle-bench}
rm -rf "$DIR" && mkdir -p "$DIR/in"
cargo build --release -q -p yaddash-cli
Y=$(pwd)/target/release/yaddash
P="--passphrase-file $DIR/pass"
printf 'benchmark passphrase\n' > "$DIR/pass"
$Y --vault "$DIR/coord" $P init --role coordinator --kdf-work-factor 10 >/dev/null
$Y --vault "$DIR/coord" $P trust export --out "$DIR/trust.json" >/dev/null
$Y --vault "$DIR/v0" $P init --kdf-work-factor 10 >/dev/null
$Y --vault "$DIR/v0" $P trust import "$DIR/trust.json" >/dev/null
ID=$($Y --vault "$DIR/v0" $P person add --name Bench)
for i in $(seq 1 "$FILES"); do
  head -c "$((MIB << 20))" /dev/urandom > "$DIR/in/recording-$i.ogg"
  $Y --vault "$DIR/v0" $P attach --to "$ID" "$DIR/in/recording-$i.ogg" >/dev/null
done
R=$($Y --vault "$DIR/coord" $P --json device show | python3 -c 'import json,sys; print(json.load(sys.stdin)["age_recipient"])')
ssh-keygen -q -t ed25519 -N '' -f "$DIR/sshkey"
echo "== export of $FILES × $MIB MiB, $(nproc) cores"
hyperfine --runs 3 --export-markdown "$DIR/bundle.md" \
  --prepare "rm -rf $DIR/v $DIR/out.yaddash $DIR/p.age* $DIR/sums && cp -a $DIR/v0 $DIR/v && sync" \
  -n "yaddash bundle export" "$Y --vault $DIR/v $P bundle export --out $DIR/out.yaddash" \
  -n "stock: sha256sum; tar | age -r; ssh-keygen -Y sign" \
  "cd $DIR/in && sha256sum *.ogg > $DIR/sums && tar cf - *.ogg -C $DIR sums | age -r $R > $DIR/p.age && ssh-keygen -q -Y sign -f $DIR/sshkey -n yaddash $DIR/p.age && sync $DIR/p.age"
echo "== peak RSS"
rm -rf "$DIR/v" "$DIR/out.yaddash" && cp -a "$DIR/v0" "$DIR/v"
/usr/bin/time -v "$Y" --vault "$DIR/v" $P bundle export --out "$DIR/out.yaddash" 2> "$DIR/time.txt" >/dev/null
printf 'yaddash bundle export: peak RSS %s KiB, wall %s\n' \
  "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")" \
  "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")"
cat "$DIR/bundle.md"
rm -rf "$DIR"
