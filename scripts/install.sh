#!/usr/bin/env bash
# Puts `herald` on PATH: writes PREFIX/bin/herald (default /usr/local/bin/herald), a small wrapper that
# runs this checkout's build on the project's own Node (node_modules/node, whatever Node the host has).
# Builds first (scripts/bootstrap.sh, idempotent) unless --no-build.
#   scripts/install.sh [--prefix DIR] [--no-build]
# Uninstall: rm PREFIX/bin/herald. The checkout must stay where it is (the wrapper points into it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix)
      prefix="${2:?--prefix needs a directory}"
      shift 2
      ;;
    --no-build)
      build=0
      shift
      ;;
    *)
      echo "usage: $0 [--prefix DIR] [--no-build]" >&2
      exit 2
      ;;
  esac
done

if [ "$build" = 1 ]; then bash "$root/scripts/bootstrap.sh"; fi

node="$root/node_modules/node/bin/node"
main="$root/dist/src/cli/main.js"
if [ ! -x "$node" ] || [ ! -f "$main" ]; then
  echo "install: $node or $main is missing; run scripts/bootstrap.sh first" >&2
  exit 1
fi
case "$root" in
  *\'*)
    echo "install: the checkout path must not contain a single quote: $root" >&2
    exit 1
    ;;
esac

# The Node flags of long-running processes, as the shebang of main.js has them.
flags="$(head -n 1 "$main" | sed -n 's|^#!/usr/bin/env -S node||p')"

mkdir -p "$prefix/bin"
tmp="$(mktemp "$prefix/bin/.herald.XXXXXX")"
cat >"$tmp" <<EOF
#!/bin/sh
# herald from the checkout $root (written by scripts/install.sh)
exec '$node'$flags '$main' "\$@"
EOF
chmod 755 "$tmp"
mv -f "$tmp" "$prefix/bin/herald"
echo "installed $prefix/bin/herald -> $main ($("$prefix/bin/herald" --version))"
