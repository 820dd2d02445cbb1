import { table } from '../api/format.js';
import type { FlowScenarioReport, WorkloadRow } from './flow-scenario.js';

/** "34% (2.1 MB)": a node's share of the total and its value. */
function share(values: Record<string, number>, node: string, unit?: 'MB'): string {
  const total = Object.values(values).reduce((a, b) => a + b, 0);
  const v = values[node] ?? 0;
  const pct = total > 0 ? `${Math.round((100 * v) / total)}%` : '-';
  return unit ? `${pct} (${(v / 1e6).toFixed(1)} MB)` : pct;
}

function workloadTable(nodes: readonly string[], rows: readonly WorkloadRow[]): string {
  return table(
    [
      'WORKLOAD',
      'MODE',
      ...nodes.map((n) => `${n} REQ`),
      ...nodes.map((n) => `${n} TX`),
      'MAX/MEAN TX',
      'FAILED',
    ],
    rows.map((r) => [
      r.workload,
      r.mode,
      ...nodes.map((n) => share(r.requests, n)),
      ...nodes.map((n) => share(r.txBytes, n, 'MB')),
      r.maxMeanTx.toFixed(2),
      String(r.failed),
    ]),
  );
}

/** The flow-mode part of the lab report: the seed's scenario in single mode beside flow mode. */
export function renderFlowScenario(report: FlowScenarioReport): string {
  const s = report.survival;
  return [
    `\nAll your traffic on one node? The seed's scenario, ${report.requests} requests per run, ` +
      `${Math.round(report.responseBytes / 1024)} KB answers, each on a new connection:`,
    workloadTable(report.nodes, report.workloads),
    'REQ: share of the requests each node answered; TX: share of the bytes its LAN interface sent. Single mode\n' +
      '(the shape of MetalLB L2, kube-vip, keepalived): one node answers ARP, so it carries every request,\n' +
      "from one host or through a router. Flow mode: the owner's XDP program steers each connection to a node\n" +
      'of the flow set, which answers the client directly.',
    `\nOwner death in flow mode: killed ${s.victim} (SIGKILL, link down) with ${s.connections} long-lived ` +
      `connections open: ${s.survivorsKeptWorking} of the ${s.onSurvivors} on other nodes kept working ` +
      `(${s.onVictim} were on ${s.victim} itself).\n`,
  ].join('\n');
}
