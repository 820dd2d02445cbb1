/**
 * Kubernetes scale benchmark, against the in-process test API server (test/k8s/apiserver):
 * 5,000 LoadBalancer services across 20 IPv4 pools.
 *
 *   node dist/bench/k8s/run.js [--services 5000] [--pools 20] [--trials 20] [--repeats 3]
 *     [--before-root DIR [--before-label COMMIT]] [--no-endpoint-slices]
 *
 * Measures (1) time from starting a real `herald controller` process until every service shows an
 * address in status.loadBalancer.ingress (all unique), and its peak RSS; (2) with a speaker-side
 * KubernetesConfigSource in its own process: time from a single Service change at the API server
 * until the speaker's model reflects it (median / p90 / max over trials), and that process's peak RSS and
 * its heap (used, external, array buffers) after the trials; the source process runs `--repeats` times
 * (RSS varies by a few MB between runs of the same code). `--before-root DIR` runs the source of another
 * build (a checkout with dist/ built, e.g. the commit before a change) the same way in the same run, so
 * before and after are measured side by side.
 * Targets: all allocated ≤ 10 s; single change reflected ≤ 100 ms; speaker-source RSS ≤ 120 MB (issue 16).
 * Writes bench/results/k8s.json and bench/results/k8s.md.
 */
import { execFileSync, spawn } from 'node:child_process';
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
import type { KubeObject } from '../../test/k8s/apiserver/types.js';
import { HERALD_NS, installHerald, lbService, pool } from '../../test/k8s/helpers/cluster.js';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    pools: { type: 'string', default: '20' },
    trials: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '3' },
    'before-root': { type: 'string' },
    'before-label': { type: 'string' },
    'endpoint-slices': { type: 'boolean', default: true },
  },
});
const N = Number(args.services);
const P = Number(args.pools);
const TRIALS = Number(args.trials);
const REPEATS = Number(args.repeats);
const SLICES = args['endpoint-slices'];
const NODES = ['node-a', 'node-b', 'node-c'];

/** The EndpointSlice of service `name`: one ready endpoint on each of three nodes, as a real one looks. */
function endpointSlice(name: string, i: number): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-x7k2p`,
      namespace: 'default',
      labels: {
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: `uid-${i}`, controller: true }],
    },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: NODES.map((node, n) => ({
      addresses: [`10.244.${n}.${(i % 250) + 1}`],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: node,
      targetRef: { kind: 'Pod', name: `${name}-pod-${n}`, namespace: 'default', uid: `pod-${i}-${n}` },
      zone: `zone-${n}`,
    })),
  };
}

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
for (let i = 0; i < N; i++) {
  server.createObject(lbService(`svc-${i}`, { labels: { pool: String(i % P) } }));
  if (SLICES) server.createObject(endpointSlice(`svc-${i}`, i));
}

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

interface SourceRun {
  startMs: number;
  latencies: number[];
  peakRssMb: number;
  settledRssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

/** One speaker-side source in its own process, with the speaker's Node flags, from the build in `buildRoot`. */
async function runSource(buildRoot: string): Promise<SourceRun> {
  const child = spawn(
    process.execPath,
    [...HERALD_NODE_FLAGS, join(buildRoot, 'dist/bench/k8s/source-child.js'), kubeconfig],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface(child.stdout);
  type Line = { bench?: string; ready?: boolean; memory?: NodeJS.MemoryUsage };
  const waiters: Array<(v: Line) => void> = [];
  lines.on('line', (l) => {
    const v = JSON.parse(l) as Line;
    for (const w of waiters.splice(0)) w(v);
  });
  const next = (pred: (v: Line) => boolean): Promise<Line> =>
    new Promise((resolve) => {
      const wait = (): void => {
        waiters.push((v) => (pred(v) ? resolve(v) : wait()));
      };
      wait();
    });
  const startSource = performance.now();
  await next((v) => v.ready === true);
  const startMs = performance.now() - startSource;
  const latencies: number[] = [];
  for (let i = 1; i <= TRIALS; i++) {
    const want = `v${i}-${child.pid}`;
    const got = next((v) => v.bench === want);
    const t = performance.now();
    server.patchObject('v1', 'Service', 'svc-0', 'default', { metadata: { labels: { bench: want } } });
    await got;
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  const memoryReport = next((v) => v.memory !== undefined);
  child.stdin.write('memory\n');
  const { memory } = await memoryReport;
  const mb = (bytes = NaN) => Number((bytes / 1024 / 1024).toFixed(1));
  const run: SourceRun = {
    startMs: Math.round(startMs),
    latencies,
    peakRssMb: peakRssMb(child.pid!),
    settledRssMb: rssMb(child.pid!),
    heapUsedMb: mb(memory?.heapUsed),
    externalMb: mb(memory?.external),
    arrayBuffersMb: mb(memory?.arrayBuffers),
  };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return run;
}

interface SourceSummary {
  build: string;
  runs: SourceRun[];
  /** Medians over the runs (latency: over every trial of every run). */
  peakRssMb: number;
  settledRssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  startMs: number;
  changeToModelMs: { trials: number; median: number; p90: number; max: number };
}

async function measureSource(build: string, buildRoot: string): Promise<SourceSummary> {
  const runs: SourceRun[] = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await runSource(buildRoot));
  const median = (f: (r: SourceRun) => number) => quantile(runs.map(f), 0.5);
  const latencies = runs.flatMap((r) => r.latencies);
  return {
    build,
    runs,
    peakRssMb: median((r) => r.peakRssMb),
    settledRssMb: median((r) => r.settledRssMb),
    heapUsedMb: median((r) => r.heapUsedMb),
    externalMb: median((r) => r.externalMb),
    arrayBuffersMb: median((r) => r.arrayBuffersMb),
    startMs: median((r) => r.startMs),
    changeToModelMs: {
      trials: latencies.length,
      median: Number(quantile(latencies, 0.5).toFixed(1)),
      p90: Number(quantile(latencies, 0.9).toFixed(1)),
      max: Number(Math.max(...latencies).toFixed(1)),
    },
  };
}

const gitHead = (dir: string): string => {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return dir;
  }
};
const beforeRoot = args['before-root'];
const before =
  beforeRoot === undefined
    ? undefined
    : await measureSource(args['before-label'] ?? gitHead(beforeRoot), beforeRoot);
const source = await measureSource(gitHead(root), root);
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
  endpointSlices: SLICES ? N : 0,
  pools: P,
  cpus: cpus().length,
  node: process.version,
  allAllocatedSeconds: Number(allocSeconds.toFixed(2)),
  allUnique: unique,
  controllerPeakRssMb: controllerRss,
  speakerSourceStartMs: source.startMs,
  changeToSpeakerModelMs: source.changeToModelMs,
  speakerPeakRssMb: source.peakRssMb,
  speakerSettledRssMb: source.settledRssMb,
  speakerHeapUsedMb: source.heapUsedMb,
  speakerSource: source,
  ...(before ? { speakerSourceBefore: before } : {}),
  speakerModuleFloorRssMb: floorRss,
  speakerNodeFlags: HERALD_NODE_FLAGS.join(' '),
  targets: { allAllocatedSeconds: 10, changeToSpeakerModelMs: 100, speakerPeakRssMb: 120 },
};
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'k8s.json'), `${JSON.stringify(result, null, 2)}\n`);
/** Table rows of the speaker source: this build, and the other one beside it when measured. */
function sourceRows(after: SourceSummary, was?: SourceSummary): string {
  const cell = (f: (s: SourceSummary) => string) => (was ? `${f(was)} | ${f(after)}` : f(after));
  const latency = (s: SourceSummary) =>
    `${s.changeToModelMs.median} / ${s.changeToModelMs.p90} / ${s.changeToModelMs.max} ms`;
  return [
    was ? `\n| speaker source | ${was.build} (before) | ${after.build} | target |\n|---|---|---|---|` : '',
    `| one Service change → speaker model (median / p90 / max of ${after.changeToModelMs.trials}) | ${cell(latency)} | ≤ 100 ms |`,
    `| speaker source: start → first model | ${cell((s) => `${s.startMs} ms`)} | |`,
    `| speaker-source process RSS: peak / after the trials | ${cell((s) => `${s.peakRssMb} / ${s.settledRssMb} MB`)} | ≤ 120 MB |`,
    `| peak RSS of each run | ${cell((s) => `${s.runs.map((r) => r.peakRssMb).join(', ')} MB`)} | |`,
    `| heap used / external / array buffers after the trials | ${cell((s) => `${s.heapUsedMb} / ${s.externalMb} / ${s.arrayBuffersMb} MB`)} | |`,
  ]
    .filter(Boolean)
    .join('\n');
}

const md = `# Kubernetes scale (bench/k8s)

${N} LoadBalancer services${SLICES ? ' (each with an EndpointSlice: a ready endpoint on each of 3 nodes)' : ''}, ${P} IPv4 pools, in-process test API server; ${cpus().length} CPUs, Node ${process.version}.
Run ${result.date}, 1-minute load ${loadAtStart} at the start, ${loadAtEnd} at the end.
Rerun: \`npx tsc -p tsconfig.json && node dist/bench/k8s/run.js\`.

| figure | measured | target |
|---|---|---|
| controller start → all ${N} services have an address | ${result.allAllocatedSeconds} s (all unique: ${unique}) | ≤ 10 s |
| controller peak RSS | ${controllerRss} MB | |
${sourceRows(source, before)}
| the same process with its modules loaded and no cluster (floor) | ${before ? '— | ' : ''}${floorRss} MB | |

The speaker source (src/k8s/speaker-source.ts) runs in its own process with the speaker's Node flags
(\`${HERALD_NODE_FLAGS.join(' ')}\`), ${REPEATS} times per build (medians; RSS varies by a few MB between runs of
the same code), on the speaker's own small API client (src/k8s/connection.ts), not \`@kubernetes/client-node\`,
whose \`KubeConfig\` alone loads about 1,100 modules (the floor was 113 MB with it). Each object is
projected to the fields the speaker reads as it arrives (src/k8s/project.ts) and only its model object is
kept; lists are decoded as they stream in (src/k8s/list-stream.ts). Heap figures are
\`process.memoryUsage()\` after the trials, without a forced collection. The objects of this API server are
small (no managedFields, few fields), so real clusters' objects shrink more in the projection than here.
`;
writeFileSync(join(dir, 'k8s.md'), md);
process.stdout.write(md);
process.exit(0);
