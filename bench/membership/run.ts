/**
 * Membership benchmark, Herald vs HashiCorp memberlist (Debian's v0.2.2, DefaultLANConfig), same run:
 *  1. detection: N members on loopback, SIGKILL one, time until every survivor reports it dead;
 *     repeated (the victim restarts with the same name between repeats); median and p95;
 *  2. CPU per member at every N over a quiet window;
 *  3. loss: N members in a private network namespace whose loopback drops a share of packets at random
 *     (nftables numgen), counting false "dead" verdicts.
 *
 *   node dist/bench/membership/run.js [--sizes 3,10,50] [--repeats 10] [--impls herald,go]
 *     [--loss-seconds 600] [--loss-percent 5] [--loss-n 10] [--cpu-seconds 20] [--cpu-settle-seconds 0]
 *     [--profile fast-lan]
 *     [--go-timers default|profile] [--out membership] [--cpu-prof DIR]
 *
 * `--go-timers profile` gives the Go peers Herald's profile timers (equal timers); `default` keeps
 * DefaultLANConfig (MetalLB's). `--merge a,b --out c` writes one report from earlier runs' results a and b
 * (runs split to keep each under the heavy lock's time limit). `--cpu-prof DIR` runs member 0 of each Herald cluster (never a victim)
 * under `node --cpu-prof` and stops it with SIGTERM so the profile is written to DIR. Writes
 * bench/results/<out>.json and .md. Needs root for the loss run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { namespacePrefix } from '../../src/lab/netns.js';
import { PROFILES, type ProfileName } from '../../src/membership/config.js';
import { projectRoot } from '../../src/util/paths.js';
import {
  type Peer,
  type Spawner,
  buildGoPeer,
  cpuSeconds,
  hostSpawner,
  percentile,
  sleep,
  spawnGoPeer,
  spawnHerald,
  waitConverged,
} from './cluster.js';

type Impl = 'herald' | 'go';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '3,10,50' },
    repeats: { type: 'string', default: '10' },
    impls: { type: 'string', default: 'herald,go' },
    'loss-seconds': { type: 'string', default: '600' },
    'loss-percent': { type: 'string', default: '5' },
    'loss-n': { type: 'string', default: '10' },
    'cpu-seconds': { type: 'string', default: '20' },
    'cpu-settle-seconds': { type: 'string', default: '0' },
    profile: { type: 'string', default: 'fast-lan' },
    'go-timers': { type: 'string', default: 'default' },
    out: { type: 'string', default: 'membership' },
    merge: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const sizes = args.sizes
  .split(',')
  .map(Number)
  .filter((n) => n >= 2);
const repeats = Number(args.repeats);
const impls = args.impls.split(',') as Impl[];
const lossSeconds = Number(args['loss-seconds']);
const lossPercent = Number(args['loss-percent']);
const lossN = Number(args['loss-n']);
const cpuWindow = Number(args['cpu-seconds']);
const cpuSettle = Number(args['cpu-settle-seconds']);
const profile = args.profile as ProfileName;
if (!PROFILES[profile]) throw new Error(`unknown profile ${profile}`);
const goTimers = args['go-timers'];
if (goTimers !== 'default' && goTimers !== 'profile') throw new Error('--go-timers: default or profile');
if (!/^[a-z0-9-]+$/.test(args.out)) throw new Error('--out: a file name without extension');
const cpuProfDir = args['cpu-prof'];
if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });

/** Go memberlist flags with Herald's profile timers (bench/membership/go/main.go). */
function goTimerFlags(): string[] {
  if (goTimers === 'default') return [];
  const p = PROFILES[profile];
  return [
    ['-probe-interval-ms', p.probeIntervalMs],
    ['-probe-timeout-ms', p.probeTimeoutMs],
    ['-indirect-checks', p.indirectChecks],
    ['-gossip-interval-ms', p.gossipIntervalMs],
    ['-gossip-nodes', p.gossipNodes],
    ['-gossip-to-the-dead-ms', p.gossipToTheDeadMs],
    ['-suspicion-mult', p.suspicionMult],
    ['-suspicion-max-timeout-mult', p.suspicionMaxTimeoutMult],
    ['-retransmit-mult', p.retransmitMult],
    ['-awareness-max-multiplier', p.awarenessMaxMultiplier],
    ['-push-pull-ms', p.pushPullIntervalMs],
    ['-tcp-timeout-ms', p.tcpTimeoutMs],
  ].flatMap(([flag, v]) => [String(flag), String(v)]);
}

const live = new Set<Peer>();
const namespaces: string[] = [];
function cleanupSync(): void {
  for (const p of live) p.kill('SIGKILL');
  for (const ns of namespaces) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // gone
    }
  }
}
process.on('exit', cleanupSync);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

let goBinary = '';

/** Node flags of a Herald member: member 0 is profiled with --cpu-prof DIR. */
function profFlags(name: string): string[] {
  if (cpuProfDir === undefined || name !== 'herald-0') return [];
  return [
    '--cpu-prof',
    '--cpu-prof-dir',
    cpuProfDir,
    '--cpu-prof-name',
    `herald-0-n${currentN}-${process.pid}.cpuprofile`,
  ];
}
let currentN = 0;

function startPeer(impl: Impl, name: string, port: number, seed: number | undefined, spawner: Spawner): Peer {
  const join = seed === undefined ? [] : [`127.0.0.1:${seed}`];
  const p =
    impl === 'herald'
      ? spawnHerald({
          name,
          bind: '127.0.0.1',
          port,
          join,
          profile,
          spawner,
          nodeFlags: profFlags(name),
          // A seed starved of CPU (50 members on 2 cores) can miss one exchange: retry, as a speaker does.
          extra: ['--join-retry-ms', '30000'],
        })
      : spawnGoPeer({
          binary: goBinary,
          name,
          bind: '127.0.0.1',
          port,
          join,
          spawner,
          extra: goTimerFlags(),
        });
  live.add(p);
  p.child.once('exit', () => live.delete(p));
  return p;
}

/** Restarts a killed member under the same name and port; retries if the new process dies at start. */
async function restartPeer(impl: Impl, name: string, port: number, seed: number): Promise<Peer> {
  for (let attempt = 1; ; attempt++) {
    const p = startPeer(impl, name, port, seed, hostSpawner);
    try {
      await p.waitFor((e) => e.ev === 'ready', 30_000, 'ready');
      return p;
    } catch (error) {
      if (attempt >= 3) throw error;
      process.stderr.write(`restart of ${name} failed (${(error as Error).message}); retrying\n`);
      await sleep(500);
    }
  }
}

const START_BATCH = 5;

async function startCluster(impl: Impl, n: number, basePort: number, spawner: Spawner): Promise<Peer[]> {
  const peers: Peer[] = [startPeer(impl, `${impl}-0`, basePort, undefined, spawner)];
  await peers[0]!.waitFor((e) => e.ev === 'ready', 20_000, 'ready');
  // Start in small batches, each converged before the next, so process start-up CPU (about 0.5 s of
  // CPU per Node process) does not starve the running members into a storm of false suspicions.
  for (let i = 1; i < n; i += START_BATCH) {
    const batch: Peer[] = [];
    for (let j = i; j < Math.min(n, i + START_BATCH); j++)
      batch.push(startPeer(impl, `${impl}-${j}`, basePort + j, basePort, spawner));
    await Promise.all(batch.map((p) => p.waitFor((e) => e.ev === 'ready', 120_000, 'ready')));
    peers.push(...batch);
    await waitConverged(peers, 60_000 + peers.length * 2000);
  }
  await waitConverged(peers, 120_000 + n * 2000);
  return peers;
}

async function stopCluster(peers: Peer[]): Promise<void> {
  // A profiled member writes its profile on a clean exit only.
  const profiled = cpuProfDir === undefined ? [] : peers.filter((p) => p.name === 'herald-0');
  for (const p of profiled) p.kill('SIGTERM');
  await Promise.all(profiled.map((p) => p.exited(10_000)));
  for (const p of peers) p.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.exited()));
}

interface DetectionResult {
  impl: Impl;
  n: number;
  repeats: number;
  samplesMs: number[];
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  /** Median over repeats of the time until the first survivor reports the victim dead. */
  firstMedianMs: number;
  falseDeaths: number;
  /** 1-minute load average when this size's kills started and ended. */
  load1m?: { start: number; end: number };
}

async function detection(
  impl: Impl,
  n: number,
  basePort: number,
): Promise<{ det: DetectionResult; cpu?: CpuResult }> {
  const peers = await startCluster(impl, n, basePort, hostSpawner);
  const settle = impl === 'go' ? 3000 : 1500 + n * 40;
  await sleep(settle);
  let cpu: CpuResult | undefined;
  if (cpuWindow > 0) {
    // Steady state: join traffic over, and Node's JIT done with the hot paths.
    await sleep(cpuSettle * 1000);
    cpu = await measureCpu(impl, peers);
  }
  const samples: number[] = [];
  const firsts: number[] = [];
  const loadKills = round(loadavg()[0]!, 1);
  let falseDeaths = 0;
  for (let r = 0; r < repeats; r++) {
    const vi = 1 + (r % (n - 1));
    const victim = peers[vi]!;
    const survivors = peers.filter((p) => p !== victim);
    const marks = survivors.map((p) => p.events.length);
    const t0 = Date.now();
    victim.kill('SIGKILL');
    const seen = await Promise.all(
      survivors.map((p, i) =>
        p.waitFor((e) => e.ev === 'dead' && e.node === victim.name, 120_000, `dead ${victim.name}`, marks[i]),
      ),
    );
    const times = seen.map((e) => e.t - t0);
    samples.push(Math.max(...times));
    firsts.push(Math.min(...times));
    survivors.forEach((p, i) => {
      falseDeaths += p.events.slice(marks[i]).filter((e) => e.ev === 'dead' && e.node !== victim.name).length;
    });
    process.stderr.write(`${impl} n=${n} repeat ${r + 1}/${repeats}: ${Math.max(...times)} ms\n`);
    await victim.exited();
    peers[vi] = await restartPeer(impl, victim.name, victim.port, peers[0]!.port);
    await waitConverged(peers, 60_000);
    await sleep(settle);
  }
  await stopCluster(peers);
  return {
    det: {
      impl,
      n,
      repeats,
      samplesMs: samples,
      medianMs: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      minMs: Math.min(...samples),
      maxMs: Math.max(...samples),
      firstMedianMs: percentile(firsts, 50),
      falseDeaths,
      load1m: { start: loadKills, end: round(loadavg()[0]!, 1) },
    },
    cpu,
  };
}

interface CpuResult {
  impl: Impl;
  n: number;
  windowS: number;
  meanCpuPercent: number;
  maxCpuPercent: number;
  /** Members measured (all but the one under --cpu-prof). */
  measured?: number;
  /** Seconds the quiet cluster ran after the settle before the window (older results: --cpu-settle-seconds). */
  settleS?: number;
  load1m?: { start: number; end: number };
}

async function measureCpu(impl: Impl, all: Peer[]): Promise<CpuResult> {
  // The profiled member pays the profiler's overhead: it is left out of the CPU figures.
  const peers = all.filter((p) => profFlags(p.name).length === 0);
  const loadStart = round(loadavg()[0]!, 1);
  const before = await Promise.all(peers.map((p) => cpuSeconds(p.pid)));
  const t0 = Date.now();
  await sleep(cpuWindow * 1000);
  const after = await Promise.all(peers.map((p) => cpuSeconds(p.pid)));
  const wall = (Date.now() - t0) / 1000;
  const pct = after.map((a, i) => ((a - before[i]!) / wall) * 100);
  return {
    impl,
    n: all.length,
    measured: peers.length,
    windowS: Math.round(wall),
    meanCpuPercent: round(pct.reduce((a, b) => a + b, 0) / pct.length, 2),
    maxCpuPercent: round(Math.max(...pct), 2),
    settleS: cpuSettle,
    load1m: { start: loadStart, end: round(loadavg()[0]!, 1) },
  };
}

interface LossResult {
  impl: Impl;
  n: number;
  durationS: number;
  lossPercent: number;
  falseDeaths: number;
  suspicions: number;
  droppedByNft?: number;
}

async function lossRun(): Promise<LossResult[]> {
  const ns = `${namespacePrefix()}loss${process.pid % 1000}`;
  execFileSync('ip', ['netns', 'add', ns]);
  namespaces.push(ns);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const spawner: Spawner = (cmd, a) =>
    spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...a], { stdio: 'pipe' });
  const clusters = new Map<Impl, Peer[]>();
  for (const impl of impls)
    clusters.set(impl, await startCluster(impl, lossN, impl === 'herald' ? 23000 : 24000, spawner));
  // Loss only once everyone is in, so join is not what we measure.
  const rules = [
    'table inet hrlh4loss {',
    '  chain in {',
    '    type filter hook input priority 0; policy accept;',
    `    meta l4proto { tcp, udp } th dport 23000-24999 numgen random mod 100 < ${lossPercent} counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
  execFileSync('nsenter', [`--net=/run/netns/${ns}`, 'nft', '-f', '-'], { input: rules });
  const marks = new Map<Impl, number[]>();
  for (const [impl, peers] of clusters)
    marks.set(
      impl,
      peers.map((p) => p.events.length),
    );
  const t0 = Date.now();
  while (Date.now() - t0 < lossSeconds * 1000) {
    await sleep(Math.min(10_000, lossSeconds * 1000 - (Date.now() - t0)));
    for (const peers of clusters.values())
      for (const p of peers) if (!p.alive()) throw new Error(`${p.name} exited`);
  }
  const durationS = Math.round((Date.now() - t0) / 1000);
  const counter = execFileSync('nsenter', [
    `--net=/run/netns/${ns}`,
    'nft',
    'list',
    'table',
    'inet',
    'hrlh4loss',
  ]).toString();
  const dropped = Number(/packets (\d+)/.exec(counter)?.[1] ?? Number.NaN);
  const out: LossResult[] = [];
  for (const [impl, peers] of clusters) {
    const m = marks.get(impl)!;
    const evs = peers.flatMap((p, i) => p.events.slice(m[i]));
    out.push({
      impl,
      n: lossN,
      durationS,
      lossPercent,
      falseDeaths: evs.filter((e) => e.ev === 'dead').length,
      suspicions: evs.filter((e) => e.ev === 'suspect').length,
      droppedByNft: dropped,
    });
    await stopCluster(peers);
  }
  execFileSync('ip', ['netns', 'del', ns]);
  namespaces.splice(namespaces.indexOf(ns), 1);
  return out;
}

function lossTable(loss: LossResult[]): string[] {
  return [
    '## Random packet loss (nftables numgen drop on the namespace loopback, TCP and UDP)',
    '',
    '| impl | N | duration s | loss % | packets dropped (both clusters) | suspicions | false deaths |',
    '|---|---|---|---|---|---|---|',
    ...loss.map(
      (l) =>
        `| ${l.impl} | ${l.n} | ${l.durationS} | ${l.lossPercent} | ${l.droppedByNft} | ${l.suspicions} | ${l.falseDeaths} |`,
    ),
    '',
  ];
}

function goConfigText(): string {
  return goTimers === 'default'
    ? 'DefaultLANConfig (probe 1 s / 500 ms, suspicion mult 4 (max ×6), gossip 200 ms × 3) = MetalLB'
    : `DefaultLANConfig with the timers of Herald's \`${profile}\` profile (probe, indirect checks, gossip, suspicion, retransmit, awareness, push-pull, TCP timeout)`;
}

function round(x: number, d = 0): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

interface Part {
  started: string;
  finished: string;
  command: string;
  host: {
    cpus: number;
    cpuModel?: string;
    kernel: string;
    node: string;
    loadAverage1m: { start: number; end: number };
  };
}

interface Result {
  benchmark: 'membership';
  parts: Part[];
  heraldProfile: Record<string, unknown>;
  goMemberlist: string;
  goTimers: string;
  detection: DetectionResult[];
  cpu: CpuResult[];
  loss: LossResult[];
}

function writeResult(result: Result): void {
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${args.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const md = markdown(result);
  writeFileSync(join(dir, `${args.out}.md`), md);
  process.stdout.write(md);
}

/** Results written before runs had parts: one part from the top-level fields. */
type OldResult = Result & Partial<Part>;

function asResult(r: OldResult): Result {
  if (r.parts) return r;
  const { started = '', finished = '', command = '', host, ...rest } = r;
  if (!host) throw new Error('--merge: a result without host or parts');
  return { ...rest, parts: [{ started, finished, command, host }] };
}

/** `--merge a,b`: one report from the results of runs split to keep each under the heavy lock's limit. */
function merge(names: string[]): void {
  const dir = join(projectRoot(), 'bench', 'results');
  const rs = names.map((n) =>
    asResult(JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as OldResult),
  );
  const first = rs[0];
  if (!first) throw new Error('--merge: no parts');
  writeResult({
    ...first,
    parts: rs.flatMap((r) => r.parts),
    detection: rs.flatMap((r) => r.detection),
    cpu: rs.flatMap((r) => r.cpu),
    loss: rs.flatMap((r) => r.loss),
  });
}

async function main(): Promise<void> {
  if (args.merge) return merge(args.merge.split(','));
  const started = new Date().toISOString();
  const loadStart = loadavg()[0]!;
  let cleanupGo: (() => Promise<void>) | undefined;
  if (impls.includes('go')) {
    const built = await buildGoPeer();
    goBinary = built.binary;
    cleanupGo = built.cleanup;
  }
  const detections: DetectionResult[] = [];
  const cpuResults: CpuResult[] = [];
  try {
    let port = 21000;
    for (const n of sizes) {
      currentN = n;
      for (const impl of impls) {
        const { det, cpu } = await detection(impl, n, port);
        port += 100;
        detections.push(det);
        if (cpu) cpuResults.push(cpu);
      }
    }
    const loss = lossSeconds > 0 ? await lossRun() : [];
    writeResult({
      benchmark: 'membership',
      parts: [
        {
          started,
          finished: new Date().toISOString(),
          command: `node dist/bench/membership/run.js ${process.argv.slice(2).join(' ')}`.trim(),
          host: {
            cpus: cpus().length,
            cpuModel: cpus()[0]?.model,
            kernel: release(),
            node: process.version,
            // The machine may be shared: the 1-minute load average at start and end says how busy it was.
            loadAverage1m: { start: round(loadStart, 1), end: round(loadavg()[0]!, 1) },
          },
        },
      ],
      heraldProfile: { name: profile, ...PROFILES[profile] },
      goMemberlist: `hashicorp/memberlist v0.2.2 (Debian golang-github-hashicorp-memberlist-dev), ${goConfigText()}`,
      goTimers,
      detection: detections,
      cpu: cpuResults,
      loss,
    });
  } finally {
    await cleanupGo?.();
  }
}

function markdown(r: Result): string {
  const p = PROFILES[profile];
  const lines = [
    '# Membership benchmark: Herald vs HashiCorp memberlist',
    '',
    ...r.parts.map(
      (x) =>
        `Run ${x.started} on ${x.host.cpus} vCPU (${x.host.cpuModel ?? '?'}), kernel ${x.host.kernel}, Node ${x.host.node}; ` +
        `1-minute load average ${x.host.loadAverage1m.start} at start, ${x.host.loadAverage1m.end} at end (other work shared the machine). ` +
        `Rerun: \`${x.command}\` (as root; needs golang-go + golang-github-hashicorp-memberlist-dev).`,
    ),
    '',
    `Herald profile \`${profile}\`: probe ${p.probeIntervalMs} ms / timeout ${p.probeTimeoutMs} ms, ` +
      `suspicion mult ${p.suspicionMult} (max ×${p.suspicionMaxTimeoutMult}), gossip ${p.gossipIntervalMs} ms × ${p.gossipNodes}. ` +
      `Go memberlist: ${r.goMemberlist}.`,
    '',
    '## Detection of a SIGKILLed member (time until every survivor reports it dead)',
    '',
    '| impl | N | repeats | median ms | p95 ms | min ms | max ms | first survivor median ms | false deaths | load 1 min |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.detection.map(
      (d) =>
        `| ${d.impl} | ${d.n} | ${d.repeats} | ${d.medianMs} | ${d.p95Ms} | ${d.minMs} | ${d.maxMs} | ${d.firstMedianMs} | ${d.falseDeaths} | ${loadText(d.load1m)} |`,
    ),
    '',
    '## CPU per member (quiet cluster, all members on this machine)',
    '',
    '| impl | N | members measured | quiet for s before | window s | mean CPU % per member | max CPU % | load 1 min |',
    '|---|---|---|---|---|---|---|---|',
    ...r.cpu.map(
      (c) =>
        `| ${c.impl} | ${c.n} | ${c.measured ?? c.n} | ${c.settleS ?? cpuSettle} | ${c.windowS} | ${c.meanCpuPercent} | ${c.maxCpuPercent} | ${loadText(c.load1m)} |`,
    ),
    '',
    ...(r.loss.length === 0 ? [] : lossTable(r.loss)),
    '',
  ];
  return lines.join('\n');
}

function loadText(l: { start: number; end: number } | undefined): string {
  return l ? `${l.start} → ${l.end}` : '';
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`membership bench failed: ${(error as Error).stack ?? String(error)}\n`);
    // Exit explicitly: the peers' pipes would keep the event loop alive; the exit hook kills them.
    process.exit(1);
  });
