/**
 * Decision rounds at scale, in-process (no root, no namespaces): what one L2 decision round costs the
 * event loop at 1,000 and 10,000 VIPs with 3 and 10 members, for a full round (every VIP decided from
 * nothing: a start) and for one member leaving and joining (the rounds a membership change causes).
 *
 *   node_modules/.bin/node dist/bench/rounds/run.js [--vips 1000,10000] [--members 3,10] [--repeats 3]
 *                                                   [--levels decide,round] [--no-write] [--label TEXT]
 *
 * Two levels, each repeated --repeats times (median and max printed):
 * - decide: RoundDecider.decide (speaker/decider.ts) alone on fixed groups: the decisions themselves.
 * - round: one Speaker on the unit-test fakes (test/unit/speaker/fakes.ts: no sockets, no XDP) as node
 *   `a` among the members; the whole round(s) a change causes (leave: the last member leaves; join: a
 *   node never seen before joins): decide (gossip view and watch-corrected
 *   view), watch pairs, datapath plan, BGP groups, observers. "event-loop ms" is the main thread's busy
 *   time (performance.eventLoopUtilization) from the change until its decisions are in the datapath,
 *   "longest block" the longest gap of a 2 ms ticker (the longest the heartbeat could have waited).
 * Writes bench/results/rounds.json and its section of bench/results/rounds.md (keyed on --label).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { parseConfigTexts } from '../../src/config/index.js';
import { labAllocations } from '../../src/lab/scenario.js';
import { RoundDecider } from '../../src/speaker/decider.js';
import type { Speaker } from '../../src/speaker/speaker.js';
import { groupVips, memberViews, type ServiceAllocation } from '../../src/speaker/l2-inputs.js';
import { projectRoot } from '../../src/util/paths.js';
import { TimeSlicer } from '../../src/util/slices.js';
import { scaleConfig } from '../../test/helpers/scale.js';
import { member, rig } from '../../test/unit/speaker/fakes.js';
import { writeSection } from '../markdown.js';
import { median } from '../stats.js';

const { values: args } = parseArgs({
  options: {
    vips: { type: 'string', default: '1000,10000' },
    members: { type: 'string', default: '3,10' },
    levels: { type: 'string', default: 'decide,round' },
    repeats: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
    label: { type: 'string', default: 'run' },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
  },
});
const list = (s: string) => s.split(',').filter(Boolean).map(Number);
const REPEATS = Number(args.repeats);
const levels = args.levels.split(',');
const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;
const NAMES = 'abcdefghijk';

interface Sample {
  eventLoopMs: number;
  /** CPU time of the process (user + system, every thread: the GC's helpers too). */
  cpuMs: number;
  longestBlockMs: number;
}
interface Row {
  vips: number;
  members: number;
  level: 'decide' | 'round';
  change: 'full' | 'leave' | 'join';
  samples: Sample[];
}

/** Busy time of the main thread and the longest gap of a 2 ms ticker while `work` runs. */
async function measure(work: () => Promise<void>): Promise<Sample> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 2);
  const before = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  longest = Math.max(longest, performance.now() - last);
  const elu = performance.eventLoopUtilization(before);
  const used = process.cpuUsage(cpu);
  return { eventLoopMs: elu.active, cpuMs: (used.user + used.system) / 1000, longestBlockMs: longest };
}

function allocationsOf(config: string): Map<string, ServiceAllocation> {
  return new Map(
    [...labAllocations(config)].map(([key, ips]) => [
      key,
      { ips, pool: 'scale' } satisfies ServiceAllocation,
    ]),
  );
}

/** RoundDecider.decide alone: full (a fresh decider), then one member leaving, then joining again. */
async function decideLevel(vips: number, n: number, rows: Row[]): Promise<void> {
  const names = NAMES.slice(0, n).split('');
  const config = scaleConfig(vips, names);
  const { model } = parseConfigTexts([{ text: config, fileName: 'rounds.yaml' }]);
  const allocations = allocationsOf(config);
  const groups = groupVips(model, allocations, [], 'standalone');
  const all = memberViews(names.map((name) => member(name)));
  const without = memberViews(names.map((name, i) => member(name, i === n - 1 ? 'left' : 'alive')));
  const inputs = (members: typeof all) => ({
    model,
    allocations,
    members,
    semantics: 'standalone' as const,
    placement: {},
    placedOwners: () => new Map<string, string>(),
  });
  const [full, leave, joined] = addRows(rows, vips, n, 'decide');
  for (let i = 0; i < REPEATS; i++) {
    const decider = new RoundDecider();
    full.samples.push(
      await measure(async () => void (await decider.decide(inputs(all), groups, new TimeSlicer()))),
    );
    leave.samples.push(
      await measure(async () => void (await decider.decide(inputs(without), groups, new TimeSlicer()))),
    );
    // A decider that has seen only the smaller cluster: the member is new to it.
    const fresh = new RoundDecider();
    await fresh.decide(inputs(without), groups, new TimeSlicer());
    joined.samples.push(
      await measure(async () => void (await fresh.decide(inputs(all), groups, new TimeSlicer()))),
    );
  }
}

/** The full, leave and join rows of one size and level, appended to `rows`. */
function addRows(rows: Row[], vips: number, members: number, level: Row['level']): [Row, Row, Row] {
  const made = (['full', 'leave', 'join'] as const).map((change): Row => ({
    vips,
    members,
    level,
    change,
    samples: [],
  }));
  rows.push(...made);
  return made as [Row, Row, Row];
}

/**
 * A whole speaker on fakes: start among `n` members, one member leaving (gracefully), then a member that
 * was never seen joining (a new node: no earlier round decided with it, so nothing can be reused).
 */
async function roundLevel(vips: number, n: number, rows: Row[]): Promise<void> {
  const names = NAMES.slice(0, n).split('');
  const newcomer = NAMES[n] as string;
  const config = scaleConfig(vips, [...names, newcomer]);
  const { model } = parseConfigTexts([{ text: config, fileName: 'rounds.yaml' }]);
  const [full, leave, joined] = addRows(rows, vips, n, 'round');
  const leaver = names[n - 1] as string;
  for (let i = 0; i < REPEATS; i++) {
    const r = rig('a', model, { resyncMs: 600_000 });
    for (const name of names.slice(1)) r.membership.table.set(name, member(name));
    /** Every VIP's entry in the fake datapath matches the speaker's newest decisions. */
    const settled = (check: (owners: Set<string>) => boolean) => {
      const decisions = r.speaker.decisions();
      if (decisions.length !== vips || r.datapath.entries.size !== vips) return false;
      const owners = new Set<string>();
      for (const d of decisions) {
        if (d.owner !== undefined) owners.add(d.owner);
        if (r.datapath.action(d.ip) !== (d.owner === 'a' ? 'answer' : 'suppress')) return false;
      }
      return check(owners);
    };
    try {
      full.samples.push(
        await measure(async () => {
          r.speaker.start();
          await afterRound(r.speaker, () => settled((o) => o.size === n), 'every VIP decided and applied');
        }),
      );
      await idle();
      // Graceful leave: the decision moves its VIPs after the hold on gossip deaths (l2/gate.ts).
      leave.samples.push(
        await measure(async () => {
          r.membership.set(leaver, 'left');
          await afterRound(r.speaker, () => settled((o) => !o.has(leaver)), 'the leaver owning nothing');
        }),
      );
      await idle();
      joined.samples.push(
        await measure(async () => {
          r.membership.set(newcomer, 'alive');
          await afterRound(r.speaker, () => settled((o) => o.has(newcomer)), 'the newcomer owning VIPs');
        }),
      );
    } finally {
      await r.speaker.stop();
    }
  }
}

/**
 * Resolves after the first round at whose end `check` holds (checked once per round, not polled: a
 * check over 10,000 decisions every few ms would be measured with the rounds).
 */
function afterRound(speaker: Speaker, check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      speaker.off('round', onRound);
      reject(new Error(`timed out waiting for ${what}`));
    }, 120_000);
    const onRound = () => {
      if (!check()) return;
      clearTimeout(timer);
      speaker.off('round', onRound);
      resolve();
    };
    speaker.on('round', onRound);
  });
}

/** Lets the last round's follow-ups (rechecks, observers) finish before the next change. */
const idle = () => new Promise((resolve) => setTimeout(resolve, 300));

function summary(rows: readonly Row[]) {
  return rows.map((r) => ({
    vips: r.vips,
    members: r.members,
    level: r.level,
    change: r.change,
    eventLoopMs: {
      median: median(r.samples.map((s) => s.eventLoopMs)),
      max: Math.max(...r.samples.map((s) => s.eventLoopMs)),
    },
    cpuMs: {
      median: median(r.samples.map((s) => s.cpuMs)),
      max: Math.max(...r.samples.map((s) => s.cpuMs)),
    },
    longestBlockMs: {
      median: median(r.samples.map((s) => s.longestBlockMs)),
      max: Math.max(...r.samples.map((s) => s.longestBlockMs)),
    },
    samples: r.samples,
  }));
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const loadStart = load1();
  const rows: Row[] = [];
  for (const vips of list(args.vips))
    for (const n of list(args.members)) {
      if (levels.includes('decide')) await decideLevel(vips, n, rows);
      if (levels.includes('round')) await roundLevel(vips, n, rows);
      console.error(`${vips} VIPs, ${n} members done (load ${load1()})`);
    }
  const loadEnd = load1();
  const result = {
    started,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    load: { start: loadStart, end: loadEnd },
    label: args.label,
    repeats: REPEATS,
    rows: summary(rows),
  };
  const f = (x: number) => x.toFixed(1);
  const table = result.rows
    .map(
      (r) =>
        `| ${r.vips.toLocaleString('en-US')} | ${r.members} | ${r.level} | ${r.change} | ${f(r.eventLoopMs.median)} / ${f(r.eventLoopMs.max)} | ${f(r.cpuMs.median)} / ${f(r.cpuMs.max)} | ${f(r.longestBlockMs.median)} / ${f(r.longestBlockMs.max)} |`,
    )
    .join('\n');
  const md = `## ${args.label}

${started}, Node ${process.version}, ${result.cpus} × ${result.cpu}; 1-minute load ${loadStart} at start,
${loadEnd} at the end. ${REPEATS} repeats per row (median / max).
Command: \`node_modules/.bin/node dist/bench/rounds/run.js --vips ${args.vips} --members ${args.members} --levels ${args.levels} --repeats ${REPEATS} --label '${args.label}'\`.

| VIPs | members | level | change | event-loop busy ms | CPU ms | longest block ms |
|---|---|---|---|---|---|---|
${table}
`;
  console.log(md);
  if (!args['no-write']) {
    // One entry per label, so a before and an after run stay side by side.
    const file = join(args.out, 'rounds.json');
    const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(file, `${JSON.stringify({ ...kept, [args.label]: result }, null, 2)}\n`);
    writeSection(join(args.out, 'rounds.md'), md, `## ${args.label}`);
  }
}

await main();
