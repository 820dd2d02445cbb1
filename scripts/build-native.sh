#!/usr/bin/env bash
# Builds the N-API addon and the BPF objects with node-gyp, run by the `node` on PATH (inside npm scripts
# the pinned Node 24 of node_modules/.bin). node-gyp compiles against that Node's own headers when they
# are on disk — the `node` devDependency ships them beside its binary (until an `npm install` prunes
# them) — else against any Node's headers on the machine (the addon uses N-API only), so nothing is
# downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

headers=$(node -e '
const { dirname, join } = require("node:path");
const { existsSync, readdirSync, readFileSync } = require("node:fs");
const prefix = join(dirname(process.execPath), "..");
const nested = join(prefix, "node_modules");
const candidates = [prefix];
if (existsSync(nested)) for (const d of readdirSync(nested)) candidates.push(join(nested, d));
candidates.push(process.env.npm_config_nodedir ?? "", "/usr", "/usr/local");
const version = (dir) => {
  try {
    const h = readFileSync(join(dir, "include/node/node_version.h"), "utf8");
    const n = (k) => h.match(new RegExp(`#define ${k} (\\d+)`))[1];
    return `v${n("NODE_MAJOR_VERSION")}.${n("NODE_MINOR_VERSION")}.${n("NODE_PATCH_VERSION")}`;
  } catch {
    return undefined;
  }
};
// N-API: the headers of any Node >= 12 build the same addon; prefer those of the running Node.
const exact = candidates.find((d) => d && version(d) === process.version);
const any = candidates.find((d) => d && existsSync(join(d, "include/node/node_api.h")));
process.stdout.write(exact ?? any ?? "");
')
args=(rebuild --loglevel=error)
[[ -n $headers ]] && args+=("--nodedir=$headers")
exec node node_modules/node-gyp/bin/node-gyp.js "${args[@]}"
