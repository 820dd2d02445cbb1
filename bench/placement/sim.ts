/**
 * Placement simulation: N nodes (a share of them on slow links) × M VIPs with Zipf-distributed traffic,
 * rate churn and node churn, stepped every 10 simulated seconds. Compares the rendezvous hash (what
 * MetalLB, Cilium and kube-vip do) with Herald's bandwidth placement (src/placement, the same pure
 * function the speakers run), both on the same traffic.
 *
 *   node dist/bench/placement/sim.js [--nodes 100] [--vips 5000] [--hours 2] [--slow-share 0.3]
 *        [--zipf 0.7] [--total-gbps 40] [--seed 7]
 *
 * Writes bench/results/placement-sim.json and its section of bench/results/placement.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rendezvousOrder } from '../../src/l2/rendezvous.js';
import {
  decidePlacement,
  DEFAULT_PLACEMENT_KNOBS,
  placedOwner,
  type PlacedVipInput,
  type PlacementEntry,
} from '../../src/placement/decide.js';
import { nodeLoads, utilization } from '../../src/placement/load.js';
import { projectRoot } from '../../src/util/paths.js';
import { writeSection } from '../markdown.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    vips: { type: 'string', default: '5000' },
    hours: { type: 'string', default: '2' },
    'slow-share': { type: 'string', default: '0.3' },
    zipf: { type: 'string', default: '0.7' },
    'total-gbps': { type: 'string', default: '40' },
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: join(projectRoot(), 'bench', 'results') },
  },
});
const NODES = Number(args.nodes);
const VIPS = Number(args.vips);
const STEP_MS = 10_000;
const STEPS = Math.round((Number(args.hours) * 3_600_000) / STEP_MS);
const SLOW_SHARE = Number(args['slow-share']);
const ZIPF = Number(args.zipf);
const TOTAL_BYTES = (Number(args['total-gbps']) * 1e9) / 8;
const FAST = 10e9 / 8;
const SLOW = 1e9 / 8;
/** Share of VIPs whose rate is re-drawn per step (rate churn), and node outages. */
const RATE_CHURN_PER_STEP = 0.01;
const NODE_OUTAGE_EVERY_STEPS = 60;
const NODE_OUTAGE_STEPS = 30;

let seed = Number(args.seed) >>> 0;
function random(): number {
  // mulberry32: a small deterministic PRNG so both placements see the same traffic.
  seed = (seed + 0x6d2b79f5) >>> 0;
  let x = seed;
  x = Math.imul(x ^ (x >>> 15), x | 1);
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}

const nodeNames = Array.from({ length: NODES }, (_, i) => `n${String(i + 1).padStart(3, '0')}`);
const capacities = new Map(nodeNames.map((n, i) => [n, i < Math.round(NODES * SLOW_SHARE) ? SLOW : FAST]));
const zipfWeights = Array.from({ length: VIPS }, (_, k) => 1 / (k + 1) ** ZIPF);
const zipfSum = zipfWeights.reduce((a, b) => a + b, 0);
const rankOf = Array.from({ length: VIPS }, (_, i) => i);
const vipIps = Array.from({ length: VIPS }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const started = performance.now();
const preference = vipIps.map((ip) => rendezvousOrder(ip, nodeNames));
const hashSetupMs = performance.now() - started;

function vipsAt(down: ReadonlySet<string>): PlacedVipInput[] {
  return vipIps.map((ip, i) => {
    const eligible = nodeNames.filter((n) => !down.has(n));
    const rate = (TOTAL_BYTES * (zipfWeights[rankOf[i] as number] as number)) / zipfSum;
    return {
      ip,
      mode: 'single',
      eligible,
      hashedOwner: (preference[i] as string[]).find((n) => !down.has(n)) as string,
      rxBytesPerSecond: rate * 0.1,
      txBytesPerSecond: rate,
    };
  });
}

interface Stats {
  max: number[];
  p99: number[];
  overThreshold: number;
}
const hashStats: Stats = { max: [], p99: [], overThreshold: 0 };
const placedStats: Stats = { max: [], p99: [], overThreshold: 0 };
let entries = new Map<string, PlacementEntry>();
let hot = new Map<string, number>();
let moves = 0;
let decideMs = 0;
let decideTotalMs = 0;
const exampleMoves: string[] = [];

function record(stats: Stats, vips: readonly PlacedVipInput[], owners: Map<string, string>, alive: string[]) {
  const loads = nodeLoads(vips, owners, alive);
  const utils = alive.map((n) => utilization(loads.get(n)!, capacities.get(n)!)).sort((a, b) => a - b);
  const max = utils[utils.length - 1] ?? 0;
  stats.max.push(max);
  stats.p99.push(utils[Math.max(0, Math.ceil(utils.length * 0.99) - 1)] ?? 0);
  if (max > DEFAULT_PLACEMENT_KNOBS.thresholdRatio) stats.overThreshold++;
}

let down = new Set<string>();
for (let step = 0; step < STEPS; step++) {
  const nowMs = step * STEP_MS;
  for (let c = 0; c < VIPS * RATE_CHURN_PER_STEP; c++) {
    const a = Math.floor(random() * VIPS);
    const b = Math.floor(random() * VIPS);
    [rankOf[a], rankOf[b]] = [rankOf[b] as number, rankOf[a] as number];
  }
  if (step % NODE_OUTAGE_EVERY_STEPS === 0) {
    down = new Set([nodeNames[Math.floor(random() * NODES)] as string]);
  } else if (step % NODE_OUTAGE_EVERY_STEPS === NODE_OUTAGE_STEPS) {
    down = new Set();
  }
  const alive = nodeNames.filter((n) => !down.has(n));
  const aliveCapacities = new Map(alive.map((n) => [n, capacities.get(n)!]));
  const vips = vipsAt(down);
  record(hashStats, vips, new Map(vips.map((v) => [v.ip, v.hashedOwner])), alive);
  const t0 = performance.now();
  const d = decidePlacement({ vips, capacities: aliveCapacities, entries, hotSinceMs: hot, nowMs });
  const took = performance.now() - t0;
  decideMs = Math.max(decideMs, took);
  decideTotalMs += took;
  entries = d.entries;
  hot = d.hotSinceMs;
  moves += d.moves.length;
  if (exampleMoves.length < 5)
    exampleMoves.push(...d.moves.slice(0, 5 - exampleMoves.length).map((m) => m.reason));
  record(placedStats, vips, new Map(vips.map((v) => [v.ip, placedOwner(v, entries.get(v.ip))])), alive);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? 0;
const hours = (STEPS * STEP_MS) / 3_600_000;
const summary = (s: Stats) => ({
  maxUtilMean: mean(s.max),
  maxUtilP95: pctl(s.max, 0.95),
  p99UtilMean: mean(s.p99),
  shareOfTimeOverThreshold: s.overThreshold / STEPS,
});
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverage: loadavg()[0] ?? 0,
  params: {
    nodes: NODES,
    vips: VIPS,
    simulatedHours: hours,
    stepSeconds: STEP_MS / 1000,
    slowShare: SLOW_SHARE,
    links: '10 Gbit/s, slow ones 1 Gbit/s',
    zipfExponent: ZIPF,
    totalGbps: Number(args['total-gbps']),
    rateChurnPerStep: RATE_CHURN_PER_STEP,
    nodeOutage: `one node down for ${(NODE_OUTAGE_STEPS * STEP_MS) / 60_000} min every ${(NODE_OUTAGE_EVERY_STEPS * STEP_MS) / 60_000} min`,
    knobs: DEFAULT_PLACEMENT_KNOBS,
  },
  rendezvousHash: summary(hashStats),
  bandwidthPlacement: {
    ...summary(placedStats),
    moves,
    movesPerHour: moves / hours,
    placedVips: entries.size,
  },
  slowestRoundMs: decideMs,
  meanRoundMs: decideTotalMs / STEPS,
  hashSetupMs,
  exampleMoves,
};

const pc = (x: number) => `${(x * 100).toFixed(1)}%`;
const md = `## Simulation: ${NODES} nodes × ${VIPS} VIPs, ${hours} simulated hours

${out.date}, Node ${out.node}, ${out.cpus} CPUs, load ${out.loadAverage.toFixed(2)}. Command:
\`node dist/bench/placement/sim.js --nodes ${NODES} --vips ${VIPS} --hours ${hours}\`.
Links: ${Math.round(SLOW_SHARE * 100)}% of nodes on 1 Gbit/s, the rest on 10 Gbit/s. Traffic: Zipf(${ZIPF}) over the
VIPs, ${args['total-gbps']} Gbit/s in total (replies; ingress 10% of it), ${RATE_CHURN_PER_STEP * 100}% of the VIPs change rank
every ${STEP_MS / 1000} s, ${out.params.nodeOutage}. Placement knobs: threshold
${pc(DEFAULT_PLACEMENT_KNOBS.thresholdRatio)}, sustain ${DEFAULT_PLACEMENT_KNOBS.sustainMs / 1000} s, min gain ${pc(DEFAULT_PLACEMENT_KNOBS.minGainRatio)},
one move per VIP per ${DEFAULT_PLACEMENT_KNOBS.minMoveIntervalMs / 60_000} min, ${DEFAULT_PLACEMENT_KNOBS.maxMovesPerRound} moves per round.

| placement | busiest link, mean over time | busiest link, p95 over time | p99 node, mean | time with a link over ${pc(DEFAULT_PLACEMENT_KNOBS.thresholdRatio)} | moves per hour |
|---|---|---|---|---|---|
| rendezvous hash (MetalLB, Cilium, kube-vip) | ${pc(out.rendezvousHash.maxUtilMean)} | ${pc(out.rendezvousHash.maxUtilP95)} | ${pc(out.rendezvousHash.p99UtilMean)} | ${pc(out.rendezvousHash.shareOfTimeOverThreshold)} | 0 |
| Herald bandwidth placement | ${pc(out.bandwidthPlacement.maxUtilMean)} | ${pc(out.bandwidthPlacement.maxUtilP95)} | ${pc(out.bandwidthPlacement.p99UtilMean)} | ${pc(out.bandwidthPlacement.shareOfTimeOverThreshold)} | ${out.bandwidthPlacement.movesPerHour.toFixed(1)} |

A decision round took ${(decideTotalMs / STEPS).toFixed(1)} ms on average (slowest ${decideMs.toFixed(1)} ms) for ${VIPS} VIPs on ${NODES} nodes; ${out.bandwidthPlacement.placedVips}
VIPs held a placement entry at the end (the others kept their hash owner). First moves:
${exampleMoves.map((m) => `- ${m}`).join('\n')}
`;

mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'placement-sim.json'), `${JSON.stringify(out, null, 2)}\n`);
writeSection(join(args.out, 'placement.md'), md, '## Simulation');
process.stdout.write(md);
