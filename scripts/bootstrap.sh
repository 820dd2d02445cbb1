#!/usr/bin/env bash
# Installs everything Herald's build, tests, benchmarks and lab need on a fresh Debian 12 machine, then
# installs npm dependencies and builds (native addon, BPF objects, TypeScript). Idempotent and quiet:
# when everything is already in place it returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  # build: BPF objects and the libbpf addon
  clang llvm libbpf-dev libelf-dev zlib1g-dev make g++ python3
  # data plane tools and tests
  bpftool iproute2 iputils-arping ndisc6 tcpdump nftables ethtool procps psmisc iputils-ping openssl curl
  # real peers for interop tests and benchmarks
  bird2 frr gobgpd keepalived prometheus
  # benchmarks: full CPU stress next to the speakers (bench/failover)
  stress-ng
  golang-go golang-github-hashicorp-memberlist-dev
  # the OCI image (npm run image) and its test: no registry is reachable, so bases come from debootstrap
  podman buildah runc debootstrap uidmap
  # examples/herald.service: systemd-analyze verify, setpriv (its capability set in the user-path test)
  systemd util-linux
)

missing=()
for pkg in "${debian_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages (${missing[*]}) and not root: run as root" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packaged daemons must not run on the host: tests start their own copies inside namespaces.
  for svc in bird frr keepalived prometheus prometheus-node-exporter gobgpd; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi

# bpffs is where pinned maps live; containers and minimal hosts may not mount it.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null && [[ $(id -u) -eq 0 ]]; then
  mount -t bpf bpf /sys/fs/bpf
fi

# npm ci also brings the project's Node (the exact `node` devDependency, from the npm registry): from
# then on node_modules/.bin/node runs everything — npm scripts put that directory first on PATH, and so
# does the rest of this script — whatever Node the machine has.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.herald-bootstrap
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_sum" || ! -x node_modules/.bin/node ]]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" >"$stamp"
fi
export PATH="$PWD/node_modules/.bin:$PATH"

# Rebuild the addon and BPF objects when any of their sources is newer than the addon.
addon=build/Release/herald_native.node
if [[ ! -f $addon ]] || [[ -n $(find native bpf binding.gyp scripts/build-bpf.sh scripts/build-native.sh -newer "$addon" -type f 2>/dev/null | head -n1) ]]; then
  echo "bootstrap: building native addon and BPF objects" >&2
  bash scripts/build-native.sh >/dev/null
fi

tsc -p tsconfig.json
