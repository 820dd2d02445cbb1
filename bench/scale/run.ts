/**
 * L2 scale on real speakers in namespaces, as root: N VIPs (default 10,000) on 3 standalone speakers,
 * watched from a client by the 20 ms ARP watcher (a sample of the VIPs, every speaker's heartbeat age
 * each round). Measures start → every sampled VIP answered, then keeps watching for --window-seconds
 * (through the 30 s refresh) and counts dual rounds (two MACs: must stay 0), silent rounds after all were
 * answered, the speakers' heartbeat ages and the control-loop stalls they logged.
 *
 *   node_modules/.bin/node dist/bench/scale/run.js [--vips 10000] [--sample 200] [--window-seconds 60]
 *                                                  [--cpu-prof DIR] [--no-write] [--keep-logs DIR]
 *
 * --cpu-prof runs each speaker under `node --cpu-prof` (profiles in DIR, written at a SIGTERM stop) and
 * prints each profile's top self-time functions. Writes bench/results/scale.json and its section of
 * bench/results/scale.md (one section per VIP count). --keep-logs DIR copies every speaker's log and every
 * watcher round there, also when the run fails.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabCluster } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { sleep } from '../../src/util/wait.js';
import { ArpWatch } from '../../test/helpers/arp-watch.js';
import { SCALE_NET4, scaleConfig } from '../../test/helpers/scale.js';
import { writeSection } from '../markdown.js';
import { stallsIn, topSelfTime } from './profile.js';

const { values: args } = parseArgs({
  options: {
    vips: { type: 'string', default: '10000' },
    sample: { type: 'string', default: '200' },
    'window-seconds': { type: 'string', default: '60' },
    'cpu-prof': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'start-timeout-seconds': { type: 'string', default: '180' },
    'keep-logs': { type: 'string' },
    /** Profile summaries leave out this much of each profile's start (start-up: module loading, BPF load). */
    'cpu-prof-skip-seconds': { type: 'string', default: '0' },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
  },
});
const VIPS = Number(args.vips);
const SAMPLE = Number(args.sample);
const WINDOW_MS = Math.min(Number(args['window-seconds']), 300) * 1000;
const ALL_ANSWERED_TIMEOUT_MS = Number(args['start-timeout-seconds']) * 1000;

const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const loadStart = load1();
  const config = scaleConfig(VIPS);
  const vips = [...labAllocations(config).values()].flat();
  if (vips.length !== VIPS) throw new Error(`${vips.length} VIPs allocated, expected ${VIPS}`);
  const profDir = args['cpu-prof'];
  if (profDir) mkdirSync(profDir, { recursive: true });
  const cluster = await LabCluster.create({
    tag: 'sb',
    nodes: 3,
    clients: 1,
    config,
    vips: [],
    ...(profDir ? { speakerWrapper: ['env', `NODE_OPTIONS=--cpu-prof --cpu-prof-dir=${profDir}`] } : {}),
  });
  let watch: ArpWatch | undefined;
  let startedAtMs: number | undefined;
  try {
    const client = cluster.clients[0]!;
    await cluster.lan.ip(client.ns, 'route', 'add', `${SCALE_NET4}.0.0/16`, 'dev', 'eth0');
    watch = await ArpWatch.start(cluster.lan, client.ns, {
      source4: client.ip4,
      vips,
      sample: SAMPLE,
      maxDurationMs: ALL_ANSWERED_TIMEOUT_MS + WINDOW_MS + 30_000,
      heartbeatPins: cluster.nodes.map((n) => n.pinDir),
    });
    const w = watch;
    const startedAt = Date.now();
    startedAtMs = startedAt;
    await cluster.startAll();
    while (w.summary(startedAt).firstAllAnsweredAt === undefined) {
      if (Date.now() - startedAt > ALL_ANSWERED_TIMEOUT_MS)
        throw new Error(`not every sampled VIP answered within ${ALL_ANSWERED_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
    const allAt = w.summary(startedAt).firstAllAnsweredAt!;
    const loadAtAll = load1();
    process.stdout.write(
      `start → all ${w.vips.length} sampled answered: ${allAt - startedAt} ms (load ${loadAtAll})\n`,
    );
    await sleep(Math.max(0, allAt + WINDOW_MS - Date.now()));
    const whole = w.summary(startedAt, Date.now());
    const after = w.summary(allAt + 1, Date.now());
    const loadEnd = load1();
    if (profDir) for (const n of cluster.nodes) await cluster.killSpeaker(n, 'SIGTERM');
    await w.stop();
    const stalls = cluster.nodes.map((n) => stallsIn(readFileSync(n.logFile, 'utf8')));
    keepLogs(cluster, w, startedAt);
    const duringStart = w.summary(startedAt, allAt);
    const out = {
      started,
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      vips: VIPS,
      sampled: w.vips.length,
      speakers: cluster.nodes.length,
      load: { start: loadStart, allAnswered: loadAtAll, end: loadEnd },
      startToAllAnsweredMs: allAt - startedAt,
      windowMs: WINDOW_MS,
      rounds: whole.rounds,
      dualRounds: whole.dualRounds,
      dualRoundsBeforeAllAnswered: duringStart.dualRounds,
      dualSamples: whole.dualSamples.map((d) => ({ ...d, sinceStartMs: d.at - startedAt })),
      silentRoundsAfterAllAnswered: after.silentRounds,
      longestSilentMsAfterAllAnswered: after.longestSilentMs,
      maxHeartbeatAgeMs: Object.fromEntries(
        cluster.nodes.map((n, i) => [n.name, after.maxHeartbeatAgeMs[i] ?? -1]),
      ),
      maxHeartbeatAgeFromStartMs: Object.fromEntries(
        cluster.nodes.map((n, i) => [n.name, whole.maxHeartbeatAgeMs[i] ?? -1]),
      ),
      controlLoopStalls: Object.fromEntries(cluster.nodes.map((n, i) => [n.name, stalls[i]!])),
    };
    const md = report(out);
    process.stdout.write(md);
    if (profDir) {
      const skipMs = Number(args['cpu-prof-skip-seconds']) * 1000;
      for (const line of topSelfTime(profDir, 25, skipMs)) process.stdout.write(`${line}\n`);
    }
    if (!args['no-write']) {
      mkdirSync(args.out, { recursive: true });
      const jsonFile = join(args.out, 'scale.json');
      const all = readJson(jsonFile);
      all[String(VIPS)] = out;
      writeFileSync(jsonFile, `${JSON.stringify(all, null, 2)}\n`);
      writeSection(join(args.out, 'scale.md'), md, `## ${VIPS.toLocaleString('en')} VIPs`);
    }
  } catch (error) {
    // A run that never got every VIP answered is the one whose logs matter most.
    if (watch) keepLogs(cluster, watch, startedAtMs);
    for (const n of cluster.nodes) {
      const lines = readFileSync(n.logFile, 'utf8').trimEnd().split('\n');
      process.stderr.write(
        `${n.name} log (last 20 of ${lines.length} lines):\n${lines.slice(-20).join('\n')}\n`,
      );
    }
    throw error;
  } finally {
    await watch?.stop().catch(() => undefined);
    await cluster.destroy();
  }
}

/** --keep-logs DIR: every speaker's log and every watcher round (ms since the start when known). */
function keepLogs(cluster: LabCluster, w: ArpWatch, startedAt: number | undefined): void {
  const keep = args['keep-logs'];
  if (!keep) return;
  mkdirSync(keep, { recursive: true });
  for (const n of cluster.nodes) copyFileSync(n.logFile, join(keep, `${n.name}.log`));
  const since = (t: number) => (startedAt === undefined ? {} : { sinceStartMs: t - startedAt });
  writeFileSync(
    join(keep, 'rounds.jsonl'),
    w.rounds.map((r) => JSON.stringify({ ...r, ...since(r.t) })).join('\n'),
  );
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

interface Out {
  started: string;
  node: string;
  cpus: string;
  vips: number;
  sampled: number;
  load: { start: number; allAnswered: number; end: number };
  startToAllAnsweredMs: number;
  windowMs: number;
  rounds: number;
  dualRounds: number;
  dualRoundsBeforeAllAnswered: number;
  silentRoundsAfterAllAnswered: number;
  longestSilentMsAfterAllAnswered: number;
  maxHeartbeatAgeMs: Record<string, number>;
  controlLoopStalls: Record<string, { count: number; maxMs: number }>;
}

function report(o: Out): string {
  const nodes = Object.keys(o.maxHeartbeatAgeMs);
  return `## ${o.vips.toLocaleString('en')} VIPs on 3 speakers

${o.started}, Node ${o.node}, ${o.cpus}; 1-minute load ${o.load.start} at start, ${o.load.allAnswered} when all
were answered, ${o.load.end} at the end (shared machine; benchmarks run one at a time under the heavy lock).
Command: \`node_modules/.bin/node dist/bench/scale/run.js --vips ${o.vips} --sample ${o.sampled} --window-seconds ${o.windowMs / 1000}\` (root).
Standalone speakers in namespaces (generic XDP), every node eligible for every VIP; a client's ARP watcher
asks for ${o.sampled} sampled VIPs every 20 ms and reads every speaker's heartbeat age each round.

| | ${nodes.join(' | ')} |
|---|${nodes.map(() => '---|').join('')}
| highest heartbeat age after all answered (ms) | ${nodes.map((n) => o.maxHeartbeatAgeMs[n]).join(' | ')} |
| control-loop stalls logged (≥ 100 ms): count, longest | ${nodes.map((n) => `${o.controlLoopStalls[n]?.count ?? 0}, ${o.controlLoopStalls[n]?.maxMs ?? 0} ms`).join(' | ')} |

- start → every sampled VIP answered by exactly one node: **${fmt(o.startToAllAnsweredMs / 1000, 2)} s**
- then ${fmt(o.windowMs / 1000, 0)} s watched (through the 30 s refresh): **${o.dualRounds} dual** VIP-rounds of ${o.rounds} rounds
  from the start (${o.dualRoundsBeforeAllAnswered} of them before all were answered), ${o.silentRoundsAfterAllAnswered} silent VIP-rounds after all were answered (longest ${o.longestSilentMsAfterAllAnswered} ms)
`;
}

await main();
