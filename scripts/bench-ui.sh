#!/usr/bin/env bash
# Desktop app performance (issue 6; figures in docs/benchmarks.md, "Desktop
# app (issue 6)"): the RELEASE app under Xvfb, driven through tauri-driver and
# WebKitWebDriver (same environment as scripts/test-ui.sh), over a prepared
# vault of 10,000 persons and 100,000 interviews:
#   - cold start to the unlock form, unlock to the first list row (BENCH_RUNS runs)
#   - search as you type: keystroke -> list repainted, over >= 100 keystrokes,
#     and the same queries' `search` through yaddash-api in process
#   - scrolling the virtualised persons list through all rows: frame times
#
# Usage: scripts/bench-ui.sh [PERSONS INTERVIEWS]   (default 10000 100000)
# The vault is kept in $BENCH_DIR (default /var/tmp/yaddash-bench-ui) and
# reused when it already holds the same sizes; delete it to rebuild.
# BENCH_NO_BUILD=1 skips the builds (use the release binaries as they are);
# BENCH_SKIP_STARTUP=1 skips the start/unlock runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/bench-lib.sh
PERSONS=${1:-10000}
INTERVIEWS=${2:-100000}
BENCH_DIR=${BENCH_DIR:-/var/tmp/yaddash-bench-ui}
export BENCH_RUNS=${BENCH_RUNS:-7}
export BENCH_QUERIES=${BENCH_QUERIES:-mammadov ilqar|Гусейнов Эмин|huseynov leyla|aliyev rauf|cafarov tofiq|qasimov arif|yaqubov anar|kerimov sahin}

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

if ! command -v tauri-driver >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/tauri-driver" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in node npm cargo Xvfb WebKitWebDriver tauri-driver; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/dev setup"
done

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  log "release build: front end, app, vault preparation tool"
  if [ ! -d ui/node_modules ]; then
    (cd ui && npm ci --no-audit --no-fund)
  fi
  (cd ui && npm run --silent build)
  cargo build --release --locked -p yaddash-app --features test-hooks
  cargo build --release --locked -p yaddash-api --example bench_ui_vault
fi
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
APP_BIN="$TARGET/yaddash-app"
TOOL="$TARGET/examples/bench_ui_vault"

VAULT="$BENCH_DIR/vault-$PERSONS-$INTERVIEWS"
if [ ! -f "$VAULT/vault.db" ]; then
  log "preparing $PERSONS persons and $INTERVIEWS interviews in $VAULT"
  rm -rf "$VAULT"
  mkdir -p "$BENCH_DIR"
  "$TOOL" prepare "$VAULT" "$PERSONS" "$INTERVIEWS"
fi

log "search through yaddash-api in process (no IPC, no rendering)"
IFS='|' read -r -a QUERY_LIST <<<"$BENCH_QUERIES"
measured "search in process" "$TOOL" search "$VAULT" "${QUERY_LIST[@]}"

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

Xvfb -displayfd 3 -screen 0 1200x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
for _ in $(seq 1 50); do
  [ -s "$WORK/display" ] && break
  sleep 0.1
done
[ -s "$WORK/display" ] || { cat "$WORK/xvfb.log" >&2; die "Xvfb did not start"; }
export DISPLAY=":$(head -n1 "$WORK/display")"

export YADDASH_VAULT="$VAULT"
export YADDASH_KDF_WORK_FACTOR=10
export XDG_RUNTIME_DIR="$WORK/xdg-runtime"
export XDG_DATA_HOME="$WORK/xdg-data"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export NO_AT_BRIDGE=1

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
NATIVE_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" >"$WORK/tauri-driver.log" 2>&1 &
PIDS+=($!)

log "the release app under Xvfb ($BENCH_RUNS start/unlock runs, then search and scrolling)"
status=0
YADDASH_APP_BIN="$APP_BIN" WEBDRIVER_URL="http://127.0.0.1:$PORT" \
  measured "the app under Xvfb" timeout 1200 node scripts/bench-ui.mjs || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 60 "$WORK/tauri-driver.log" >&2 || true
  die "benchmark failed"
fi
