#!/usr/bin/env bash
# Builds the front end and the release desktop app, then starts it.
# `scripts/dev run` execs this after installing everything.
#
# The vault lives in the platform data directory (~/.local/share/yaddash/vault
# on Linux); set YADDASH_VAULT to use another directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ ! -d ui/node_modules ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi
(cd ui && npm run --silent build)
cargo build --release -p yaddash-app --locked
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/yaddash-app" "$@"
