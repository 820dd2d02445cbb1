# syntax=docker/dockerfile:1
# Herald image: one `herald` CLI for the controller (Deployment) and the speaker (DaemonSet).
# Build: `npm run image` (podman; makes local bases when the defaults cannot be pulled), or
#   docker build --build-arg HERALD_COMMIT=$(git rev-parse --short=12 HEAD) -t REGISTRY/herald:TAG .
ARG BUILD_IMAGE=node:24-bookworm
ARG RUNTIME_IMAGE=node:24-bookworm-slim

# ---- build: native addon (libbpf), BPF objects (clang), TypeScript ----------------------------------
FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm libbpf-dev libelf-dev zlib1g-dev make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
COPY bpf ./bpf
COPY scripts/build-bpf.sh scripts/build-native.sh ./scripts/
COPY test/bpf/fixtures ./test/bpf/fixtures
# npm ci runs the package's install script: the addon and the BPF objects.
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
# Only what runs: no dev dependencies, no addon headers, no bare-* (tar-fs loads them only on the Bare
# runtime, never on Node), and none of the type declarations, source maps and docs that packages ship
# (they are over half of @kubernetes/client-node).
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-addon-api node_modules/bare-* \
 && find dist -name '*.map' -delete \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
      -o -name '*.md' \) -delete

# ---- runtime: node + the shared libraries the addon links (libbpf, libelf, zlib) ---------------------
FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g iproute2 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
      /usr/local/include /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx
WORKDIR /opt/herald
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build/Release/herald_native.node /src/build/Release/herald_xdp.bpf.o \
     /src/build/Release/herald_tx_errors.bpf.o ./build/Release/
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/proto ./proto
ARG HERALD_COMMIT=unknown
RUN ln -s /opt/herald/dist/src/cli/main.js /usr/local/bin/herald && chmod +x dist/src/cli/main.js \
 && printf '{"commit":"%s"}\n' "$HERALD_COMMIT" > build-info.json
# Node's compile cache for the speaker's modules (uid 0, as the chart runs it), in dist/.compile-cache:
# read at every start from the read-only root file system (docs/plain-hosts.md, "Install"). The speaker
# loads its parts after the command line, and the parse and pulse threads their own modules.
RUN herald speaker --help >/dev/null \
 && NODE_COMPILE_CACHE=/opt/herald/dist/.compile-cache node --input-type=module -e \
      "for (const m of ['speaker/assemble', 'speaker/services', 'speaker/placement-coordinator', \
         'metrics/placement', 'speaker/watch-worker', 'config/parse-worker']) \
         await import('/opt/herald/dist/src/' + m + '.js');"
# The controller runs as nobody; the speaker's pod spec runs it as uid 0 with only the chart's
# capabilities (BPF, NET_ADMIN, NET_RAW, PERFMON), everything else dropped.
USER 65534:65534
ENTRYPOINT ["herald"]
CMD ["--help"]
