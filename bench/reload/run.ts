/**
 * A reload adding one service to a standalone speaker that serves --vips L2 VIPs (default 10,000): how
 * long from the trigger until the new service's VIP is in the XDP answer map, and the speaker's CPU.
 *
 *   node dist/bench/reload/run.js [--vips 10000] [--reloads 5] [--cpu-prof DIR] [--label NAME]
 *     [--flags='--trace-gc'] [--logs DIR]
 *
 * One speaker (`--config`, XDP generic on a veth in a namespace) starts with --vips services, then
 * --reloads times each, alternating: the file is replaced (write + rename, as an editor does) and the
 * speaker gets SIGHUP at once (`sighup`), or the file is replaced alone (`file`: the speaker's own file
 * watch, 100 ms debounce included). Each reload adds one more service; 1.5 s between reloads.
 * `--cpu-prof DIR` profiles the speaker's main thread and splits the reloads' CPU by stage (stages.ts).
 * `--flags` adds Node flags to the speaker's own; `--logs DIR` keeps its log (stdout and stderr) there.
 * Writes bench/results/reload.{json,md} (with --label: reload-LABEL.{json,md}).
 */
import { mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabCluster } from '../../src/lab/cluster.js';
import { hasVipEntry, readDataplane } from '../../src/lab/observe.js';
import { sleep, waitFor } from '../../src/util/wait.js';
import { processSample, writeResults } from '../footprint/measure.js';
import { footprintConfig, footprintService, footprintVip } from '../footprint/scenario.js';
import { selfTimes } from '../scale/profile.js';
import { median } from '../stats.js';
import { type CpuProfile, stageTimes, windowed } from './stages.js';

const { values: args } = parseArgs({
  options: {
    vips: { type: 'string', default: '10000' },
    reloads: { type: 'string', default: '5' },
    'cpu-prof': { type: 'string' },
    label: { type: 'string' },
    flags: { type: 'string', default: '' },
    logs: { type: 'string' },
  },
});
const vips = Number(args.vips);
const reloads = Number(args.reloads);
const profDir = args['cpu-prof'];
if (profDir !== undefined) mkdirSync(profDir, { recursive: true });

type Trigger = 'sighup' | 'file';

interface Reload {
  trigger: Trigger;
  ms: number;
  /** The speaker's CPU (all threads) from the trigger until the VIP was in the map; 10 ms ticks. */
  cpuMs: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const load = [Number(loadavg()[0]!.toFixed(1))];
const cluster = await LabCluster.create({
  tag: 'rl',
  nodes: 1,
  clients: 0,
  config: footprintConfig(vips),
  vips: [],
});
const measured: Reload[] = [];
const windows: Array<{ fromUs: number; toUs: number }> = [];
let startMs = 0;
try {
  const node = cluster.nodes[0]!;
  const prof =
    profDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `speaker-reload-${vips}.cpuprofile`];
  const started = performance.now();
  const flags = args.flags.split(' ').filter(Boolean);
  const log = openSync(node.logFile, 'a');
  const child = cluster.lan.spawn(
    node.ns,
    process.execPath,
    [...prof, ...flags, ...cluster.speakerArgs(node)],
    { stdio: ['ignore', log, log] },
  );
  node.speaker = child;
  await waitFor(
    'every VIP programmed',
    180_000,
    () => {
      if (child.exitCode !== null) throw new Error(`speaker exited with ${child.exitCode}`);
      return readDataplane(node).vips.size >= vips;
    },
    100,
  ).catch((error: unknown) => {
    process.stderr.write(readFileSync(node.logFile, 'utf8'));
    throw error;
  });
  startMs = Math.round(performance.now() - started);
  await sleep(3000);
  let text = footprintConfig(vips);
  for (let r = 0; r < 2 * reloads; r++) {
    const trigger: Trigger = r % 2 === 0 ? 'sighup' : 'file';
    const i = vips + r;
    text += footprintService(i);
    writeFileSync(`${cluster.configPath}.tmp`, text);
    const cpuBefore = processSample(child.pid!).cpuMs;
    const fromUs = nowUs();
    const t0 = performance.now();
    renameSync(`${cluster.configPath}.tmp`, cluster.configPath);
    if (trigger === 'sighup') child.kill('SIGHUP');
    await waitFor(`VIP of service ${i}`, 30_000, () => hasVipEntry(node, footprintVip(i)), 1);
    const ms = Math.round(performance.now() - t0);
    windows.push({ fromUs, toUs: nowUs() });
    measured.push({ trigger, ms, cpuMs: processSample(child.pid!).cpuMs - cpuBefore });
    console.log(JSON.stringify(measured.at(-1)));
    await sleep(1500);
  }
  if (profDir !== undefined) {
    child.kill('SIGTERM');
    await waitFor('the profiled speaker to exit', 20_000, () => child.exitCode !== null, 50);
  }
} finally {
  if (args.logs !== undefined) cluster.copyLogs(args.logs);
  await cluster.destroy();
}
load.push(Number(loadavg()[0]!.toFixed(1)));

const of = (t: Trigger) => measured.filter((m) => m.trigger === t);
const summary = (t: Trigger) => {
  const ms = of(t).map((m) => m.ms);
  return { medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), all: ms };
};
const sighup = summary('sighup');
const file = summary('file');

let stages: Array<[string, number]> = [];
let functions: Array<[string, number]> = [];
if (profDir !== undefined) {
  const name = readdirSync(profDir).find((f) => f === `speaker-reload-${vips}.cpuprofile`)!;
  const profile = JSON.parse(readFileSync(join(profDir, name), 'utf8')) as CpuProfile;
  const perReload = (ms: number) => Number((ms / windows.length).toFixed(1));
  stages = [...stageTimes(profile, windows)].sort((a, b) => b[1] - a[1]).map(([s, ms]) => [s, perReload(ms)]);
  functions = selfTimes(windowed(profile, windows))
    .filter(([f]) => !f.startsWith('(idle)'))
    .slice(0, 25)
    .map(([f, ms]) => [f, perReload(ms)]);
}

const date = new Date().toISOString();
const machine = `${cpus().length} vCPU (${cpus()[0]?.model ?? '?'})`;
const command = `node dist/bench/reload/run.js --vips ${vips} --reloads ${reloads}${profDir ? ` --cpu-prof ${profDir}` : ''}${args.label ? ` --label ${args.label}` : ''}${args.flags ? ` --flags='${args.flags}'` : ''}`;
const md = `# Reload adding one service at ${vips.toLocaleString('en-US')} L2 VIPs (bench/reload)

Measured ${date} on ${machine}, Node ${process.version}, load ${load.join(' → ')}${args.label ? `, ${args.label}` : ''}.
One standalone speaker (\`--config\`, XDP generic on a veth in a namespace), started with ${vips.toLocaleString('en-US')} services
(start → all programmed ${startMs} ms); then ${reloads} reloads of each kind, alternating, each adding one
service: trigger → its VIP in the XDP answer map. \`sighup\`: the file replaced and SIGHUP at once;
\`file\`: the file replaced alone (the speaker's file watch, 100 ms debounce included).${profDir ? ' Profiled (--cpu-prof): the profiler costs time too.' : ''}
Rerun (root): \`${command}\`.

| trigger | median | min | max | each | speaker CPU per reload (median) |
|---|---|---|---|---|---|
${(['sighup', 'file'] as const)
  .map((t) => {
    const s = t === 'sighup' ? sighup : file;
    return `| ${t} | **${s.medianMs} ms** | ${s.minMs} ms | ${s.maxMs} ms | ${s.all.join(', ')} | ${median(of(t).map((m) => m.cpuMs))} ms |`;
  })
  .join('\n')}
${
  stages.length > 0
    ? `
Main-thread CPU per reload by stage (profile samples inside the reload windows, averaged over all ${windows.length}):

| stage | ms |
|---|---|
${stages.map(([s, ms]) => `| ${s} | ${ms} |`).join('\n')}

Heaviest functions (self time per reload):

| function | ms |
|---|---|
${functions.map(([f, ms]) => `| \`${f}\` | ${ms} |`).join('\n')}
`
    : ''
}`;
writeResults(
  args.label ? `reload-${args.label}` : 'reload',
  {
    benchmark: 'reload',
    date,
    machine,
    node: process.version,
    command,
    vips,
    startMs,
    load,
    reloads: measured,
    sighup,
    file,
    stages,
    functions,
    windows,
  },
  md,
);
console.log(md);
