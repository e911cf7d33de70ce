#!/usr/bin/env bash
# Debian packages of Yaddash and a signed list of their checksums, in dist/:
#
#   yaddash_VERSION_ARCH.deb       the desktop app (Tauri's .deb bundler, offline)
#   yaddash-cli_VERSION_ARCH.deb   the `yaddash` command line
#   yaddash-hq_VERSION_ARCH.deb    the HQ server with a hardened systemd unit
#   SHA256SUMS, SHA256SUMS.sig     the checksums, signed (SSHSIG, namespace release@yaddash.org)
#   yaddash-release.pub            the public key that signed them
#
# `scripts/dev package` runs this after installing everything. Nothing is
# downloaded: AppImage is not built, because its tooling downloads itself at
# build time.
#
# The release key: YADDASH_RELEASE_KEY names an OpenSSH ed25519 private key
# file; its public half must be release/yaddash-release.pub. Without it a
# throw-away key signs, the output says so, and dist/NOT-A-RELEASE.txt says so
# to whoever receives the folder.
#
# The binaries are the ones `scripts/dev test` builds (same cargo commands, so
# nothing is compiled twice there); only the app is rebuilt, without the
# test-only `test-hooks` feature that the UI tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="$ROOT/dist"
NAMESPACE=release@yaddash.org
REPO_PUB="$ROOT/release/yaddash-release.pub"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

for tool in cargo npm dpkg-deb dpkg-shlibdeps ssh-keygen sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/dev setup"
done
[ -x ui/node_modules/.bin/tauri ] || die "the Tauri CLI (ui/node_modules/.bin/tauri) is missing: run scripts/dev setup"

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"$/\1/p' Cargo.toml)
[ -n "$VERSION" ] || die "no workspace version in Cargo.toml"
ARCH=$(dpkg --print-architecture)
# Reproducible file times: the last commit's (or now, outside git).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

if [ "${YADDASH_PACKAGE_SKIP_BUILD:-}" != 1 ]; then
  export CARGO_INCREMENTAL=0
  log "release binaries (the CLI and the HQ server as scripts/dev test builds them)"
  cargo build --workspace --exclude yaddash-app --locked --release --bins
  log "the desktop app: front end, then the release app without test hooks"
  [ -d ui/node_modules ] || (cd ui && npm ci --no-audit --no-fund)
  (cd ui && npm run --silent build)
  cargo build --release -p yaddash-app --locked
fi
for b in yaddash yaddash-hq yaddash-app; do
  [ -x "$TARGET/release/$b" ] || die "$TARGET/release/$b was not built"
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$DIST"
mkdir -p "$DIST"

# The shared libraries a binary needs, as Debian package dependencies.
shlibs() {
  mkdir -p "$WORK/shlibs/debian"
  printf 'Source: yaddash\n\nPackage: yaddash\nArchitecture: any\n' >"$WORK/shlibs/debian/control"
  (cd "$WORK/shlibs" && dpkg-shlibdeps -O "$1" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# Files with fixed owner (root, via --root-owner-group), modes and times.
stage_done() {
  find "$1" -path "$1/DEBIAN" -prune -o -type f -exec chmod go-w {} +
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

control() { # package depends description-line long-description
  local dir=$1 pkg=$2 depends=$3 short=$4 long=$5 size
  size=$(du -sk --exclude=DEBIAN "$dir" | cut -f1)
  cat >"$dir/DEBIAN/control" <<EOF
Package: $pkg
Version: $VERSION
Architecture: $ARCH
Maintainer: Yaddash developers <dev@yaddash.invalid>
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Description: $short
$(printf '%s\n' "$long" | sed 's/^$/./; s/^/ /')
EOF
}

docs() { # dir package files...
  local dir=$1 pkg=$2
  shift 2
  install -d "$dir/usr/share/doc/$pkg"
  install -m 0644 packaging/copyright "$dir/usr/share/doc/$pkg/copyright"
  for f in "$@"; do install -m 0644 "$f" "$dir/usr/share/doc/$pkg/"; done
}

log "yaddash-cli $VERSION ($ARCH)"
P="$WORK/yaddash-cli"
install -d "$P/DEBIAN" "$P/usr/bin"
install -m 0755 "$TARGET/release/yaddash" "$P/usr/bin/yaddash"
strip --strip-unneeded "$P/usr/bin/yaddash"
docs "$P" yaddash-cli README.md docs/records.md docs/bundle-format.md docs/sync.md docs/travel.md docs/register.md docs/vault-format.md
control "$P" yaddash-cli "$(shlibs "$P/usr/bin/yaddash")" \
  "encrypted field collection for human-rights documentation (command line)" \
  "Yaddash keeps testimony about political imprisonment in an encrypted vault,
sends it as signed, encrypted bundles and keeps the register of political
prisoners. This is the yaddash command line: everything the desktop app
does, for coordinators, scripts and tests.

Removing this package never touches a vault."
stage_done "$P"
dpkg-deb --root-owner-group -Zxz --build "$P" "$DIST/yaddash-cli_${VERSION}_${ARCH}.deb" >/dev/null

log "yaddash-hq $VERSION ($ARCH)"
P="$WORK/yaddash-hq"
install -d "$P/DEBIAN" "$P/usr/bin" "$P/lib/systemd/system" "$P/etc/yaddash-hq"
install -m 0755 "$TARGET/release/yaddash-hq" "$P/usr/bin/yaddash-hq"
strip --strip-unneeded "$P/usr/bin/yaddash-hq"
install -m 0644 packaging/yaddash-hq/yaddash-hq.service "$P/lib/systemd/system/yaddash-hq.service"
install -m 0644 packaging/yaddash-hq/hq.toml "$P/etc/yaddash-hq/hq.toml"
install -m 0755 packaging/yaddash-hq/postinst packaging/yaddash-hq/prerm packaging/yaddash-hq/postrm "$P/DEBIAN/"
echo /etc/yaddash-hq/hq.toml >"$P/DEBIAN/conffiles"
docs "$P" yaddash-hq docs/hq-server.md
control "$P" yaddash-hq "$(shlibs "$P/usr/bin/yaddash-hq"), passwd" \
  "Yaddash HQ server: a blind relay for encrypted bundles" \
  "Field devices upload signed, encrypted Yaddash bundles to this server when
their safety policy allows; coordinators pull them. The server holds
ciphertext only and links no code that can decrypt.

Runs as its own user (yaddash-hq) under a hardened systemd unit, listens on
loopback, keeps its state in /var/lib/yaddash-hq. It starts once initialised
with the coordinators' trust file (see /usr/share/doc/yaddash-hq).
Removing or purging this package never removes that data."
stage_done "$P"
dpkg-deb --root-owner-group -Zxz --build "$P" "$DIST/yaddash-hq_${VERSION}_${ARCH}.deb" >/dev/null

log "yaddash (desktop app) $VERSION ($ARCH), Tauri's .deb bundler"
APP_DEPENDS=$(shlibs "$TARGET/release/yaddash-app")
APP_CONFIG=$(node -e 'const d=process.argv[1].split(/,\s*/).filter(Boolean);
  console.log(JSON.stringify({bundle:{linux:{deb:{depends:d}}}}))' "$APP_DEPENDS")
rm -rf "$TARGET/release/bundle/deb"
ui/node_modules/.bin/tauri bundle --bundles deb --config "$APP_CONFIG" --ci --no-sign --no-binary-patching >"$WORK/tauri-bundle.log" 2>&1 ||
  { cat "$WORK/tauri-bundle.log" >&2; die "tauri bundle failed"; }
APP_DEB=$(find "$TARGET/release/bundle/deb" -maxdepth 1 -name '*.deb' | head -n1)
[ -n "$APP_DEB" ] || die "tauri bundle made no .deb"
APP_PKG=$(dpkg-deb -f "$APP_DEB" Package)
cp "$APP_DEB" "$DIST/${APP_PKG}_${VERSION}_${ARCH}.deb"

log "SHA256SUMS and its signature"
THROWAWAY=0
if [ -n "${YADDASH_RELEASE_KEY:-}" ]; then
  KEY=$YADDASH_RELEASE_KEY
  [ -r "$KEY" ] || die "YADDASH_RELEASE_KEY=$KEY is not a readable key file"
  ssh-keygen -y -f "$KEY" >"$WORK/release.pub" || die "cannot read the public key of $KEY"
  if [ -f "$REPO_PUB" ] && [ "$(cut -d' ' -f1,2 "$WORK/release.pub")" != "$(cut -d' ' -f1,2 "$REPO_PUB")" ]; then
    die "$KEY is not the release key of release/yaddash-release.pub: refusing to sign with it"
  fi
  cp "$REPO_PUB" "$DIST/yaddash-release.pub" 2>/dev/null || cp "$WORK/release.pub" "$DIST/yaddash-release.pub"
else
  THROWAWAY=1
  KEY="$WORK/throwaway"
  ssh-keygen -q -t ed25519 -N '' -C "THROW-AWAY key: not a Yaddash release" -f "$KEY"
  cp "$KEY.pub" "$DIST/yaddash-release.pub"
fi
(cd "$DIST" && sha256sum -- *.deb >SHA256SUMS)
ssh-keygen -q -Y sign -f "$KEY" -n "$NAMESPACE" "$DIST/SHA256SUMS"
[ -s "$DIST/SHA256SUMS.sig" ] || die "no signature was written"

# The verification procedure of the README, exactly.
(
  cd "$DIST"
  printf '%s namespaces="%s" %s\n' "$NAMESPACE" "$NAMESPACE" "$(cut -d' ' -f1,2 yaddash-release.pub)" >"$WORK/allowed_signers"
  ssh-keygen -Y verify -f "$WORK/allowed_signers" -I "$NAMESPACE" -n "$NAMESPACE" -s SHA256SUMS.sig <SHA256SUMS >&2
  sha256sum --check --strict SHA256SUMS >&2
) || die "the signed checksums do not verify"

if [ "$THROWAWAY" = 1 ]; then
  cat >"$DIST/NOT-A-RELEASE.txt" <<EOF
These packages were signed with a THROW-AWAY key made for this build
(YADDASH_RELEASE_KEY was not set). They are not a Yaddash release: do not
give them to anyone as one. Its fingerprint is not the release key's
(release/yaddash-release.pub).
EOF
  cat >&2 <<EOF

################################################################################
#  NOT A RELEASE: SHA256SUMS.sig was made with a THROW-AWAY key, generated     #
#  for this build because YADDASH_RELEASE_KEY is not set. Anyone verifying     #
#  against release/yaddash-release.pub will (rightly) refuse these packages.   #
#  Set YADDASH_RELEASE_KEY=/path/to/release-key to sign a real release.        #
################################################################################
EOF
fi
log "dist/:"
(cd "$DIST" && ls -l) >&2
ssh-keygen -l -f "$DIST/yaddash-release.pub" >&2
