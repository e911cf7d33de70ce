#!/usr/bin/env bash
# Fuzzes one target with AFL++ for a set time, on the stable toolchain.
#
#   scripts/fuzz.sh TARGET SECONDS     TARGET: read_bundle age_file receipt trust_file request
#
# Installs cargo-afl (crates.io) on first use and builds AFL++ from the
# source bundled with it (needs a C compiler and make: build-essential).
# Starts from fuzz/corpus/TARGET, works in fuzz/out/TARGET (not committed),
# and at the end prints the run's statistics and copies every crashing or
# hanging input to fuzz/out/TARGET/found/. Once a crash is fixed, copy its
# input into fuzz/corpus/TARGET/ (named crash-WHAT) so that `cargo test`
# replays it from then on. Runs under `nice -n 19`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

targets="read_bundle age_file receipt trust_file request"
target=${1:-}
secs=${2:-}
if [ -z "$target" ] || [ -z "$secs" ] || ! [[ " $targets " == *" $target "* ]] || ! [[ "$secs" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS   (TARGET: $targets)" >&2
  exit 2
fi

if ! cargo afl --version >/dev/null 2>&1; then
  echo "==> installing cargo-afl" >&2
  cargo install cargo-afl --locked
fi
# Builds AFL++ once per toolchain; says so (and does nothing) when it is there.
cargo afl config --build >/dev/null 2>&1 || true

echo "==> building the instrumented harness (fuzz/afl)" >&2
(cd fuzz/afl && nice -n 19 cargo afl build --release --bin "$target")
bin="$ROOT/fuzz/afl/target/release/$target"

out="$ROOT/fuzz/out/$target"
mkdir -p "$out"
# A fresh run each time (the corpus in the repository is the memory).
rm -rf "$out/default"
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export AFL_NO_AFFINITY=1
echo "==> fuzzing $target for ${secs}s" >&2
nice -n 19 cargo afl fuzz -V "$secs" -i "fuzz/corpus/$target" -o "$out" -- "$bin" >"$out/afl.log" 2>&1 || {
  echo "afl-fuzz failed; its output:" >&2
  tail -40 "$out/afl.log" >&2
  exit 1
}

stats="$out/default/fuzzer_stats"
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
mkdir -p "$out/found"
find "$out/default/crashes" "$out/default/hangs" -type f -name 'id:*' -exec cp {} "$out/found/" \; 2>/dev/null || true
echo "target=$target seconds=$(get run_time) execs=$(get execs_done) execs_per_sec=$(get execs_per_sec) corpus=$(get corpus_count) edges=$(get edges_found)/$(get total_edges) crashes=$crashes hangs=$hangs"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
  echo "inputs: $out/found/ (reproduce: $bin < FILE)" >&2
  exit 3
fi
