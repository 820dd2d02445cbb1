/**
 * Flow-mode benchmark (bench/results/flow.md + flow.json), run as root:
 *   1. per-packet cost of steering vs the counted path (BPF_PROG_TEST_RUN, bench/flow/packet.ts);
 *   2. the seed's workload (one client host on the LAN, 10 parallel loops) and the router workload (two
 *      clients behind the lab router, 10 loops each), 16 KB answers, single mode vs flow mode side by side:
 *      per-node share of requests and of transmitted bytes (interface counters), max/mean TX ratio;
 *   3. connection survival when the owner dies (SIGKILL, link down) with 24 long-lived connections open.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../test/helpers/probes.js';
import { createFlowLab } from '../../src/lab/flow-lab.js';
import {
  answeringLive,
  flowLabReady,
  ROUTER_WORKLOAD,
  SEED_WORKLOAD,
  survival,
  workload,
  type SurvivalRow,
  type WorkloadRow,
} from '../../src/lab/flow-scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { COUNTED_CASE, packetCost, STEERED_CASE, type PacketRow } from './packet.js';

const SIZE = 16 * 1024;
const REQUESTS = Number(process.env.FLOW_BENCH_REQUESTS ?? 1200);

function fmt(n: number, d = 1): string {
  return Number.isFinite(n) ? n.toFixed(d) : '-';
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const loadStart = loadavg()[0] ?? 0;
  const packet: PacketRow[] = packetCost();
  const lab = await createFlowLab('fb', { nodes: 3 });
  const rows: WorkloadRow[] = [];
  const surv: SurvivalRow[] = [];
  try {
    const { cluster } = lab;
    await flowLabReady(lab);
    const seed = [cluster.clients[0]!];
    const routed = cluster.routedClients;
    for (const mode of ['single', 'flows'] as const) {
      rows.push(await workload(lab, SEED_WORKLOAD, mode, seed, REQUESTS, SIZE));
      rows.push(await workload(lab, ROUTER_WORKLOAD, mode, routed, REQUESTS, SIZE));
    }
    surv.push(await survival(cluster, routed[0]!, lab.flow4, 'flows'));
    await waitUntil(
      'single VIP answered again',
      30_000,
      () => answeringLive(cluster, lab.single4).length > 0,
    );
    surv.push(await survival(cluster, routed[1]!, lab.single4, 'single'));
  } finally {
    await lab.cluster.destroy();
  }
  const env = {
    started,
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    loadavg1Start: loadStart,
    loadavg1End: loadavg()[0] ?? 0,
    requestsPerRun: REQUESTS,
    responseBytes: SIZE,
  };
  const results = join(projectRoot(), 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'flow.json'),
    JSON.stringify({ env, packet, workloads: rows, survival: surv }, null, 2) + '\n',
  );
  const nodes = ['n1', 'n2', 'n3'];
  const share = (r: Record<string, number>, n: string) => {
    const total = Object.values(r).reduce((a, b) => a + b, 0);
    return total > 0 ? `${fmt((100 * (r[n] ?? 0)) / total, 0)} %` : '-';
  };
  const cost = (name: string) =>
    packet.find((p) => p.case === name && p.method.startsWith('mean'))?.nsPerPacket;
  const steerCost = (cost(STEERED_CASE) ?? NaN) - (cost(COUNTED_CASE) ?? NaN);
  const ratio = (mode: string) =>
    rows
      .filter((r) => r.mode === mode)
      .map((r) => fmt(r.maxMeanTx, 2))
      .join(' / ');
  const md = [
    '# Flow mode benchmark',
    '',
    `${env.cpu}, Node ${env.node}, ${started}; 1-minute load average ${fmt(loadStart)} at start, ${fmt(env.loadavg1End)} at the end`,
    '(the machine is shared by several sessions: treat absolute values as rough).',
    'Rerun: `npx tsc -p tsconfig.json && node dist/bench/flow/run.js` as root.',
    '',
    '## Summary',
    '',
    `- Steering over the counted path: ${fmt(steerCost, 0)} ns per packet (target ≤ 60).`,
    `- Max/mean node TX bytes (seed / router workload): flow mode ${ratio('flows')} (target ≤ 1.15); single`,
    `  mode ${ratio('single')}: one owner carries everything, the shape of MetalLB L2, kube-vip and keepalived.`,
    ...surv.map(
      (s) =>
        `- Owner death, ${s.mode} mode: ${s.survivorsKeptWorking} of ${s.onSurvivors} connections on surviving nodes kept working (${s.onVictim} of ${s.connections} were on the victim).`,
    ),
    '',
    '## Per-packet cost (BPF_PROG_TEST_RUN)',
    '',
    '| case | ns/packet | method |',
    '| --- | --- | --- |',
    ...packet.map((p) => `| ${p.case} | ${fmt(p.nsPerPacket)} | ${p.method} |`),
    '',
    "The repeated steering case steers to a target whose MAC is the VIP's own (not in the node-MAC set), so",
    'every repeat takes the whole path (pinned flow, rewrite, XDP_TX) again; compare repeated with repeated',
    'and single runs with single runs (single runs include the kernel timer overhead).',
    '',
    `## Workloads: ${REQUESTS} requests per run, ${SIZE / 1024} KB answers, new connection per request`,
    '',
    `| workload | mode | ${nodes.map((n) => `${n} requests`).join(' | ')} | ${nodes.map((n) => `${n} TX bytes`).join(' | ')} | max/mean TX | failed |`,
    `| --- | --- | ${nodes.map(() => '---').join(' | ')} | ${nodes.map(() => '---').join(' | ')} | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.mode} | ${nodes.map((n) => share(r.requests, n)).join(' | ')} | ${nodes
          .map((n) => `${share(r.txBytes, n)} (${fmt((r.txBytes[n] ?? 0) / 1e6)} MB)`)
          .join(' | ')} | ${fmt(r.maxMeanTx, 2)} | ${r.failed} |`,
    ),
    '',
    "TX bytes are the nodes' LAN interface counters over the run (they include what the owner steers out:",
    "in flow mode every request frame crosses the owner's link twice).",
    '',
    '## Connection survival when the owner dies (SIGKILL + link down, 24 long-lived connections)',
    '',
    '| mode | victim | connections | on surviving nodes | of those still working 5 s later | on the victim |',
    '| --- | --- | --- | --- | --- | --- |',
    ...surv.map(
      (s) =>
        `| ${s.mode} | ${s.victim} | ${s.connections} | ${s.onSurvivors} | ${s.survivorsKeptWorking} | ${s.onVictim} |`,
    ),
    '',
  ];
  writeFileSync(join(results, 'flow.md'), md.join('\n'));
  console.log(md.join('\n'));
}

await main();
