/**
 * Kubernetes scale benchmark, against the in-process test API server (test/k8s/apiserver):
 * 5,000 LoadBalancer services across 20 IPv4 pools.
 *
 *   node dist/bench/k8s/run.js [--services 5000] [--pools 20] [--trials 20]
 *
 * Measures (1) time from starting a real `herald controller` process until every service shows an
 * address in status.loadBalancer.ingress (all unique), and its peak RSS; (2) with a speaker-side
 * KubernetesConfigSource in its own process: time from a single Service change at the API server
 * until the speaker's model reflects it (median / p90 / max over trials), and that process's peak RSS.
 * Targets: all allocated ≤ 10 s; single change reflected ≤ 100 ms; speaker-source RSS ≤ 120 MB (issue 16).
 * Writes bench/results/k8s.json and bench/results/k8s.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { HERALD_NODE_FLAGS } from '../../src/util/node-flags.js';
import { moduleFloorRssMb } from '../footprint/measure.js';
import { projectRoot } from '../../src/util/paths.js';
import { TestApiServer } from '../../test/k8s/apiserver/server.js';
import { HERALD_NS, installHerald, lbService, pool } from '../../test/k8s/helpers/cluster.js';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    pools: { type: 'string', default: '20' },
    trials: { type: 'string', default: '20' },
  },
});
const N = Number(args.services);
const P = Number(args.pools);
const TRIALS = Number(args.trials);

function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function peakRssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const root = projectRoot();
const loadAtStart = Number(loadavg()[0]!.toFixed(1));
const work = mkdtempSync(join(tmpdir(), 'herald-bench-k8s-'));
const server = await TestApiServer.start({ historyLimit: 50_000 });
const kubeconfig = join(work, 'kubeconfig');
writeFileSync(kubeconfig, server.kubeconfig());
installHerald(server);
for (let p = 0; p < P; p++)
  server.createObject(
    pool(`pool-${p}`, [`10.${100 + p}.0.0/24`], {
      serviceAllocation: { priority: p + 1, serviceSelectors: [{ matchLabels: { pool: String(p) } }] },
    }),
  );
for (let i = 0; i < N; i++) server.createObject(lbService(`svc-${i}`, { labels: { pool: String(i % P) } }));

// Count services with an address as status writes arrive.
const withIp = new Set<string>();
let allAt = 0;
const svcType = server.resourceType('v1', 'Service');
server.store.onEvent((e) => {
  if (e.typeKey !== `${svcType.group}/${svcType.plural}`) return;
  const lb = (e.object.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer;
  const key = `${String(e.object.metadata.namespace)}/${String(e.object.metadata.name)}`;
  if ((lb?.ingress ?? []).length > 0 && e.type !== 'DELETED') withIp.add(key);
  else withIp.delete(key);
  if (withIp.size === N && allAt === 0) allAt = performance.now();
});

const t0 = performance.now();
const controller = spawn(
  process.execPath,
  [
    ...(process.env.HERALD_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    join(root, 'dist/src/cli/main.js'),
    'controller',
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    HERALD_NS,
    '--no-leader-election',
  ],
  {
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const deadline = Date.now() + 120_000;
while (allAt === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const allocSeconds = allAt === 0 ? NaN : (allAt - t0) / 1000;
const ips = server
  .list('v1', 'Service', 'default')
  .map((s) => JSON.stringify((s.status as { loadBalancer?: unknown }).loadBalancer));
const unique = new Set(ips).size === N;
await new Promise((r) => setTimeout(r, 500));
const controllerRss = peakRssMb(controller.pid!);

// Speaker-side source in its own process, with the speaker's Node flags.
const child = spawn(
  process.execPath,
  [...HERALD_NODE_FLAGS, join(root, 'dist/bench/k8s/source-child.js'), kubeconfig],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const lines = createInterface(child.stdout);
const waiters: Array<(v: { bench: string; ready?: boolean }) => void> = [];
lines.on('line', (l) => {
  const v = JSON.parse(l) as { bench: string; ready?: boolean };
  for (const w of waiters.splice(0)) w(v);
});
const next = (pred: (v: { bench: string; ready?: boolean }) => boolean): Promise<void> =>
  new Promise((resolve) => {
    const wait = (): void => {
      waiters.push((v) => (pred(v) ? resolve() : wait()));
    };
    wait();
  });
const startSource = performance.now();
await next((v) => v.ready === true);
const sourceStartMs = performance.now() - startSource;
const latencies: number[] = [];
for (let i = 1; i <= TRIALS; i++) {
  const want = `v${i}`;
  const got = next((v) => v.bench === want);
  const t = performance.now();
  server.patchObject('v1', 'Service', 'svc-0', 'default', { metadata: { labels: { bench: want } } });
  await got;
  latencies.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, 50));
}
const speakerRss = peakRssMb(child.pid!);
const speakerSettledRss = rssMb(child.pid!);
child.kill('SIGTERM');
controller.kill('SIGTERM');
await server.stop();
rmSync(work, { recursive: true, force: true });

const floorRss = await moduleFloorRssMb(process.execPath, HERALD_NODE_FLAGS, [
  pathToFileURL(join(root, 'dist/src/k8s/speaker-source.js')).href,
]);
const loadAtEnd = Number(loadavg()[0]!.toFixed(1));
const result = {
  date: new Date().toISOString(),
  load1: { start: loadAtStart, end: loadAtEnd },
  services: N,
  pools: P,
  cpus: cpus().length,
  node: process.version,
  allAllocatedSeconds: Number(allocSeconds.toFixed(2)),
  allUnique: unique,
  controllerPeakRssMb: controllerRss,
  speakerSourceStartMs: Math.round(sourceStartMs),
  changeToSpeakerModelMs: {
    trials: TRIALS,
    median: Number(quantile(latencies, 0.5).toFixed(1)),
    p90: Number(quantile(latencies, 0.9).toFixed(1)),
    max: Number(Math.max(...latencies).toFixed(1)),
  },
  speakerPeakRssMb: speakerRss,
  speakerSettledRssMb: speakerSettledRss,
  speakerModuleFloorRssMb: floorRss,
  speakerNodeFlags: HERALD_NODE_FLAGS.join(' '),
  targets: { allAllocatedSeconds: 10, changeToSpeakerModelMs: 100, speakerPeakRssMb: 120 },
};
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'k8s.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = `# Kubernetes scale (bench/k8s)

${N} LoadBalancer services, ${P} IPv4 pools, in-process test API server; ${cpus().length} CPUs, Node ${process.version}.
Run ${result.date}, 1-minute load ${loadAtStart} at the start, ${loadAtEnd} at the end.
Rerun: \`npx tsc -p tsconfig.json && node dist/bench/k8s/run.js\`.

| figure | measured | target |
|---|---|---|
| controller start → all ${N} services have an address | ${result.allAllocatedSeconds} s (all unique: ${unique}) | ≤ 10 s |
| controller peak RSS | ${controllerRss} MB | |
| one Service change → speaker model (median / p90 / max of ${TRIALS}) | ${result.changeToSpeakerModelMs.median} / ${result.changeToSpeakerModelMs.p90} / ${result.changeToSpeakerModelMs.max} ms | ≤ 100 ms |
| speaker source: start → first model | ${result.speakerSourceStartMs} ms | |
| speaker-source process RSS: peak / after the trials | ${speakerRss} / ${speakerSettledRss} MB | ≤ 120 MB |
| the same process with its modules loaded and no cluster (floor) | ${floorRss} MB | |

The speaker source runs with the speaker's Node flags (\`${HERALD_NODE_FLAGS.join(' ')}\`) on the speaker's own
small API client (src/k8s/connection.ts, list+watch in src/k8s/list-watch.ts), not \`@kubernetes/client-node\`,
whose \`KubeConfig\` alone loads about 1,100 modules (the generated API models; the floor was 113 MB with it).
Its caches keep only what the model reads (src/k8s/trim.ts); the objects of this API server carry no
managedFields, so real clusters gain more from the trimming than this run shows. The ${N} services add
the difference between the two RSS rows (the trimmed objects, their parsed model objects and the model).
`;
writeFileSync(join(dir, 'k8s.md'), md);
process.stdout.write(md);
process.exit(0);
