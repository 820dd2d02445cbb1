/**
 * L2 scale on real speakers in namespaces, as root: N VIPs (default 10,000) on 3 standalone speakers,
 * watched from a client by the 20 ms ARP watcher (a sample of the VIPs, every speaker's heartbeat age
 * each round). Measures start → every sampled VIP answered, then keeps watching for --window-seconds
 * (through the 30 s refresh) and counts dual rounds (two MACs: must stay 0), silent rounds after all were
 * answered, the speakers' heartbeat ages and the control-loop stalls they logged.
 *
 *   node_modules/.bin/node dist/bench/scale/run.js [--vips 10000] [--sample 200] [--window-seconds 60]
 *                                                  [--scenario start|join|restart]
 *                                                  [--cpu-prof DIR] [--no-write] [--keep-logs DIR]
 *
 * --scenario join starts two speakers, waits until they answer every sampled VIP, then starts the third
 * (a node joining a running cluster: the others hand it its VIPs); restart starts all three, then stops
 * the third with SIGTERM (its successors take over), and once every VIP is answered again starts it again
 * (a rolling upgrade's step: they hand its VIPs back). Both report the dual and silent VIP-rounds from the
 * third speaker's (re)start on, and a timeline of the speakers' releases, takeovers and gate openings.
 * --cpu-prof runs each speaker under `node --cpu-prof` (profiles in DIR, written at a SIGTERM stop) and
 * prints each profile's top self-time functions. Writes bench/results/scale.json and its section of
 * bench/results/scale.md (one section per VIP count). --keep-logs DIR copies every speaker's log and every
 * watcher round there, also when the run fails.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { sleep } from '../../src/util/wait.js';
import { ArpWatch } from '../../test/helpers/arp-watch.js';
import { SCALE_NET4, scaleConfig } from '../../test/helpers/scale.js';
import { writeSection } from '../markdown.js';
import { stallsIn, topSelfTime } from './profile.js';
import { timeline, timelineLines } from './timeline.js';

const { values: args } = parseArgs({
  options: {
    vips: { type: 'string', default: '10000' },
    sample: { type: 'string', default: '200' },
    'window-seconds': { type: 'string', default: '60' },
    'cpu-prof': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'start-timeout-seconds': { type: 'string', default: '180' },
    'keep-logs': { type: 'string' },
    scenario: { type: 'string', default: 'start' },
    /** Profile summaries leave out this much of each profile's start (start-up: module loading, BPF load). */
    'cpu-prof-skip-seconds': { type: 'string', default: '0' },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
  },
});
const VIPS = Number(args.vips);
const SAMPLE = Number(args.sample);
const WINDOW_MS = Math.min(Number(args['window-seconds']), 300) * 1000;
const ALL_ANSWERED_TIMEOUT_MS = Number(args['start-timeout-seconds']) * 1000;
const SCENARIO = args.scenario;
if (SCENARIO !== 'start' && SCENARIO !== 'join' && SCENARIO !== 'restart')
  throw new Error(`--scenario: start, join or restart (got ${SCENARIO})`);
/** How long the cluster runs steady before the third speaker joins or restarts. */
const SETTLE_MS = 3000;

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
    const third = cluster.nodes.at(-1)!;
    if (SCENARIO === 'join') for (const n of cluster.nodes.slice(0, -1)) cluster.startSpeaker(n);
    else await cluster.startAll();
    const allAt = await allAnswered(w, startedAt);
    const loadAtAll = load1();
    process.stdout.write(
      `start → all ${w.vips.length} sampled answered: ${allAt - startedAt} ms (load ${loadAtAll})\n`,
    );
    const handBack = SCENARIO === 'start' ? undefined : await handOver(cluster, w, third, allAt);
    await sleep(Math.max(0, (handBack?.at ?? allAt) + WINDOW_MS - Date.now()));
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
      ...(handBack ? { handBack: handBackOut(cluster, w, handBack, third.name) } : {}),
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
      all[SCENARIO === 'start' ? String(VIPS) : `${VIPS}-${SCENARIO}`] = out;
      writeFileSync(jsonFile, `${JSON.stringify(all, null, 2)}\n`);
      writeSection(join(args.out, 'scale.md'), md, heading(VIPS));
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

async function allAnswered(w: ArpWatch, sinceMs: number): Promise<number> {
  for (;;) {
    const at = w.summary(sinceMs).firstAllAnsweredAt;
    if (at !== undefined) return at;
    if (Date.now() - sinceMs > ALL_ANSWERED_TIMEOUT_MS)
      throw new Error(`not every sampled VIP answered within ${ALL_ANSWERED_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

interface HandBack {
  /** When the third speaker was (re)started. */
  at: number;
  /** restart: when it was stopped, and when every sampled VIP was answered again after that. */
  stoppedAt?: number;
  answeredAgainAt?: number;
}

/** join: the third speaker starts; restart: it stops (SIGTERM) and, once all are answered again, starts. */
async function handOver(cluster: LabCluster, w: ArpWatch, third: LabNode, allAt: number): Promise<HandBack> {
  await sleep(Math.max(0, allAt + SETTLE_MS - Date.now()));
  if (SCENARIO === 'join') {
    const at = Date.now();
    cluster.startSpeaker(third);
    return { at };
  }
  const stoppedAt = Date.now();
  await cluster.killSpeaker(third, 'SIGTERM');
  // The rounds right after the stop may still be answered by the stopping speaker: look from a moment on.
  await sleep(500);
  const answeredAgainAt = await allAnswered(w, stoppedAt + 500);
  const at = Date.now();
  cluster.startSpeaker(third);
  return { at, stoppedAt, answeredAgainAt };
}

function handBackOut(cluster: LabCluster, w: ArpWatch, h: HandBack, thirdName: string) {
  const s = w.summary(h.at, Date.now());
  const stop = h.stoppedAt === undefined ? undefined : w.summary(h.stoppedAt, h.at);
  const logs = cluster.nodes.map((n): [string, string] => [n.name, readFileSync(n.logFile, 'utf8')]);
  return {
    scenario: SCENARIO,
    speaker: thirdName,
    dualRounds: s.dualRounds,
    silentRounds: s.silentRounds,
    longestSilentMs: s.longestSilentMs,
    silentVips: s.silentMsByVip.size,
    ...(stop && h.stoppedAt !== undefined
      ? {
          stop: {
            dualRounds: stop.dualRounds,
            silentRounds: stop.silentRounds,
            longestSilentMs: stop.longestSilentMs,
            answeredAgainMs: (h.answeredAgainAt ?? h.at) - h.stoppedAt,
          },
        }
      : {}),
    timeline: timelineLines(timeline(logs, h.at)).slice(0, 60),
  };
}

function heading(vips: number): string {
  const n = vips.toLocaleString('en');
  if (SCENARIO === 'join') return `## ${n} VIPs, a third speaker joining`;
  if (SCENARIO === 'restart') return `## ${n} VIPs, a speaker restarting`;
  return `## ${n} VIPs on 3 speakers`;
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
  handBack?: ReturnType<typeof handBackOut>;
}

function report(o: Out): string {
  const nodes = Object.keys(o.maxHeartbeatAgeMs);
  return `${heading(o.vips)}

${o.started}, Node ${o.node}, ${o.cpus}; 1-minute load ${o.load.start} at start, ${o.load.allAnswered} when all
were answered, ${o.load.end} at the end (shared machine; benchmarks run one at a time under the heavy lock).
Command: \`node_modules/.bin/node dist/bench/scale/run.js --vips ${o.vips} --sample ${o.sampled} --window-seconds ${o.windowMs / 1000}${SCENARIO === 'start' ? '' : ` --scenario ${SCENARIO}`}\` (root).
Standalone speakers in namespaces (generic XDP), every node eligible for every VIP; a client's ARP watcher
asks for ${o.sampled} sampled VIPs every 20 ms and reads every speaker's heartbeat age each round.

| | ${nodes.join(' | ')} |
|---|${nodes.map(() => '---|').join('')}
| highest heartbeat age after all answered (ms) | ${nodes.map((n) => o.maxHeartbeatAgeMs[n]).join(' | ')} |
| control-loop stalls logged (≥ 100 ms): count, longest | ${nodes.map((n) => `${o.controlLoopStalls[n]?.count ?? 0}, ${o.controlLoopStalls[n]?.maxMs ?? 0} ms`).join(' | ')} |

- start → every sampled VIP answered by exactly one node: **${fmt(o.startToAllAnsweredMs / 1000, 2)} s**
- then ${fmt(o.windowMs / 1000, 0)} s watched (through the 30 s refresh): **${o.dualRounds} dual** VIP-rounds of ${o.rounds} rounds
  from the start (${o.dualRoundsBeforeAllAnswered} of them before all were answered), ${o.silentRoundsAfterAllAnswered} silent VIP-rounds after all were answered (longest ${o.longestSilentMsAfterAllAnswered} ms)
${o.handBack ? handBackReport(o.handBack) : ''}`;
}

function handBackReport(h: NonNullable<Out['handBack']>): string {
  const stop = h.stop
    ? `- ${h.speaker} stopped (SIGTERM): ${h.stop.dualRounds} dual, ${h.stop.silentRounds} silent VIP-rounds (longest ${h.stop.longestSilentMs} ms), all answered again after ${h.stop.answeredAgainMs} ms\n`
    : '';
  const what = h.scenario === 'join' ? 'joining the running two' : 'started again';
  return `${stop}- ${h.speaker} ${what}, from its start to the end: **${h.dualRounds} dual**, **${h.silentRounds} silent** VIP-rounds over ${h.silentVips} VIPs (longest **${h.longestSilentMs} ms**)

Timeline from ${h.speaker}'s start (the speakers' own log times):

\`\`\`
${h.timeline.join('\n')}
\`\`\`
`;
}

await main();
