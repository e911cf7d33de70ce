#!/usr/bin/env bash
# The HQ server's test suite, run against every metadata backend:
# SQLite (the embedded default), then PostgreSQL, which this script installs
# (Debian package) if needed and starts itself on loopback in a temporary
# directory, so it works from a fresh CI process tree.
#
#   scripts/test-hq.sh            # CI scale (fault test: 50 devices x 10 bundles)
#   scripts/test-hq.sh --full     # the issue's 200 devices x 10 bundles
#   scripts/test-hq.sh --sqlite   # SQLite only
set -euo pipefail
cd "$(dirname "$0")/.."

FULL=0
BACKENDS="sqlite postgres"
for a in "$@"; do
  case "$a" in
    --full) FULL=1 ;;
    --sqlite) BACKENDS="sqlite" ;;
    --postgres) BACKENDS="postgres" ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
if [ "$FULL" = 1 ]; then export HQ_FAULT_DEVICES=200 HQ_FAULT_BUNDLES=10; fi

HQ_TESTS=(--test hq_e2e --test hq_hostile --test hq_trust --test hq_revoke --test hq_crash --test hq_retention --test hq_faults)
# Extra cargo arguments, e.g. HQ_CARGO_ARGS="--release --locked" from scripts/dev
# so that the already built release tree is reused.
read -r -a CARGO_ARGS <<< "${HQ_CARGO_ARGS:-}"

if [[ " $BACKENDS " == *" sqlite "* ]]; then
  echo "== unit tests: yaddash-wire, yaddash-hq (incl. the no-age dependency check), yaddash-sync, yaddash-bundle"
  cargo test -q "${CARGO_ARGS[@]}" -p yaddash-wire -p yaddash-hq -p yaddash-sync -p yaddash-bundle
fi

for backend in $BACKENDS; do
  if [ "$backend" = sqlite ]; then
    echo "== HQ story tests: SQLite"
    cargo test -q "${CARGO_ARGS[@]}" -p yaddash-e2e "${HQ_TESTS[@]}"
    continue
  fi

  echo "== HQ story tests: PostgreSQL"
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    apt-get install -y -q postgresql >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  PGTMP=$(mktemp -d /tmp/yaddash-pg.XXXXXX)
  PGUSER_OS=postgres
  if [ "$(id -u)" != 0 ]; then PGUSER_OS=$(id -un); fi
  chown "$PGUSER_OS" "$PGTMP"
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
    -o "-h 127.0.0.1 -p $PORT -k $PGTMP -c fsync=on -c max_connections=300" start >/dev/null
  stop_pg() { as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGTMP"; }
  trap stop_pg EXIT
  export PATH="$PGBIN:$PATH" PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
  export YADDASH_HQ_TEST_PG_BASE="postgres://postgres@127.0.0.1:$PORT"
  cargo test "${CARGO_ARGS[@]}" -p yaddash-e2e "${HQ_TESTS[@]}"
  echo "== listing cursors under concurrent commits: PostgreSQL"
  cargo test "${CARGO_ARGS[@]}" -p yaddash-hq --test cursors
  stop_pg
  trap - EXIT
done
echo "== HQ tests passed on: $BACKENDS"
