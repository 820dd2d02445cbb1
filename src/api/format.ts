import type { VipList } from './client.js';
import type { BgpSessionStatus, MemberStatus, VipStatus } from './source.js';

/** Left-aligned text table; every cell on one line. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** "1.23 Gb/s", "850 kb/s", "0 b/s". */
export function formatBits(bps: number): string {
  const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
  let v = bps;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function formatRatio(r: number): string {
  return `${(r * 100).toFixed(r >= 0.1 ? 0 : 1)}%`;
}

/**
 * The "owner" cell: the owner, the spread shares ("a:32/64 b:32/64"), the flow-mode owner and slot shares
 * ("a flows a:33% b:33% c:34%") or "-" when nobody announces.
 */
export function ownerCell(v: Pick<VipStatus, 'owner' | 'shares' | 'mode'>): string {
  const shares = v.shares ?? [];
  if (v.mode === 'flows') {
    const total = shares.reduce((a, s) => a + (s.slots ?? 0), 0);
    const parts = shares.map(
      (s) => `${s.node}:${total > 0 ? Math.round((100 * (s.slots ?? 0)) / total) : 0}%`,
    );
    return `${v.owner || '-'} flows ${parts.join(' ') || '-'}`;
  }
  if (shares.length > 0) {
    return shares.map((s) => (v.mode === 'l2' ? `${s.node}:${s.buckets}/64` : s.node)).join(' ');
  }
  return v.owner || '-';
}

export function formatVips(list: VipList): string {
  const rows = list.vips.map((v) => [
    v.ip,
    v.services.join(',') || '-',
    v.mode,
    ownerCell(v),
    v.local ? 'yes' : 'no',
    formatBits(v.rxBitsPerSecond),
    formatRatio(v.utilization ?? 0),
    v.reason || '-',
  ]);
  const head = `node ${list.node}: LB utilization ${formatRatio(list.nodeUtilization)}, cluster concentration ${list.clusterConcentration.toFixed(2)}${list.busiestNode ? ` (busiest ${list.busiestNode})` : ''}\n`;
  return head + table(['VIP', 'SERVICES', 'MODE', 'OWNER', 'LOCAL', 'RX', 'UTIL', 'REASON'], rows);
}

export function formatMembers(members: readonly MemberStatus[]): string {
  return table(
    ['MEMBER', 'ADDRESS', 'STATE', 'INCARNATION'],
    members.map((m) => [
      m.name,
      `${m.address.includes(':') ? `[${m.address}]` : m.address}:${m.port}`,
      m.state,
      String(m.incarnation),
    ]),
  );
}

export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function formatSessions(sessions: readonly BgpSessionStatus[]): string {
  return table(
    ['PEER', 'ASN', 'STATE', 'BFD', 'UPTIME', 'PREFIXES', 'UPDATES OUT/IN'],
    sessions.map((s) => [
      s.peer,
      String(s.peerAsn),
      s.state,
      s.bfdState || '-',
      formatDuration(s.uptimeSeconds),
      String(s.prefixesAnnounced),
      `${s.updatesSent}/${s.updatesReceived}`,
    ]),
  );
}

/** `herald top` frame: VIPs by ingress, busiest first, at most `limit` rows. */
export function formatTop(list: VipList, limit: number, at: Date): string {
  const vips = [...list.vips].sort((a, b) => b.rxBitsPerSecond - a.rxBitsPerSecond || (a.ip < b.ip ? -1 : 1));
  const total = vips.reduce((s, v) => s + v.rxBitsPerSecond, 0);
  const rows = vips
    .slice(0, limit)
    .map((v) => [
      v.ip,
      formatBits(v.rxBitsPerSecond),
      `${Math.round(v.rxPacketsPerSecond)}`,
      formatRatio(v.utilization ?? 0),
      v.local ? 'yes' : 'no',
      ownerCell(v),
      v.services.join(',') || '-',
    ]);
  return (
    `herald top - node ${list.node} - ${at.toISOString()} - ${vips.length} VIPs, ${formatBits(total)}, ` +
    `LB util ${formatRatio(list.nodeUtilization)}, concentration ${list.clusterConcentration.toFixed(2)}` +
    `${list.busiestNode ? ` (busiest ${list.busiestNode})` : ''}\n\n` +
    table(['VIP', 'RX', 'PKT/S', 'UTIL', 'LOCAL', 'OWNER', 'SERVICES'], rows)
  );
}
