#!/usr/bin/env bash
# A virtual microphone for the recording tests (tests/tests/recording.rs,
# scripts/test-ui.sh): a PulseAudio server with a null sink whose monitor is
# the default capture source, so whatever is played to the sink is "heard"
# by ALSA clients (cpal, through libasound2-plugins' `pulse` plugin).
# Works as root (CI): the server runs per XDG_RUNTIME_DIR, no system daemon.
#
#   scripts/virtual-mic.sh start DIR     # DIR becomes XDG_RUNTIME_DIR (mode 0700)
#   scripts/virtual-mic.sh play DIR WAV  # plays WAV into the microphone
#   scripts/virtual-mic.sh stop DIR
#
# Debian packages: pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox opus-tools
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|play|stop DIR [WAV]" >&2; exit 2; }
mkdir -p "$dir" && chmod 700 "$dir"
export XDG_RUNTIME_DIR=$dir
# The server's own state (cookie, databases) stays inside DIR too.
export HOME=$dir PULSE_STATE_PATH=$dir/state PULSE_RUNTIME_PATH=$dir/pulse
unset PULSE_SERVER
case "$cmd" in
  start)
    if ! pactl info >/dev/null 2>&1; then
      # VMIC_IDLE_EXIT: seconds without a client after which the server exits
      # (the tests set it: a test process cannot stop it when it ends).
      pulseaudio --daemonize=yes -n --exit-idle-time="${VMIC_IDLE_EXIT:--1}" \
        --log-target=file:"$dir/pulse.log" \
        -L "module-native-protocol-unix auth-anonymous=1" \
        -L "module-null-sink sink_name=vmic rate=48000 channels=1" \
        -L "module-always-sink" 2>>"$dir/pulse.log" || true
    fi
    for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
    pactl info >/dev/null 2>&1 || { echo "PulseAudio did not start:" >&2; cat "$dir/pulse.log" >&2; exit 1; }
    pactl set-default-sink vmic
    pactl set-default-source vmic.monitor
    ;;
  play) paplay "$3" ;;
  stop) pactl exit 2>/dev/null || pulseaudio -k 2>/dev/null || true ;;
  *) echo "usage: $0 start|play|stop DIR [WAV]" >&2; exit 2 ;;
esac
