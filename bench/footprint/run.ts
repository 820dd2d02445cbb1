/**
 * Speaker footprint: one standalone speaker alone on a LAN namespace, with 10, 1,000 and 10,000 L2 VIPs.
 *
 *   node dist/bench/footprint/run.js [--vips 10,1000,10000] [--idle-s 30] [--node /usr/bin/node ...]
 *     [--flags='--max-opt=2' ...] [--cpu-prof DIR] [--heap-snapshot DIR] [--peer] [--nodes N] [--settle-s 5]
 *
 * Per size: start → every VIP in the XDP answer map; RSS (and peak) once settled; idle CPU over --idle-s;
 * at the largest size a reload that adds one service (SIGHUP → the new VIP in the map, and a file write →
 * the new VIP, which includes the file watch's debounce). `--node` adds a row per extra Node binary
 * (e.g. the machine's Node 20) beside the project's own. Idle CPU is also split by thread. `--cpu-prof DIR`
 * writes the speaker main thread's CPU profile per size to DIR (the profiler's own cost is in the row).
 * `--flags` adds a row per set of extra Node flags for the speaker (V8 flags that trade speed for memory);
 * `--heap-snapshot DIR` writes the main thread's heap after the idle window. `--nodes N` runs N speakers in
 * one cluster and measures the first (results in footprint-N-nodes.{json,md}). `--peer` measures keepalived
 * (VRRPv3, advert_int 0.1 s, one IPv4 and one IPv6 instance) on the same namespace over the same window.
 * Writes bench/results/footprint.{json,md}.
 */
import { mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HERALD_NODE_FLAGS } from '../../src/util/node-flags.js';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { projectRoot } from '../../src/util/paths.js';
import { hasVipEntry, readDataplane } from '../../src/lab/observe.js';
import { sleep, waitFor } from '../../src/util/wait.js';
import {
  moduleFloorRssMb,
  processSample,
  runCommand,
  type ThreadIdle,
  threadIdle,
  threadSamples,
  writeResults,
} from './measure.js';
import { KeepalivedCluster } from '../failover/keepalived.js';
import { footprintConfig, footprintService, footprintVip } from './scenario.js';

const { values: args } = parseArgs({
  options: {
    vips: { type: 'string', default: '10,1000,10000' },
    'idle-s': { type: 'string', default: '30' },
    /** Wait this long after every VIP is programmed before the idle window (start-up garbage, first GCs). */
    'settle-s': { type: 'string', default: '5' },
    node: { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'string' },
    flags: { type: 'string', multiple: true, default: [''] },
    'heap-snapshot': { type: 'string' },
    peer: { type: 'boolean', default: false },
    nodes: { type: 'string', default: '1' },
  },
});
const sizes = args.vips.split(',').map(Number);
const idleMs = Number(args['idle-s']) * 1000;
const nodeBins = [process.execPath, ...args.node];
const cpuProfDir = args['cpu-prof'];
if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
const flagSets = args.flags.map((f) => f.split(' ').filter(Boolean));
const heapDir = args['heap-snapshot'];
/** Speakers in the cluster (all run; the first is measured): 1 is a speaker alone, with nobody to watch. */
const nodeCount = Number(args.nodes);
if (heapDir !== undefined) mkdirSync(heapDir, { recursive: true });

interface Row {
  node: string;
  /** Node flags added to the speaker's own (HERALD_NODE_FLAGS). */
  flags: string;
  vips: number;
  /** Speakers in the cluster; the row is the first one's. */
  nodes: number;
  startToProgrammedMs: number;
  rssMb: number;
  peakRssMb: number;
  idleCpuPercent: number;
  /** Idle CPU and wake-ups by thread name (MainThread: the control loop; WorkerThread: the owner watch's pulse). */
  idleThreads: Record<string, ThreadIdle>;
  /** VIPs the measured speaker answers at the end of the idle window (the rest it suppresses). */
  answered: number;
  reloadSighupMs?: number;
  reloadFileMs?: number;
  load1: number;
}

/** Adds one service to the file (write + rename, as an editor does) and waits for its VIP in the map. */
async function addService(cluster: LabCluster, node: LabNode, vips: number, i: number, hup: boolean) {
  let text = footprintConfig(vips, nodeCount);
  for (let j = vips; j <= i; j++) text += footprintService(j, nodeCount);
  writeFileSync(`${cluster.configPath}.tmp`, text);
  const started = performance.now();
  renameSync(`${cluster.configPath}.tmp`, cluster.configPath);
  // the file watch reloads too, after its debounce; with the signal, the signal's reload comes first
  if (hup) node.speaker?.kill('SIGHUP');
  await waitFor(`VIP of service ${i}`, 30_000, () => hasVipEntry(node, footprintVip(i)), 2);
  return Math.round(performance.now() - started);
}

/** Waits for the heap snapshot the speaker writes on SIGUSR2 (--heapsnapshot-signal) and names it. */
async function heapSnapshot(pid: number, dir: string, name: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let file = '';
  await waitFor(
    'the heap snapshot',
    120_000,
    () => (file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot')) ?? '') !== '',
    200,
  );
  // the file appears empty and grows while the snapshot streams out: wait until it stops growing
  let size = 0;
  for (;;) {
    await sleep(1000);
    const now = statSync(join(dir, file)).size;
    if (now > 0 && now === size) break;
    size = now;
  }
  renameSync(join(dir, file), join(dir, name));
}

async function measure(
  nodeBin: string,
  flags: readonly string[],
  vips: number,
  withReload: boolean,
): Promise<Row> {
  const version = (await runCommand(nodeBin, ['-p', 'process.version'])).trim();
  const cluster = await LabCluster.create({
    tag: 'fp',
    nodes: nodeCount,
    clients: 0,
    config: footprintConfig(vips, nodeCount),
    vips: [],
  });
  try {
    const node = cluster.nodes[0]!;
    const started = performance.now();
    // --cpu-prof: the main thread's profile, written at the clean exit below (the pulse thread is not profiled).
    const prof =
      cpuProfDir === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `speaker-${vips}-vips.cpuprofile`];
    const heap =
      heapDir === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`];
    const child = cluster.lan.spawn(
      node.ns,
      nodeBin,
      [...prof, ...heap, ...flags, ...cluster.speakerArgs(node)],
      {
        stdio: ['ignore', 'ignore', openSync(node.logFile, 'a')],
      },
    );
    node.speaker = child;
    // The other speakers of a cluster: started alike, not measured.
    for (const other of cluster.nodes.slice(1))
      other.speaker = cluster.lan.spawn(other.ns, nodeBin, [...flags, ...cluster.speakerArgs(other)], {
        stdio: ['ignore', 'ignore', openSync(other.logFile, 'a')],
      });
    const alive = () => {
      if (child.exitCode !== null) throw new Error(`speaker exited with ${child.exitCode}`);
      return true;
    };
    await waitFor(
      'every VIP programmed',
      180_000,
      () => alive() && hasVipEntry(node, footprintVip(vips - 1)),
      20,
    ).catch((error: unknown) => {
      process.stderr.write(readFileSync(node.logFile, 'utf8'));
      throw error;
    });
    await waitFor('every VIP programmed', 180_000, () => readDataplane(node).vips.size >= vips, 100);
    const startToProgrammedMs = Math.round(performance.now() - started);
    await sleep(Number(args['settle-s']) * 1000);
    const before = processSample(child.pid!);
    const threadsBefore = threadSamples(child.pid!);
    await sleep(idleMs);
    const after = processSample(child.pid!);
    const threadsAfter = threadSamples(child.pid!);
    const row: Row = {
      node: version,
      flags: flags.join(' '),
      vips,
      nodes: nodeCount,
      startToProgrammedMs,
      rssMb: Math.round(after.rssKb / 1024),
      peakRssMb: Math.round(after.hwmKb / 1024),
      idleCpuPercent: Number((((after.cpuMs - before.cpuMs) / idleMs) * 100).toFixed(2)),
      idleThreads: threadIdle(threadsBefore, threadsAfter, idleMs),
      answered: [...readDataplane(node).vips.values()].filter((e) => e.action === 'answer').length,
      load1: Number(loadavg()[0]!.toFixed(1)),
    };
    if (heapDir !== undefined)
      await heapSnapshot(
        child.pid!,
        heapDir,
        `speaker-${vips}-vips${flags.join('').replace(/[^a-z0-9]+/gi, '_')}.heapsnapshot`,
      );
    if (withReload) {
      row.reloadFileMs = await addService(cluster, node, vips, vips, false);
      await sleep(1000);
      row.reloadSighupMs = await addService(cluster, node, vips, vips + 1, true);
    }
    if (prof.length > 0) {
      child.kill('SIGTERM');
      await waitFor('the profiled speaker to exit', 10_000, () => child.exitCode !== null, 50);
    }
    return row;
  } finally {
    await cluster.destroy();
  }
}

interface PeerRow {
  system: string;
  rssMb: number;
  idleCpuPercent: number;
  /** Per process (keepalived's parent, its VRRP child): CPU % and wake-ups/s. */
  processes: Record<string, ThreadIdle>;
  load1: number;
}

/** keepalived at advert_int 0.1 s as master of one IPv4 and one IPv6 VIP, alone on a node like the speaker. */
async function measurePeer(): Promise<PeerRow> {
  const cluster = await LabCluster.create({
    tag: 'fp',
    nodes: 1,
    clients: 0,
    config: footprintConfig(0),
    vips: [],
  });
  const keepalived = new KeepalivedCluster(cluster, { v4: '10.90.200.1', v6: 'fd90::1' }, { advertInt: 0.1 });
  try {
    const node = cluster.nodes[0]!;
    keepalived.start(node);
    await waitFor(
      'keepalived to be master',
      30_000,
      async () => (await keepalived.holders('10.90.200.1')).length > 0,
      100,
    );
    await sleep(5000);
    const pids = keepalived.pids(node);
    const sample = () => new Map(pids.map((p) => [p.name, processSample(p.pid)] as const));
    const wakeups = () => new Map(pids.map((p) => [p.name, threadSamples(p.pid)] as const));
    const [before, threadsBefore] = [sample(), wakeups()];
    await sleep(idleMs);
    const [after, threadsAfter] = [sample(), wakeups()];
    const processes: Record<string, ThreadIdle> = {};
    let cpuMs = 0;
    let rssKb = 0;
    for (const { name } of pids) {
      const idle = Object.values(threadIdle(threadsBefore.get(name)!, threadsAfter.get(name)!, idleMs));
      processes[name] = {
        cpuPercent: Number(idle.reduce((a, t) => a + t.cpuPercent, 0).toFixed(2)),
        wakeupsPerS: idle.reduce((a, t) => a + t.wakeupsPerS, 0),
      };
      cpuMs += after.get(name)!.cpuMs - before.get(name)!.cpuMs;
      rssKb += after.get(name)!.rssKb;
    }
    return {
      system: 'keepalived VRRPv3 advert_int 0.1 s (IPv4 + IPv6 instance)',
      rssMb: Math.round(rssKb / 1024),
      idleCpuPercent: Number(((cpuMs / idleMs) * 100).toFixed(2)),
      processes,
      load1: Number(loadavg()[0]!.toFixed(1)),
    };
  } finally {
    keepalived.stopAll();
    await cluster.destroy();
  }
}

const rows: Row[] = [];
for (const vips of sizes) {
  for (const nodeBin of nodeBins) {
    for (const flags of flagSets) {
      const row = await measure(nodeBin, flags, vips, vips === Math.max(...sizes));
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
}
const peer = args.peer ? await measurePeer() : undefined;
if (peer) console.log(JSON.stringify(peer));

// Where the memory of the 10-VIP row goes: Node alone, the speaker's code loaded, plus the owner watch's
// thread (one more V8 isolate); the running speaker's own data is the rest.
// What `herald speaker --config` imports before its first decision (commands/speaker.ts loads the rest).
const speakerModules = [
  'cli/commands/speaker.js',
  'speaker/assemble.js',
  'speaker/services.js',
  'speaker/placement-coordinator.js',
  'metrics/placement.js',
].map((m) => pathToFileURL(join(projectRoot(), 'dist/src', m)).href);
const floors = {
  node: await moduleFloorRssMb(process.execPath, HERALD_NODE_FLAGS, []),
  modules: await moduleFloorRssMb(process.execPath, HERALD_NODE_FLAGS, speakerModules),
  modulesAndThread: await moduleFloorRssMb(process.execPath, HERALD_NODE_FLAGS, speakerModules, 1),
};

const threadNames = [...new Set(rows.flatMap((r) => Object.keys(r.idleThreads)))].sort();
const date = new Date().toISOString();
const machine = `${cpus().length} vCPU (${cpus()[0]?.model ?? '?'})`;
const command = `node dist/bench/footprint/run.js --vips ${args.vips} --idle-s ${args['idle-s']}${args['settle-s'] === '5' ? '' : ` --settle-s ${args['settle-s']}`}${args.node.map((n) => ` --node ${n}`).join('')}${args.flags.length === 1 && args.flags[0] === '' ? '' : args.flags.map((f) => ` --flags='${f}'`).join('')}${args.peer ? ' --peer' : ''}${nodeCount === 1 ? '' : ` --nodes ${nodeCount}`}`;
const flagsCell = (r: Row) => (r.flags === '' ? '(none)' : `\`${r.flags}\``);
const threadCell = (x: ThreadIdle | undefined) => (x ? `${x.cpuPercent}% (${x.wakeupsPerS}/s)` : '');
const cell = (v: number | undefined, unit: string) => (v === undefined ? '' : `${v} ${unit}`);
const md = `# Speaker footprint (bench/footprint)

Measured ${date} on ${machine}, shared with other work (1-minute load average per row). ${
  nodeCount === 1
    ? 'One standalone\nspeaker'
    : `The first of ${nodeCount} standalone\nspeakers (one gossip cluster on one LAN, every Service with endpoints on every node)`
} (\`--config\`, L2, XDP generic on a veth in a namespace; start includes the default 2 s startup grace)${nodeCount === 1 ? ', alone' : ''}; idle CPU
over ${args['idle-s']} s, ${args['settle-s']} s after every VIP was programmed. Reload: one service added to the ${Math.max(...sizes).toLocaleString('en-US')} → the new VIP in the XDP
map, by SIGHUP, and by the file write alone (the speaker's file watch, 100 ms debounce included).
Rerun (root): \`${command}\`.

| Node | extra flags | VIPs | answered by it | start → all programmed | RSS (peak) | idle CPU | reload by SIGHUP | reload by file write | load |
|---|---|---|---|---|---|---|---|---|---|
${rows
  .map(
    (r) =>
      `| ${r.node} | ${flagsCell(r)} | ${r.vips} | ${r.answered} | ${r.startToProgrammedMs} ms | ${r.rssMb} MB (${r.peakRssMb}) | ${r.idleCpuPercent}% | ${cell(r.reloadSighupMs, 'ms')} | ${cell(r.reloadFileMs, 'ms')} | ${r.load1} |`,
  )
  .join('\n')}

Idle CPU by thread, % of one core (wake-ups per second): MainThread is the control loop and gossip,
WorkerThread the owner watch's pulse thread, V8Worker the garbage collector's helpers:

| Node | extra flags | VIPs | ${threadNames.join(' | ')} |
|---|---|---|${threadNames.map(() => '---|').join('')}
${rows.map((r) => `| ${r.node} | ${flagsCell(r)} | ${r.vips} | ${threadNames.map((n) => threadCell(r.idleThreads[n])).join(' | ')} |`).join('\n')}

${
  peer
    ? `The peer, alone on the same kind of namespace over the same ${args['idle-s']} s window (its processes summed):

| system | RSS | idle CPU | by process, % (wake-ups/s) | load |
|---|---|---|---|---|
| ${peer.system} | ${peer.rssMb} MB | ${peer.idleCpuPercent}% | ${Object.entries(peer.processes)
        .map(([n, t]) => `${n} ${threadCell(t)}`)
        .join(', ')} | ${peer.load1} |

`
    : ''
}Goals: ≤ 80 MB RSS at 10 VIPs, ≤ 100 MB at 1,000, ≤ 0.5% idle CPU, reload ≤ 100 ms at 10,000.
Node flags of the speaker: as \`herald\` runs it (${HERALD_NODE_FLAGS.join(' ')}).

Where the RSS goes (${process.version}, same flags, processes that only load code and collect garbage):

| process | RSS |
|---|---|
| \`node\` alone | ${floors.node} MB |
| the speaker's modules loaded (\`herald speaker --config\`'s imports: prom-client, protobufjs, zod, yaml, pino, Herald; gRPC only at the status API's first connection) | ${floors.modules} MB |
| the same plus one idle worker thread (the owner watch's pulse thread is one) | ${floors.modulesAndThread} MB |

About half of a bare Node's RSS and of the modules' share are pages of the Node binary itself (file-backed, shared
with every other Node process on the host); the running speaker adds its data (models, maps, caches) on top.
`;
writeResults(
  nodeCount === 1 ? 'footprint' : `footprint-${nodeCount}-nodes`,
  { benchmark: 'footprint', date, machine, command, rows, ...(peer ? { peer } : {}), floorsMb: floors },
  md,
);
console.log(md);
