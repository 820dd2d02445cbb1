# syntax=docker/dockerfile:1
# Herald image: one `herald` CLI for the controller (Deployment) and the speaker (DaemonSet).
# Build: docker build -t ghcr.io/herald-lb/herald:dev .

# ---- build: native addon (libbpf), BPF objects (clang), TypeScript ----------------------------------
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm libbpf-dev libelf-dev zlib1g-dev make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
COPY bpf ./bpf
COPY scripts ./scripts
COPY test/bpf/fixtures ./test/bpf/fixtures
# npm ci runs node-gyp (the package's install script): addon + BPF objects.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npx tsc -p tsconfig.json --outDir dist \
 && npm prune --omit=dev \
 && rm -rf build/Release/obj.target build/Release/.deps build/Release/test_*.bpf.o

# ---- runtime: node + the shared libraries the addon links (libbpf, libelf, zlib) ---------------------
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g iproute2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/herald
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build/Release ./build/Release
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/proto ./proto
RUN ln -s /opt/herald/dist/src/cli/main.js /usr/local/bin/herald && chmod +x dist/src/cli/main.js
# The controller runs as nobody; the speaker's pod spec adds only BPF/NET_ADMIN/NET_RAW/PERFMON.
USER 65534:65534
ENTRYPOINT ["herald"]
CMD ["--help"]
