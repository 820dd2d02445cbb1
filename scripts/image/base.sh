#!/usr/bin/env bash
# Makes a local base image (Debian bookworm minbase + the project's Node and npm, both from the npm
# registry) for machines that cannot pull node:24-bookworm(-slim): `bash scripts/image/base.sh TAG`.
# Build tools are installed by the Dockerfile's build stage, so one base serves both stages.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/image/env.sh
tag=$1
mirror=$(grep -rhoE '(^deb |^URIs: )https?://[^ ]*debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  head -n1 | sed -E 's/^(deb |URIs: )//; s/ $//' || true)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/herald-base-XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
# The exact Node the project pins (its binary is what the `node` package installed from the registry).
install -m 0755 node_modules/node/bin/node "$rootfs/usr/local/bin/node"
headers=$(find node_modules/node/node_modules -maxdepth 3 -path '*/include/node' -type d | head -n1)
[[ -n $headers ]] && mkdir -p "$rootfs/usr/local/include" && cp -a "$headers" "$rootfs/usr/local/include/"
npm_tgz=$(cd "$rootfs" && npm pack --silent "npm@$(npm --version)")
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$rootfs/$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
rm "$rootfs/$npm_tgz"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# This machine's trust store (its egress may re-sign TLS): npm ci in the build stage must reach the registry.
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
tar -C "$rootfs" -c . | podman import --quiet \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
echo "image: base $tag" >&2
