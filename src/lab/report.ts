import { table } from '../api/format.js';
import type { LabReport, VipRow } from './scenario.js';

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
              .map(([n, s]) => `${n} ${Math.round(s * 64)}/64 buckets`)
              .join(', ')
          : Object.keys(r.answering).join(', ') || '-',
    ]),
  );
}

/** Per node, the clients it answered most of the requests of, and the requests it answered, for one VIP. */
export function clientShares(
  traffic: LabReport['traffic'],
  ip: string,
): Map<string, { clients: number; requests: number }> {
  const out = new Map<string, { clients: number; requests: number }>();
  const entry = (node: string) => out.get(node) ?? { clients: 0, requests: 0 };
  for (const t of traffic.filter((x) => x.ip === ip)) {
    const ranked = Object.entries(t.nodes).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    for (const [node, n] of ranked) out.set(node, { ...entry(node), requests: entry(node).requests + n });
    const top = ranked[0];
    if (top && top[1] > 0) out.set(top[0], { ...entry(top[0]), clients: entry(top[0]).clients + 1 });
  }
  return out;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The problem in words, with this run's numbers: one owner takes all of a VIP's traffic; spread splits it. */
export function problemStatement(report: LabReport): string[] {
  const single = report.vips.find(
    (v) => v.service === 'lab/web' && v.mode === 'single' && !v.ip.includes(':'),
  );
  const spread = report.vips.find((v) => v.mode === 'spread' && !v.ip.includes(':'));
  const out = ['The problem: with one answering node per VIP, that one node takes all of its traffic.'];
  if (single) {
    const shares = clientShares(report.traffic, single.ip);
    const total = [...shares.values()].reduce((a, s) => a + s.requests, 0);
    const [owner, got] = [...shares].sort((a, b) => b[1].requests - a[1].requests)[0] ?? ['-', undefined];
    const idle = report.nodes.filter((n) => (shares.get(n)?.requests ?? 0) === 0);
    out.push(
      `  Single mode (MetalLB's L2 mode, kube-vip and keepalived work this way): ${single.service} ${single.ip}: ` +
        `${owner} answered ${got?.clients ?? 0} of ${plural(report.clients.length, 'client')}, ` +
        `${got?.requests ?? 0} of ${total} requests` +
        (idle.length > 0 ? `; ${idle.join(', ')} carried none of it.` : '.'),
    );
  }
  if (spread) {
    const shares = clientShares(report.traffic, spread.ip);
    const perNode = report.nodes
      .map(
        (n) =>
          `${n} ${plural(shares.get(n)?.clients ?? 0, 'client')} (${shares.get(n)?.requests ?? 0} requests)`,
      )
      .join(', ');
    out.push(
      `  Spread mode answers each client's ARP with one of the nodes: ${spread.service} ${spread.ip}: ${perNode}.`,
      '  (It spreads clients on the LAN: traffic that enters through one router is one ARP client; BGP spreads that.)',
    );
  }
  return out;
}

/** The lab's human-readable report. */
export function renderLabReport(report: LabReport): string {
  const out: string[] = [];
  out.push(
    `Herald lab: ${report.nodes.length} nodes (${report.nodes.join(', ')}), ${report.clients.length} clients\n`,
  );
  out.push(...problemStatement(report), '');
  out.push(
    "Who answers ARP/NDP for each VIP (read from every node's XDP map; spread: each node's share of the 64 client buckets):",
  );
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

  if (report.status) {
    out.push(`\nherald status --socket ${report.status.socket}   (on ${report.status.node})`);
    out.push(report.status.text.trimEnd());
  }

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
