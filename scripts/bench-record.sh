#!/usr/bin/env bash
# Recording cost: an hour of speech encoded (Opus 24 kbit/s CBR mono) and
# encrypted into 30-second age segments, joined into one attachment at the
# end — the same encoder and segment writer as `yaddash record`, fed from a
# file faster than real time (`record --from-raw`) — against `opusenc` on the
# same audio. CPU share of one core and peak RSS from /usr/bin/time, load
# average before and after. Figures go to docs/benchmarks.md.
#
#   scripts/bench-record.sh [MINUTES]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
MINUTES=${1:-60}
DIR=${BENCH_DIR:-/var/tmp/yaddash-bench-record}
rm -rf "$DIR" && mkdir -p "$DIR"
cargo build --release -q -p yaddash-cli
Y=$(pwd)/target/release/yaddash
printf 'benchmark passphrase\n' > "$DIR/pass"
V="$Y --vault $DIR/v --passphrase-file $DIR/pass"
$V init --kdf-work-factor 10 >/dev/null
printf '{"interviewer":"bench","date":"2025-01-01","language":"en","consent":"internal","narrative":"bench"}' > "$DIR/i.json"
ID=$($V --json interview add --file "$DIR/i.json" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
# One minute of speech (espeak-ng reading a paragraph, padded), repeated.
espeak-ng -v en -s 150 -w "$DIR/speech.wav" "$(printf 'My son was taken from our home on the night of the twentieth of November. For two weeks they did not let the lawyer see him. %.0s' 1 2 3 4 5 6 7 8 9 10 11 12)"
sox "$DIR/speech.wav" -r 48000 -c 1 -b 16 "$DIR/minute.wav" pad 0 60 trim 0 60
src() { sox "$DIR/minute.wav" -t "$1" -r 48000 -e signed -b 16 -c 1 - repeat $((MINUTES - 1)); }
echo "== $MINUTES min of audio, $(nproc) cores"
src raw | measured "yaddash record" /usr/bin/time -v -o "$DIR/time-yaddash.txt" $V --json record --to "$ID" --from-raw - > "$DIR/rec.json"
src wav | measured opusenc /usr/bin/time -v -o "$DIR/time-opusenc.txt" opusenc --quiet --bitrate 24 --hard-cbr --framesize 20 - "$DIR/opusenc.opus"
ATT=$(sed -n 's/.*"attachment_id": *"\([^"]*\)".*/\1/p' "$DIR/rec.json")
$V attachment export "$ATT" --out "$DIR/yaddash.ogg" >/dev/null
for t in yaddash opusenc; do
  f="$DIR/time-$t.txt"
  user=$(awk -F': ' '/User time/ {print $2}' "$f"); sys=$(awk -F': ' '/System time/ {print $2}' "$f")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$f")
  secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  cpu=$(echo "$user $sys" | awk '{print $1+$2}')
  printf '%-8s wall %6.1f s  cpu %6.1f s  = %5.2f%% of one core over %d min of audio (%.0fx real time)  peak RSS %s KiB\n' \
    "$t" "$secs" "$cpu" "$(echo "$cpu $MINUTES" | awk '{print 100*$1/($2*60)}')" "$MINUTES" \
    "$(echo "$secs $MINUTES" | awk '{print $2*60/$1}')" "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$f")"
done
printf 'sizes: yaddash .ogg %s bytes, opusenc %s bytes\n' "$(stat -c %s "$DIR/yaddash.ogg")" "$(stat -c %s "$DIR/opusenc.opus")"
opusinfo "$DIR/yaddash.ogg" | grep -E 'Playback length|Average bitrate'
rm -rf "$DIR"
