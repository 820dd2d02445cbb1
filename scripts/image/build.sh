#!/usr/bin/env bash
# `npm run image`: builds the OCI image (default localhost/herald:dev) from the Dockerfile with podman.
# The Dockerfile's bases are build arguments (node:24-bookworm and node:24-bookworm-slim by default);
# where they cannot be pulled (no registry reachable) a local base is made once (scripts/image/base.sh).
#   HERALD_IMAGE=registry.example/herald:1.2 npm run image
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/image/env.sh
tag=${HERALD_IMAGE:-localhost/herald:dev}
build_image=${HERALD_BUILD_IMAGE:-node:24-bookworm}
runtime_image=${HERALD_RUNTIME_IMAGE:-node:24-bookworm-slim}

available() { podman image exists "$1" || timeout 60 podman pull --quiet "$1" >/dev/null 2>&1; }
if ! available "$build_image" || ! available "$runtime_image"; then
  node_version=$(node -p 'require("./package.json").devDependencies.node')
  suffix="bookworm-node$node_version-$(sha256sum scripts/image/base.sh | cut -c1-8)"
  build_image="localhost/herald-base-build:$suffix"
  runtime_image="localhost/herald-base-runtime:$suffix"
  podman image exists "$build_image" && podman image exists "$runtime_image" ||
    bash scripts/image/base.sh "$build_image" "$runtime_image"
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || commit="$commit-dirty"
podman build --quiet --network host \
  --build-arg "BUILD_IMAGE=$build_image" --build-arg "RUNTIME_IMAGE=$runtime_image" \
  --build-arg "HERALD_COMMIT=$commit" -t "$tag" . >/dev/null
echo "image: $tag ($(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'), commit $commit)" >&2
