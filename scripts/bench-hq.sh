#!/usr/bin/env bash
# HQ server benchmarks (figures go to docs/benchmarks.md):
#  1. upload throughput on loopback for 1 GiB of bundles, side by side with
#     nginx (Debian package) accepting the same files by WebDAV PUT;
#  2. 500 concurrent devices, one 1 MiB bundle each: p50/p99 latency and the
#     server's peak RSS;
#  3. 2. again with PostgreSQL as the metadata store (started here, loopback).
# Every step prints the load average before and after and whether other
# processes used the cores meanwhile (then its row is marked UNDER LOAD).
#
#   scripts/bench-hq.sh [--total-mib 1024] [--devices 500] [--skip-postgres] [--wait-quiet SECS]
#                       [--throughput-only] [--bins DIR]
# --bins DIR runs DIR/yaddash-hq and DIR/hq-bench instead of building them
# (to compare an earlier build in the same session).
# Needs: nginx, postgresql (Debian packages; installed if missing, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=1024; DEVICES=500; PG=1; WAIT_QUIET=0; ONLY_T=0; BINS=
while [ $# -gt 0 ]; do
  case "$1" in
    --total-mib) TOTAL=$2; shift ;;
    --devices) DEVICES=$2; shift ;;
    --skip-postgres) PG=0 ;;
    --wait-quiet) WAIT_QUIET=$2; shift ;;
    --throughput-only) ONLY_T=1 ;;
    --bins) BINS=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
if [ -n "$BINS" ]; then
  HQ_BIN=$BINS/yaddash-hq; BENCH=$BINS/hq-bench
else
  cargo build -q --release -p yaddash-hq --bin yaddash-hq
  cargo build -q --release -p yaddash-sync --example hq-bench
  TARGET=${CARGO_TARGET_DIR:-target}
  HQ_BIN=$TARGET/release/yaddash-hq
  BENCH=$TARGET/release/examples/hq-bench
fi
WORK=$(mktemp -d /tmp/yaddash-hq-bench.XXXXXX)
cleanup() {
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null || true
  [ -n "${PGBIN:-}" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# Load: every step runs under `measured` (scripts/bench-lib.sh), which marks
# a step UNDER LOAD when the machine was busy; nginx's and PostgreSQL's own
# CPU counts as the step's (PEER_PIDS).
. scripts/bench-lib.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1048576)" GiB"}'), $(uname -r)"

command -v nginx >/dev/null || apt-get install -y -q nginx-light >/dev/null
NPORT=$(free_port)
mkdir -p "$WORK/nginx/root" "$WORK/nginx/tmp"
# nginx workers drop to an unprivileged user when started as root.
chmod 755 "$WORK" "$WORK/nginx"; chmod 777 "$WORK/nginx/root" "$WORK/nginx/tmp"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
error_log $WORK/nginx/error.log;
pid $WORK/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/nginx/root;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
sleep 0.5
PEER_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"

echo "== 1. throughput: $TOTAL MiB of bundles (16 MiB each, 4 uploads in parallel); yaddash-hq fsyncs every chunk and bundle, nginx does not (a second figure adds one sync)"
measured throughput "$BENCH" throughput --hq-bin "$HQ_BIN" --work "$WORK/t" --total-mib "$TOTAL" --bundle-mib 16 --parallel 4 \
  --put-url "http://127.0.0.1:$NPORT/"
rm -rf "$WORK/t"
[ "$ONLY_T" = 1 ] && exit 0

echo "== 2. $DEVICES concurrent devices, 1 MiB bundle each (SQLite)"
measured "concurrent sqlite" "$BENCH" concurrent --hq-bin "$HQ_BIN" --work "$WORK/c" --devices "$DEVICES" --bundle-kib 1024
rm -rf "$WORK/c"

if [ "$PG" = 1 ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PGBIN" ]; then apt-get install -y -q postgresql >/dev/null; PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  mkdir -p "$WORK/pg"; chown postgres "$WORK/pg"
  PPORT=$(free_port)
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
    -o "-h 127.0.0.1 -p $PPORT -k $WORK/pg -c max_connections=300" start >/dev/null
  echo "== 3. $DEVICES concurrent devices, 1 MiB bundle each (PostgreSQL $(basename "$(dirname "$PGBIN")"))"
  YADDASH_HQ_DATABASE_URL="postgres://postgres@127.0.0.1:$PPORT/postgres" \
    PEER_PIDS="$PEER_PIDS $(head -1 "$WORK/pg/data/postmaster.pid")" \
    measured "concurrent postgres" "$BENCH" concurrent --hq-bin "$HQ_BIN" --work "$WORK/p" --devices "$DEVICES" --bundle-kib 1024
fi
