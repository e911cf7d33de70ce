#!/usr/bin/env bash
# Desktop app tests: front-end unit tests (Vitest), the drift tests of the
# command list, then the real app end to end under Xvfb through tauri-driver
# and WebKitWebDriver. Screenshots of every visited screen land in
# target/ui-screenshots/ (CI keeps that folder).
#
# Needs (installed by `scripts/dev setup`): node/npm, Xvfb, xwd and xlogo (x11-apps),
# xdotool, gcore (gdb), WebKitWebDriver (webkit2gtk-driver), tauri-driver
# (cargo install tauri-driver --locked).
#
# tests/ui/panic.test.mjs presses the panic shortcut from another window and
# images the locked app with gcore (ptrace: root, or the same user where the
# kernel's Yama setting allows it); it prints what it found in each process.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

if ! command -v tauri-driver >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/tauri-driver" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in node npm cargo Xvfb xwd xlogo xdotool gcore WebKitWebDriver tauri-driver; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/dev setup"
done

log "front end: install, type check, unit tests, build"
if [ ! -d ui/node_modules ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

# The release build: what `scripts/dev run` starts (devtools off), sharing
# the release tree the Rust tests already built, so CI builds no debug tree.
log "desktop app: drift tests and release build (serves the built ui/dist, no dev server)"
# With the TEST-ONLY `test-hooks` feature: the app then honours
# YADDASH_KDF_WORK_FACTOR (a release build without it ignores the variable).
cargo test --release -p yaddash-app --features test-hooks --locked
cargo build --release -p yaddash-app --features test-hooks --locked
APP_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/yaddash-app"
[ -x "$APP_BIN" ] || die "$APP_BIN was not built"
# The CLI (to issue an enrollment code) and the HQ server (started on
# loopback by the test) for the real network sync.
cargo build --release -p yaddash-cli -p yaddash-hq --locked
CLI_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/yaddash"
HQ_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/yaddash-hq"

SHOTS="$ROOT/target/ui-screenshots"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

log "starting Xvfb"
Xvfb -displayfd 3 -screen 0 1200x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
for _ in $(seq 1 50); do
  [ -s "$WORK/display" ] && break
  sleep 0.1
done
[ -s "$WORK/display" ] || { cat "$WORK/xvfb.log" >&2; die "Xvfb did not start"; }
export DISPLAY=":$(head -n1 "$WORK/display")"

# The app under test: a fresh vault in a temporary directory, and the
# TEST-ONLY low scrypt work factor so unlocking takes milliseconds.
export YADDASH_VAULT="$WORK/vault"
export YADDASH_KDF_WORK_FACTOR=10
# TEST ONLY as well: a lock reloads the page in the same web process instead
# of ending that process (WebKitWebDriver loses its session when it ends);
# tests/ui/panic.test.mjs unsets it for its last app, to measure the real lock.
export YADDASH_TEST_KEEP_WEB_PROCESS=1
export XDG_RUNTIME_DIR="$WORK/xdg-runtime"
export XDG_DATA_HOME="$WORK/xdg-data"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
# Xvfb has no GPU: WebKitGTK's DMA-BUF renderer paints nothing there (and
# WebDriver's screenshot command then hangs), so use the plain one.
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export NO_AT_BRIDGE=1

# The release app runs with the CLI's process hardening (yaddash_os::harden_process):
# read the kernel's view of the real process, and of the WebKit processes it
# starts, from /proc. Debian's default hard core limit is unlimited and its
# umask 022, so both checks fail without the hardening.
log "process hardening of the release app (/proc/PID/limits, /proc/PID/status)"
YADDASH_VAULT="$WORK/hardening-vault" "$APP_BIN" >"$WORK/app-hardening.log" 2>&1 &
APP_PID=$!
PIDS+=("$APP_PID")
# Children come and go (a short-lived helper may exit before it is read):
# check every child alive once the window is up, and need at least one
# WebKit process among them.
hardening_ok=1
checked_children=0
for _ in $(seq 1 100); do
  pgrep -P "$APP_PID" 2>/dev/null | grep -q . && break
  sleep 0.1
done
for _ in 1 2 3 4 5 6 7 8 9 10; do
  sleep 1
  children=$(pgrep -P "$APP_PID" || true)
  for pid in "$APP_PID" $children; do
    limits=$(cat /proc/"$pid"/limits 2>/dev/null) || { echo "  pid $pid exited before it was read" >&2; continue; }
    status=$(cat /proc/"$pid"/status 2>/dev/null) || { echo "  pid $pid exited before it was read" >&2; continue; }
    name=$(awk '/^Name:/ {print $2}' <<<"$status")
    core=$(awk '/^Max core file size/ {print $5, $6}' <<<"$limits")
    mask=$(awk '/^Umask:/ {print $2}' <<<"$status")
    echo "  pid $pid ($name): core limit soft/hard = $core, umask = $mask" >&2
    if [ "$core" != "0 0" ] || [ "$mask" != "0077" ]; then hardening_ok=0; fi
    if [ "$pid" = "$APP_PID" ]; then app_checked=1; else checked_children=$((checked_children + 1)); fi
  done
  [ "$checked_children" -gt 0 ] && break
done
kill "$APP_PID" 2>/dev/null || true
wait "$APP_PID" 2>/dev/null || true
[ "${app_checked:-0}" = 1 ] || { tail -20 "$WORK/app-hardening.log" >&2; die "the app exited before its hardening could be read"; }
[ "$checked_children" -gt 0 ] || { tail -20 "$WORK/app-hardening.log" >&2; die "the app started no WebKit process to check"; }
[ "$hardening_ok" = 1 ] || die "the release app runs without process hardening (core dumps or umask)"

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
NATIVE_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

log "starting tauri-driver on port $PORT"
tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" >"$WORK/tauri-driver.log" 2>&1 &
PIDS+=($!)

log "end-to-end tests"
status=0
YADDASH_APP_BIN="$APP_BIN" YADDASH_CLI_BIN="$CLI_BIN" YADDASH_HQ_BIN="$HQ_BIN" WEBDRIVER_URL="http://127.0.0.1:$PORT" SCREENSHOT_DIR="$SHOTS" \
  timeout 600 node --test --test-concurrency=1 --test-reporter=spec tests/ui/ || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- tauri-driver log (last 60 lines) ---" >&2
  tail -n 60 "$WORK/tauri-driver.log" >&2 || true
  die "desktop app end-to-end tests failed"
fi
log "screenshots: $SHOTS"
ls "$SHOTS" >&2
