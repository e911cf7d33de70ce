#!/usr/bin/env bash
# Install test of the Debian packages, as a person installing them would:
#
#   1. scripts/package.sh builds dist/ (reusing the release binaries of the test
#      run; only the app is rebuilt without its test hooks) and signs SHA256SUMS;
#   2. the README's verification procedure accepts it, and refuses a changed
#      checksum list and a changed package;
#   3. dpkg -i the three packages;
#   4. the installed `yaddash`: --version, a vault created, a person added and listed;
#   5. the installed `yaddash-hq`: initialised as its service user, started by
#      systemd if it runs here, else with the unit's own ExecStart command line as
#      the service user; a field vault enrolls against it with the installed CLI
#      and syncs one bundle;
#   6. the installed app under Xvfb (tauri-driver): its first run in en, az, ru,
#      screenshots in target/install-screenshots/;
#   7. dpkg -r, then dpkg -P of the server: the vault and /var/lib/yaddash-hq are
#      still there and still open.
#
# Needs root (it installs packages); elsewhere it says SKIPPED. It refuses to run
# on a machine where the packages, the yaddash-hq user or /var/lib/yaddash-hq
# already exist (a real server's data is never touched), and removes only what
# it created.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }
PASSED=0
ok() { PASSED=$((PASSED + 1)); echo "  ok: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install test SKIPPED: it installs packages and needs root (CI runs as root)" >&2
  exit 0
fi
if ! command -v tauri-driver >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/tauri-driver" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in dpkg runuser ssh-keygen sha256sum node Xvfb xwd WebKitWebDriver tauri-driver; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/dev setup"
done
for p in yaddash yaddash-cli yaddash-hq; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
    die "the package $p is installed on this machine: the install test needs a machine without it"
  fi
done
if getent passwd yaddash-hq >/dev/null || [ -e /var/lib/yaddash-hq ]; then
  die "the yaddash-hq user or /var/lib/yaddash-hq exists: the install test never touches a server's data"
fi

log "packages (scripts/package.sh)"
scripts/package.sh
DIST="$ROOT/dist"
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml)
ARCH=$(dpkg --print-architecture)
DEBS=("$DIST/yaddash_${VERSION}_${ARCH}.deb" "$DIST/yaddash-cli_${VERSION}_${ARCH}.deb" "$DIST/yaddash-hq_${VERSION}_${ARCH}.deb")
for d in "${DEBS[@]}"; do [ -f "$d" ] || die "$d was not built"; done

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
INSTALLED=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$INSTALLED" = 1 ]; then
    [ -d /run/systemd/system ] && systemctl stop yaddash-hq 2>/dev/null
    dpkg -P yaddash yaddash-cli yaddash-hq >/dev/null 2>&1 || true
    # Created by this test (it refused to start when they existed).
    rm -rf /var/lib/yaddash-hq
    userdel yaddash-hq 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "the README's verification procedure"
verify() { # dir -> status of ssh-keygen -Y verify && sha256sum --check
  (
    cd "$1"
    echo "release@yaddash.org namespaces=\"release@yaddash.org\" $(cut -d' ' -f1,2 yaddash-release.pub)" >allowed_signers
    ssh-keygen -Y verify -f allowed_signers -I release@yaddash.org -n release@yaddash.org \
      -s SHA256SUMS.sig <SHA256SUMS && sha256sum --check SHA256SUMS
  ) >"$WORK/verify.log" 2>&1
}
cp -a "$DIST" "$WORK/good"
verify "$WORK/good" || { cat "$WORK/verify.log" >&2; die "the signed release does not verify"; }
grep -q 'Good "release@yaddash.org" signature' "$WORK/verify.log" || die "no good signature: $(cat "$WORK/verify.log")"
ok "signature and checksums verify"
cp -a "$DIST" "$WORK/sums"
# Change the first hex digit to another one (to 0, or from 0 to 1).
sed -i '1{s/^0/1/;t;s/^./0/}' "$WORK/sums/SHA256SUMS"
if verify "$WORK/sums"; then die "a changed SHA256SUMS verified"; fi
ok "a changed SHA256SUMS is refused ($(grep -m1 -i 'verif\|signature' "$WORK/verify.log"))"
cp -a "$DIST" "$WORK/deb"
printf 'x' >>"$WORK/deb/yaddash-cli_${VERSION}_${ARCH}.deb"
if verify "$WORK/deb"; then die "a changed package verified"; fi
grep -q 'yaddash-cli.*FAILED' "$WORK/verify.log" || die "sha256sum did not name the changed package: $(cat "$WORK/verify.log")"
ok "a changed package is refused"

log "dpkg -i"
INSTALLED=1
dpkg -i "${DEBS[@]}" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; die "dpkg -i failed"; }
for f in /usr/bin/yaddash /usr/bin/yaddash-hq /usr/bin/yaddash-app /lib/systemd/system/yaddash-hq.service \
  /etc/yaddash-hq/hq.toml /usr/share/applications/Yaddash.desktop; do
  [ -e "$f" ] || die "$f is not installed"
done
ok "three packages installed ($(dpkg-query -W -f='${Package} ${Version}, ' yaddash yaddash-cli yaddash-hq))"

log "the installed CLI"
/usr/bin/yaddash --version | grep -qx "yaddash $VERSION" || die "yaddash --version: $(/usr/bin/yaddash --version)"
PASS="$WORK/passphrase"
echo "quiet river lantern seventeen" >"$PASS"
Y() { /usr/bin/yaddash --passphrase-file "$PASS" "$@"; }
FIELD="$WORK/field-vault"
Y --vault "$FIELD" --json init --role field --kdf-work-factor 10 >/dev/null
Y --vault "$FIELD" person add --name "Məmmədov Tofiq" --name "Мамедов Тофик" >/dev/null
Y --vault "$FIELD" list persons | grep -q "Məmmədov Tofiq" || die "the person is not listed"
Y --vault "$FIELD" search mamedov | grep -q "Məmmədov" || die "search does not find the person"
ok "yaddash --version, init, person add, list, search"

log "the installed HQ server"
getent passwd yaddash-hq | grep -q ':/usr/sbin/nologin$' || die "no yaddash-hq system user with nologin"
[ "$(stat -c '%U %a' /var/lib/yaddash-hq)" = "yaddash-hq 700" ] || die "/var/lib/yaddash-hq: $(stat -c '%U %a' /var/lib/yaddash-hq)"
UNIT=/lib/systemd/system/yaddash-hq.service
for d in User=yaddash-hq ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes StateDirectory=yaddash-hq; do
  grep -qx "$d" "$UNIT" || die "the unit lacks $d"
done
grep -qx 'listen = "127.0.0.1:8440"' /etc/yaddash-hq/hq.toml || die "the server does not listen on loopback by default"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$UNIT" >"$WORK/verify-unit.log" 2>&1 || { cat "$WORK/verify-unit.log" >&2; die "systemd-analyze verify refuses the unit"; }
  exposure=$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | tail -1 || true)
  echo "  systemd-analyze security: ${exposure:-not available}" >&2
fi
ok "service user, state directory, hardened unit, loopback settings"
COORD="$WORK/coord-vault"
Y --vault "$COORD" --json init --role coordinator --kdf-work-factor 10 >/dev/null
Y --vault "$COORD" trust export --out "$WORK/trust.json" >/dev/null
# As the README says: the trust file handed to the service user, init run as that user.
install -o yaddash-hq -g yaddash-hq -m 0600 "$WORK/trust.json" /var/lib/yaddash-hq/trust.json
runuser -u yaddash-hq -- /usr/bin/yaddash-hq init --data /var/lib/yaddash-hq --trust /var/lib/yaddash-hq/trust.json \
  >"$WORK/hq-init.log"
KEY=$(sed -n 's/^server key: *//p' "$WORK/hq-init.log")
[ -n "$KEY" ] || die "yaddash-hq init printed no server key: $(cat "$WORK/hq-init.log")"
[ "$(stat -c %U /var/lib/yaddash-hq/server.key)" = yaddash-hq ] || die "server.key is not the service user's"
if [ -d /run/systemd/system ]; then
  systemctl start yaddash-hq
  URL="http://$(sed -n 's/^listen = "\(.*\)"$/\1/p' /etc/yaddash-hq/hq.toml)"
  how="systemctl start yaddash-hq"
else
  # No systemd here: the unit's own command line, as its user, on a free port.
  EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  # shellcheck disable=SC2086 # the unit's command line, split into words as systemd does
  runuser -u yaddash-hq -- env YADDASH_HQ_LISTEN="127.0.0.1:$PORT" $EXEC >"$WORK/hq.log" 2>&1 &
  HQ_PID=$!
  PIDS+=("$HQ_PID")
  URL="http://127.0.0.1:$PORT"
  how="the unit's ExecStart as yaddash-hq (no systemd here)"
fi
for _ in $(seq 1 100); do
  curl -fsS "$URL/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$URL/v1/health" >/dev/null || { cat "$WORK/hq.log" >&2 || true; die "the installed server does not answer at $URL"; }
ok "server started: $how, $URL"
Y --vault "$COORD" trust export --out "$WORK/trust.json" --server-key "$KEY" >/dev/null
Y --vault "$FIELD" trust import "$WORK/trust.json" >/dev/null
Y --vault "$FIELD" --json device show >"$WORK/device.json"
Y --vault "$COORD" device enroll "$WORK/device.json" >/dev/null
CODE=$(Y --vault "$COORD" --json hq invite --expires 1h | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).code))')
Y --vault "$FIELD" --json hq enroll "$CODE" --url "$URL" | grep -q '"enrolled": *true' || die "the field device did not enroll"
ok "a field device enrolled with the installed CLI"
Y --vault "$FIELD" --json sync --url "$URL" >"$WORK/sync.json"
node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if (o.uploaded.length !== 1) process.exit(1)' "$WORK/sync.json" ||
  die "sync did not upload one bundle: $(cat "$WORK/sync.json")"
ok "one bundle synced to the installed server"

log "the installed app under Xvfb (first run in en, az, ru)"
SHOTS="$TARGET/install-screenshots"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
Xvfb -displayfd 3 -screen 0 1200x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
for _ in $(seq 1 50); do
  [ -s "$WORK/display" ] && break
  sleep 0.1
done
[ -s "$WORK/display" ] || die "Xvfb did not start"
WD_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
NATIVE_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$WORK/xdg-runtime" && chmod 700 "$WORK/xdg-runtime"
(
  export DISPLAY=":$(head -n1 "$WORK/display")" HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/xdg-runtime"
  export XDG_DATA_HOME="$WORK/home/.local/share" XDG_CACHE_HOME="$WORK/home/.cache" XDG_CONFIG_HOME="$WORK/home/.config"
  export WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1
  unset YADDASH_VAULT YADDASH_KDF_WORK_FACTOR
  mkdir -p "$HOME"
  tauri-driver --port "$WD_PORT" --native-port "$NATIVE_PORT" >"$WORK/tauri-driver.log" 2>&1 &
  driver=$!
  status=0
  YADDASH_APP_BIN=/usr/bin/yaddash-app WEBDRIVER_URL="http://127.0.0.1:$WD_PORT" SCREENSHOT_DIR="$SHOTS" \
    timeout 180 node --test --test-reporter=spec tests/install/ || status=$?
  kill "$driver" 2>/dev/null || true
  wait "$driver" 2>/dev/null || true
  [ "$status" = 0 ] || { tail -n 40 "$WORK/tauri-driver.log" >&2; exit 1; }
  # The app stores its vault under the user's data directory: nothing yet.
  [ ! -e "$XDG_DATA_HOME/yaddash/vault/vault.db" ]
) || die "the installed app did not show its first run"
ok "installed app: first run in en, az, ru ($SHOTS)"

log "dpkg -r: vaults and the server's data stay"
if [ -n "${HQ_PID:-}" ]; then
  kill "$HQ_PID" 2>/dev/null || true
  wait "$HQ_PID" 2>/dev/null || true
fi
before=$(find "$FIELD" /var/lib/yaddash-hq -type f | sort | xargs sha256sum | sha256sum)
dpkg -r yaddash yaddash-cli yaddash-hq >"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; die "dpkg -r failed"; }
for f in /usr/bin/yaddash /usr/bin/yaddash-hq /usr/bin/yaddash-app; do [ ! -e "$f" ] || die "$f is still there"; done
dpkg -P yaddash yaddash-cli yaddash-hq >>"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; die "dpkg -P failed"; }
INSTALLED=0
grep -q 'data in /var/lib/yaddash-hq and the user yaddash-hq are kept' "$WORK/dpkg-r.log" || die "postrm did not say the data is kept"
after=$(find "$FIELD" /var/lib/yaddash-hq -type f | sort | xargs sha256sum | sha256sum)
[ "$before" = "$after" ] || die "removing the packages changed the vault or the server's data"
[ -s /var/lib/yaddash-hq/server.key ] && [ -s /var/lib/yaddash-hq/hq.sqlite ] || die "the server's data is gone"
getent passwd yaddash-hq >/dev/null || die "the yaddash-hq user was removed with its data still there"
# The vault still opens (with the build tree's CLI: the installed one is gone).
"$TARGET/release/yaddash" --vault "$FIELD" --passphrase-file "$PASS" list persons | grep -q "Məmmədov Tofiq" ||
  die "the vault does not open after removal"
ok "dpkg -r and dpkg -P kept the vault and /var/lib/yaddash-hq (unchanged, the vault opens)"
rm -rf /var/lib/yaddash-hq
userdel yaddash-hq 2>/dev/null || true

echo "install: $PASSED passed, 0 failed"
