#!/usr/bin/env bash
# The HQ server's test suite, run against every deployment shape:
#   sqlite    one instance, SQLite metadata, blobs as files (the default);
#   postgres  one instance, PostgreSQL metadata, blobs as files;
#   multi     TWO instances sharing one PostgreSQL and one S3-compatible
#             store (s3s-fs), each with a data directory of its own (only
#             the server key copied), behind a round-robin balancer in the
#             tests (tests/tests/hq_support), one instance killed mid-upload
#             and the upload resumed on the other (hq_crash.rs).
# PostgreSQL (Debian package) and s3s-fs (`cargo install s3s-fs`, from
# scripts/dev setup) are installed if needed and started here on loopback in
# temporary directories, so it works from a fresh CI process tree.
#
#   scripts/test-hq.sh            # all three, CI scale (fault test: 50 devices x 10 bundles)
#   scripts/test-hq.sh --full     # the issue's 200 devices x 10 bundles
#   scripts/test-hq.sh --sqlite | --postgres | --multi   # one shape (may be combined)
set -euo pipefail
cd "$(dirname "$0")/.."

FULL=0
BACKENDS=""
for a in "$@"; do
  case "$a" in
    --full) FULL=1 ;;
    --sqlite) BACKENDS="$BACKENDS sqlite" ;;
    --postgres) BACKENDS="$BACKENDS postgres" ;;
    --multi) BACKENDS="$BACKENDS multi" ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
BACKENDS=${BACKENDS:-sqlite postgres multi}
if [ "$FULL" = 1 ]; then export HQ_FAULT_DEVICES=200 HQ_FAULT_BUNDLES=10; fi

HQ_TESTS=(--test hq_e2e --test hq_hostile --test hq_trust --test hq_revoke --test hq_crash --test hq_retention --test hq_faults)
# One suite or test only, e.g. HQ_ONLY="--test hq_hostile" HQ_FILTER=rates.
if [ -n "${HQ_ONLY:-}" ]; then read -r -a HQ_TESTS <<< "$HQ_ONLY"; fi
if [ -n "${HQ_FILTER:-}" ]; then HQ_TESTS+=("$HQ_FILTER"); fi
# Extra cargo arguments, e.g. HQ_CARGO_ARGS="--release --locked" from scripts/dev
# so that the already built release tree is reused.
read -r -a CARGO_ARGS <<< "${HQ_CARGO_ARGS:-}"

if [[ " $BACKENDS " == *" sqlite "* ]]; then
  echo "== unit tests: yaddash-wire, yaddash-hq (incl. the no-age dependency check), yaddash-sync, yaddash-bundle"
  if [ -z "${HQ_ONLY:-}${HQ_FILTER:-}" ]; then
    cargo test -q "${CARGO_ARGS[@]}" -p yaddash-wire -p yaddash-hq -p yaddash-sync -p yaddash-bundle
  fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PGTMP=""; S3TMP=""; S3PID=""
stop_s3() {
  if [ -n "$S3PID" ]; then kill "$S3PID" 2>/dev/null || true; wait "$S3PID" 2>/dev/null || true; fi
  [ -n "$S3TMP" ] && rm -rf "$S3TMP"
  S3PID=""; S3TMP=""
  unset YADDASH_HQ_TEST_S3_ENDPOINT YADDASH_HQ_TEST_S3_ROOT
}
stop_pg() {
  if [ -n "$PGTMP" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
  PGTMP=""
  unset YADDASH_HQ_TEST_PG_BASE
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi; }
start_pg() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    apt-get install -y -q postgresql >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  PGTMP=$(mktemp -d /tmp/yaddash-pg.XXXXXX)
  PGUSER_OS=postgres
  if [ "$(id -u)" != 0 ]; then PGUSER_OS=$(id -un); fi
  chown "$PGUSER_OS" "$PGTMP"
  local port
  port=$(free_port)
  as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
    -o "-h 127.0.0.1 -p $port -k $PGTMP -c fsync=on -c max_connections=300" start >/dev/null
  trap 'stop_s3; stop_pg' EXIT
  export PATH="$PGBIN:$PATH" PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
  export YADDASH_HQ_TEST_PG_BASE="postgres://postgres@127.0.0.1:$port"
}
# One S3-compatible server (s3s-fs: objects as files under its root, which
# the retention tests look into) with a throw-away key pair, on loopback.
start_s3() {
  local bin port
  bin=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
  if [ ! -x "$bin" ]; then
    echo "s3s-fs is missing: run scripts/dev setup (cargo install s3s-fs)" >&2
    exit 1
  fi
  S3TMP=$(mktemp -d /tmp/yaddash-s3.XXXXXX)
  mkdir -p "$S3TMP/root/yaddash-hq-test"
  port=$(free_port)
  export AWS_ACCESS_KEY_ID=yaddash-test AWS_SECRET_ACCESS_KEY=yaddash-test-secret-key
  "$bin" --host 127.0.0.1 --port "$port" \
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
    "$S3TMP/root" >"$S3TMP/log" 2>&1 &
  S3PID=$!
  for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then break; fi
    sleep 0.1
  done
  export YADDASH_HQ_TEST_S3_ENDPOINT="http://127.0.0.1:$port" YADDASH_HQ_TEST_S3_ROOT="$S3TMP/root"
}

for backend in $BACKENDS; do
  if [ "$backend" = sqlite ]; then
    echo "== HQ story tests: SQLite"
    cargo test -q "${CARGO_ARGS[@]}" -p yaddash-e2e "${HQ_TESTS[@]}"
    continue
  fi

  start_pg
  if [ "$backend" = postgres ]; then
    echo "== HQ story tests: PostgreSQL, one instance"
    cargo test "${CARGO_ARGS[@]}" -p yaddash-e2e "${HQ_TESTS[@]}"
    echo "== listing cursors under concurrent commits: PostgreSQL"
    cargo test "${CARGO_ARGS[@]}" -p yaddash-hq --test cursors
  else
    start_s3
    echo "== HQ story tests: two instances, PostgreSQL + S3-compatible store (s3s-fs)"
    cargo test "${CARGO_ARGS[@]}" -p yaddash-e2e "${HQ_TESTS[@]}"
    stop_s3
  fi
  stop_pg
  trap - EXIT
done
echo "== HQ tests passed on: $BACKENDS"
