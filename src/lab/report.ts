import { table } from '../api/format.js';
import type { LabReport, VipRow } from './scenario.js';

const pct = (x: number) => `${Math.round(x * 100)}%`;

function ownershipTable(rows: readonly VipRow[]): string {
  return table(
    ['SERVICE', 'VIP', 'MODE', 'ANSWERED BY'],
    rows.map((r) => [
      r.service,
      r.ip,
      r.mode,
      r.mode === 'bgp'
        ? 'every eligible node, by BGP (ECMP on the router)'
        : r.mode === 'spread'
          ? Object.entries(r.answering)
              .map(([n, s]) => `${n} ${pct(s)} of clients`)
              .join(', ')
          : Object.keys(r.answering).join(', ') || '-',
    ]),
  );
}

/** The lab's human-readable report. */
export function renderLabReport(report: LabReport): string {
  const out: string[] = [];
  out.push(
    `Herald lab: ${report.nodes.length} nodes (${report.nodes.join(', ')}), ${report.clients.length} clients\n`,
  );
  out.push("Who answers ARP/NDP for each VIP (read from every node's XDP map):");
  out.push(ownershipTable(report.vips));

  const ips = [...new Set(report.traffic.map((t) => t.ip))];
  out.push('\nWhere client requests landed (HTTP answers from the node backends):');
  out.push(
    table(
      ['VIP', ...report.clients, 'FAILED'],
      ips.map((ip) => {
        const rows = report.traffic.filter((t) => t.ip === ip);
        return [
          ip,
          ...report.clients.map((c) => {
            const nodes = rows.find((r) => r.client === c)?.nodes ?? {};
            return (
              Object.entries(nodes)
                .map(([n, k]) => `${n}×${k}`)
                .join(' ') || '-'
            );
          }),
          String(rows.reduce((a, r) => a + r.failed, 0)),
        ];
      }),
    ),
  );

  out.push("\nPer-VIP traffic counted by each node's XDP program (packets / bytes / ARP+NS seen / replies):");
  out.push(
    table(
      ['VIP', ...report.nodes],
      [...new Set(report.counters.map((c) => c.ip))].map((ip) => [
        ip,
        ...report.nodes.map((n) => {
          const c = report.counters.find((x) => x.ip === ip && x.node === n);
          return c ? `${c.rxPackets} / ${c.rxBytes} B / ${c.arpRequests} / ${c.replies}` : '-';
        }),
      ]),
    ),
  );

  const f = report.failover;
  if (f) {
    out.push(`\nFailover: killed ${f.killed} (owner of ${f.ip}: speaker and backend SIGKILLed, link down).`);
    out.push(
      f.failoverMs !== undefined
        ? `  first answer through ${f.newOwner} after ${f.failoverMs} ms (${f.failedRequests} probe requests timed out meanwhile)`
        : '  no answer through another node within 10 s',
    );
    out.push(`\nOwnership after the failover (${f.killed} is down):`);
    out.push(ownershipTable(report.vipsAfterFailover));
  }
  for (const b of report.bgp) {
    out.push(`\nBGP: the router's kernel route to ${b.ip} (BIRD, ECMP):`);
    out.push(`  before: ${b.nexthopsBefore.length} nexthops (${b.nexthopsBefore.join(', ') || 'none'})`);
    out.push(
      `  after the failover: ${b.nexthopsAfter.length} nexthops (${b.nexthopsAfter.join(', ') || 'none'})` +
        (b.withdrawnAfterMs !== undefined
          ? `, dead node withdrawn ${b.withdrawnAfterMs} ms after the kill (BFD)`
          : ''),
    );
  }
  return `${out.join('\n')}\n`;
}
