#!/usr/bin/env bash
# Unlock time with the passphrase, with the duress passphrase (which erases
# the vault and opens the decoy) and with a wrong passphrase, side by side in
# one hyperfine run, at the default scrypt work factor (issue 13: a duress
# unlock must take as long as a normal one). Each run gets a fresh copy of
# the vault (--prepare, not timed), since the duress run erases it. The
# command is `yaddash list persons`: unlock, one query, exit. The load
# average before and after comes from `measured` (scripts/bench-lib.sh).
# Figures go to docs/benchmarks.md.
#
#   scripts/bench-duress.sh [RUNS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
RUNS=${1:-10}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench-duress}
rm -rf "$DIR" && mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
cargo build --release -q -p yaddash-cli
Y=$(pwd)/target/release/yaddash
printf 'benchmark passphrase one\n' > "$DIR/pass"
printf 'benchmark duress phrase two\n' > "$DIR/duress"
printf 'benchmark wrong phrase three\n' > "$DIR/wrong"
"$Y" --vault "$DIR/v0" --passphrase-file "$DIR/pass" init >/dev/null
"$Y" --vault "$DIR/v0" --passphrase-file "$DIR/pass" person add --name Bench >/dev/null
"$Y" --vault "$DIR/v0" --passphrase-file "$DIR/pass" duress set --duress-passphrase-file "$DIR/duress" >/dev/null
echo "== unlock at the default work factor, $(nproc) cores"
measured "unlock: passphrase, duress, wrong" hyperfine --runs "$RUNS" --warmup 1 -i \
  --export-markdown "$DIR/unlock.md" \
  --prepare "rm -rf $DIR/v && cp -a $DIR/v0 $DIR/v && sync" \
  -n "passphrase" "$Y --vault $DIR/v --passphrase-file $DIR/pass list persons" \
  -n "duress passphrase (erases the vault, opens the decoy)" "$Y --vault $DIR/v --passphrase-file $DIR/duress list persons" \
  -n "wrong passphrase (refused)" "$Y --vault $DIR/v --passphrase-file $DIR/wrong list persons"
cat "$DIR/unlock.md"
