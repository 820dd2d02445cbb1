import type { VipList } from './client.js';
import type { BgpSessionStatus, MemberStatus, TransmitErrorStatus, VipStatus } from './source.js';

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

/** "a:33% b:67%": each entry's share of the sum (0% each when the sum is 0). */
function percentages(parts: ReadonlyArray<readonly [string, number]>): string {
  const total = parts.reduce((a, [, n]) => a + n, 0);
  return parts.map(([node, n]) => `${node}:${total > 0 ? Math.round((100 * n) / total) : 0}%`).join(' ');
}

/**
 * Flow mode: each node's share of the bytes the owner steered: since `previous` (a frame of herald top:
 * the live spread), else since the owner wrote its entry. Undefined when nothing was counted (the speaker
 * asked is not the owner, or no traffic).
 */
export function trafficShares(
  v: Pick<VipStatus, 'shares'>,
  previous?: Pick<VipStatus, 'shares'>,
): string | undefined {
  const before = new Map((previous?.shares ?? []).map((s) => [s.node, s.steeredBytes ?? 0]));
  const parts = (v.shares ?? []).map((s) => {
    const now = s.steeredBytes ?? 0;
    const then = before.get(s.node) ?? 0;
    return [s.node, now >= then ? now - then : now] as const;
  });
  return parts.some(([, n]) => n > 0) ? percentages(parts) : undefined;
}

/**
 * The "owner" cell: the owner, the spread shares ("a:32/64 b:32/64"), the flow-mode owner and slot shares
 * ("a flows a:33% b:33% c:34%", then "traffic a:31% b:35% c:34%" when the speaker asked counted the
 * steered bytes; with `previous`, over the interval since it) or "-" when nobody announces.
 */
export function ownerCell(v: Pick<VipStatus, 'owner' | 'shares' | 'mode'>, previous?: VipStatus): string {
  const shares = v.shares ?? [];
  if (v.mode === 'flows') {
    const slots = percentages(shares.map((s) => [s.node, s.slots ?? 0] as const));
    const traffic = trafficShares(v, previous);
    return `${v.owner || '-'} flows ${slots || '-'}${traffic ? `, traffic ${traffic}` : ''}`;
  }
  if (shares.length > 0) {
    return shares.map((s) => (v.mode === 'l2' ? `${s.node}:${s.buckets}/64` : s.node)).join(' ');
  }
  return v.owner || '-';
}

/** One line naming every nonzero transmit-error count ('' when none): frames XDP answered that never left. */
export function formatTransmitErrors(errors: readonly TransmitErrorStatus[]): string {
  const nonzero = errors.filter((e) => e.frames > 0);
  if (nonzero.length === 0) return '';
  const list = nonzero.map((e) => `${e.interface} ${e.action} ${e.frames}`).join(', ');
  return `XDP transmit errors (frames the kernel dropped after the verdict, see docs/troubleshooting.md): ${list}\n`;
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
  return (
    head +
    formatTransmitErrors(list.transmitErrors ?? []) +
    table(['VIP', 'SERVICES', 'MODE', 'OWNER', 'LOCAL', 'RX', 'UTIL', 'REASON'], rows)
  );
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

/**
 * `herald top` frame: VIPs by ingress, busiest first, at most `limit` rows; flow-mode traffic shares over
 * the interval since `previous` (the last frame), when given.
 */
export function formatTop(list: VipList, limit: number, at: Date, previous?: VipList): string {
  const before = new Map((previous?.vips ?? []).map((v) => [v.ip, v]));
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
      ownerCell(v, before.get(v.ip)),
      v.services.join(',') || '-',
    ]);
  return (
    `herald top - node ${list.node} - ${at.toISOString()} - ${vips.length} VIPs, ${formatBits(total)}, ` +
    `LB util ${formatRatio(list.nodeUtilization)}, concentration ${list.clusterConcentration.toFixed(2)}` +
    `${list.busiestNode ? ` (busiest ${list.busiestNode})` : ''}\n\n` +
    table(['VIP', 'RX', 'PKT/S', 'UTIL', 'LOCAL', 'OWNER', 'SERVICES'], rows)
  );
}
