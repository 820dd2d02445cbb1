/**
 * Bandwidth placement on real speakers in namespaces (the test's scenario, test/netns/l2-placement), as
 * root: 3 nodes with links declared at --capacity, 6 flow-mode VIPs, paced ingress skewed so the hash puts
 * the two heaviest on one node. Measures the move (decision and handover time, links before and after from
 * the interface counters, dual ARP rounds, the moved VIP's silence, connections), then keeps the load
 * steady for --steady-minutes and counts further moves and owner changes (none expected).
 *
 *   node_modules/.bin/node dist/bench/placement/netns.js [--capacity 20M] [--steady-minutes 10]
 *
 * Writes bench/results/placement-netns.json and its section of bench/results/placement.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { holdConnections } from '../../src/lab/flow-lab.js';
import {
  createPlacementLab,
  linkUse,
  maxUtilization,
  PLACEMENT_THRESHOLD,
  type LinkUse,
  type PlacementLab,
} from '../../src/lab/placement-lab.js';
import { parseBitsPerSecond } from '../../src/metrics/link.js';
import { projectRoot } from '../../src/util/paths.js';
import { sleep } from '../../src/util/wait.js';
import { brokenConnections, movesSince, owners, runPlacement } from '../../test/helpers/placement.js';
import { writeSection } from '../markdown.js';

const { values: args } = parseArgs({
  options: {
    capacity: { type: 'string', default: '20M' },
    'steady-minutes': { type: 'string', default: '10' },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
  },
});
const CAPACITY = parseBitsPerSecond(args.capacity);
const STEADY_MS = Math.min(Number(args['steady-minutes']), 10) * 60_000;
const SAMPLE_EVERY_MS = 30_000;

const perNode = (use: ReadonlyMap<string, LinkUse>) =>
  Object.fromEntries(
    [...use].map(([n, u]) => [
      n,
      { rxMbit: u.rxBits / 1e6, txMbit: u.txBits / 1e6, utilization: u.utilization },
    ]),
  );

/** Keeps the load on: link use every 30 s, owners every second, connections held throughout. */
async function steady(lab: PlacementLab, heavy: readonly string[], start: Map<string, string>) {
  const { cluster } = lab;
  const held = heavy.map((ip) =>
    holdConnections(cluster, cluster.routedClients[0]!, ip, 6, 1000, STEADY_MS, 5000),
  );
  const began = Date.now();
  let last = start;
  let ownerChanges = 0;
  const poll = setInterval(() => {
    const now = owners(lab);
    if (!now) return;
    for (const [ip, node] of now) if (last.get(ip) !== node) ownerChanges++;
    last = now;
  }, 1000);
  const samples: Array<{ at: number; max: number; load1: number }> = [];
  try {
    while (Date.now() - began < STEADY_MS - 5_000) {
      const use = await linkUse(lab, 4000);
      samples.push({ at: Date.now(), max: maxUtilization(use), load1: loadavg()[0] ?? 0 });
      await sleep(Math.min(SAMPLE_EVERY_MS, STEADY_MS - (Date.now() - began) - 5_000));
    }
    await Promise.all(held.map((h) => h.done));
  } finally {
    clearInterval(poll);
  }
  const conns = held.flatMap((h) => [...h.conns.values()]);
  return {
    began,
    ownerChanges,
    samples,
    conns: conns.length,
    broken: conns.filter((c) => c.error !== undefined).length,
  };
}

const silences = (byVip: Record<string, number>) => {
  const list = Object.entries(byVip).filter(([, ms]) => ms >= 200);
  return list.length ? ` (≥ 200 ms: ${list.map(([ip, ms]) => `${ip} ${ms} ms`).join(', ')})` : '';
};
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pc = (x: number) => `${fmt(x * 100, 0)}%`;

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load1Start = loadavg()[0] ?? 0;
  const lab = await createPlacementLab('pb', { capacityBits: CAPACITY });
  try {
    const run = await runPlacement(lab, { maxMs: 150_000 + STEADY_MS, moveTimeoutMs: 90_000 });
    const moveConns = brokenConnections(run, run.movedAt);
    const movePhaseEnd = Date.now();
    const ownersAfter = owners(lab) ?? new Map<string, string>();
    const steadyRun = STEADY_MS > 0 ? await steady(lab, run.load.heavy, ownersAfter) : undefined;
    const arpAll = await run.watch.stop();
    const arpMove = run.watch.summary(run.loadStartedAt, movePhaseEnd);
    const arpSteady = steadyRun ? run.watch.summary(steadyRun.began) : undefined;
    const moves = movesSince(run, lab);
    const steadyMoves = steadyRun ? movesSince(run, lab, steadyRun.began) : [];
    const out = {
      started,
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      load1Start,
      load1End: loadavg()[0] ?? 0,
      capacityBits: CAPACITY,
      thresholdRatio: PLACEMENT_THRESHOLD,
      vips: lab.vips.map((ip) => ({
        ip,
        ingressMbit: (run.load.rates.get(ip) ?? 0) / 1e6,
        hashOwner: run.ownersBefore.get(ip),
        ownerAfter: ownersAfter.get(ip),
      })),
      move: {
        hot: run.load.hot,
        moved: run.moved,
        decidedAfterLoadMs: run.decidedAt === undefined ? null : run.decidedAt - run.loadStartedAt,
        handedOverAfterLoadMs: run.movedAt - run.loadStartedAt,
        movedVipLongestSilentMs: arpMove.silentMsByVip.get(run.moved.ip) ?? 0,
        before: perNode(run.before),
        after: perNode(run.after),
        maxBefore: maxUtilization(run.before),
        maxAfter: maxUtilization(run.after),
        dualRounds: arpMove.dualRounds,
        arpRounds: arpMove.rounds,
        connections: moveConns,
        loggedMoves: moves.filter((m) => m.at < movePhaseEnd).map((m) => m.reason),
      },
      steady: steadyRun && {
        minutes: STEADY_MS / 60_000,
        moves: steadyMoves.map((m) => m.reason),
        ownerChanges: steadyRun.ownerChanges,
        samples: steadyRun.samples,
        maxUtilization: Math.max(...steadyRun.samples.map((s) => s.max)),
        meanOfMax: steadyRun.samples.reduce((a, s) => a + s.max, 0) / steadyRun.samples.length,
        dualRounds: arpSteady?.dualRounds ?? 0,
        arpRounds: arpSteady?.rounds ?? 0,
        longestSilentMs: arpSteady?.longestSilentMs ?? 0,
        silentMsByVip: Object.fromEntries(arpSteady?.silentMsByVip ?? []),
        maxHeartbeatAgeMs: Object.fromEntries(
          lab.cluster.nodes.map((n, i) => [n.name, arpSteady?.maxHeartbeatAgeMs[i] ?? -1]),
        ),
        connections: steadyRun.conns,
        broken: steadyRun.broken,
        load1Mean: steadyRun.samples.reduce((a, s) => a + s.load1, 0) / steadyRun.samples.length,
      },
      dualRoundsTotal: arpAll.dualRounds,
    };
    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, 'placement-netns.json'), `${JSON.stringify(out, null, 2)}\n`);
    const m = out.move;
    const nodes = Object.keys(m.before);
    const cell = (u: { rxMbit: number; txMbit: number; utilization: number } | undefined) =>
      u ? `${pc(u.utilization)} (rx ${fmt(u.rxMbit)} / tx ${fmt(u.txMbit)} Mbit/s)` : '-';
    const st = out.steady;
    const md = `## Namespace run: 3 speakers, 6 flow-mode VIPs, links declared at ${fmt(CAPACITY / 1e6, 0)} Mbit/s

${started}, Node ${out.node}, ${out.cpus}, 1-minute load ${fmt(load1Start)} at start, ${fmt(out.load1End)} at the end
(shared machine; benchmarks run one at a time under the heavy lock). Command:
\`node_modules/.bin/node dist/bench/placement/netns.js --capacity ${args.capacity} --steady-minutes ${STEADY_MS / 60_000}\` (root).
Real speakers in namespaces (generic XDP), \`--link-capacity eth0=${args.capacity}\`, placement threshold
${pc(PLACEMENT_THRESHOLD)}, sustain 5 s, other knobs default (min gain 5 %, one move per VIP per 5 min). Paced UDP
ingress from a client behind the router (16 flows per VIP): ${out.vips.map((v) => `${v.ip} ${fmt(v.ingressMbit)} Mbit/s (hash → ${v.hashOwner})`).join(', ')}.
Link use is measured from the nodes' interface counters over 4 s (the busier direction ÷ capacity).

| | ${nodes.join(' | ')} | busiest |
|---|${nodes.map(() => '---|').join('')}---|
| hash placement (before) | ${nodes.map((n) => cell(m.before[n])).join(' | ')} | ${pc(m.maxBefore)} |
| after the move | ${nodes.map((n) => cell(m.after[n])).join(' | ')} | ${pc(m.maxAfter)} |

- Move: ${m.loggedMoves.join('; ') || 'none logged'}.
- Decided ${m.decidedAfterLoadMs === null ? '?' : fmt(m.decidedAfterLoadMs / 1000)} s after the load started (10 s rate window, rate
  reports every 5 s, 5 s rounds, 5 s sustain); the new owner answered ${fmt(m.handedOverAfterLoadMs / 1000)} s after the start;
  longest silence of the moved VIP as the LAN client's ARP watcher saw it: ${m.movedVipLongestSilentMs} ms.
- ${m.dualRounds} dual ARP rounds in ${m.arpRounds} rounds (6 VIPs every 20 ms); ${m.connections.total} long-lived
  flow-mode connections to the two heavy VIPs: ${m.connections.broken} broke, ${m.connections.stale} stopped answering.
${
  st
    ? `- Steady load for ${st.minutes} min afterwards: ${st.moves.length} further moves${st.moves.length ? ` (${st.moves.join('; ')})` : ''}, ${st.ownerChanges} owner
  changes in the XDP maps; busiest link ${pc(st.meanOfMax)} on average over ${st.samples.length} samples (highest ${pc(st.maxUtilization)});
  ${st.dualRounds} dual ARP rounds in ${st.arpRounds}, longest silence of any VIP ${st.longestSilentMs} ms${silences(st.silentMsByVip)}, highest speaker heartbeat age ${Object.entries(
    st.maxHeartbeatAgeMs,
  )
    .map(([n, ms]) => `${n} ${ms} ms`)
    .join(', ')}; ${st.connections} connections
  held ${st.minutes} min, ${st.broken} broke; mean 1-minute load ${fmt(st.load1Mean)}.`
    : '- Steady phase not run (--steady-minutes 0).'
}
`;
    writeSection(join(args.out, 'placement.md'), md, '## Namespace run');
    process.stdout.write(md);
  } finally {
    await lab.cluster.destroy();
  }
}

await main();
