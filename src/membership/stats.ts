/**
 * The Memberlist's counters: traffic, probes, refutations and every dropped input by reason, with
 * rate-limited reports of the drops (the first of a reason at once, then one summary per interval) that
 * name where they came from.
 */
import type { DropReason, DropReport } from './types.js';

export interface MembershipStats {
  udpPacketsIn: number;
  udpPacketsOut: number;
  tcpStreamsIn: number;
  tcpStreamsOut: number;
  probes: number;
  probesFailed: number;
  indirectProbes: number;
  tcpFallbackAcks: number;
  suspicions: number;
  refutations: number;
  /** Alive news that claimed a name up at another address (ignored, never outbid). */
  nameConflicts: number;
  userMessagesIn: number;
  userMessagesDropped: number;
  /** Probe ticks that fired later than probeTimeout (event loop starved); each raises awareness. */
  lateTicks: number;
  awareness: number;
  dropped: Record<DropReason, number>;
  droppedTotal: number;
}

export type Counters = Omit<MembershipStats, 'dropped' | 'droppedTotal' | 'awareness'>;

const DROP_REASONS: DropReason[] = [
  'truncated',
  'malformed',
  'unauthenticated',
  'plaintext',
  'version',
  'cluster',
  'invalid',
  'oversize',
  'misdirected',
  'busy',
  'implausible',
  'replayed',
  'expired',
];

/** At most one report per reason per this interval. */
export const DROP_REPORT_INTERVAL_MS = 10_000;
const MAX_SOURCES = 5;

interface Pending {
  count: number;
  sources: Set<string>;
  lastReport: number;
  timer?: ReturnType<typeof setTimeout>;
}

export class Stats {
  readonly counters: Counters = {
    udpPacketsIn: 0,
    udpPacketsOut: 0,
    tcpStreamsIn: 0,
    tcpStreamsOut: 0,
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    tcpFallbackAcks: 0,
    suspicions: 0,
    refutations: 0,
    nameConflicts: 0,
    userMessagesIn: 0,
    userMessagesDropped: 0,
    lateTicks: 0,
  };
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  private readonly pending = new Map<DropReason, Pending>();

  constructor(
    private readonly report: (r: DropReport) => void = () => undefined,
    private readonly intervalMs = DROP_REPORT_INTERVAL_MS,
  ) {}

  /**
   * Counts `n` inputs dropped for `reason` (from `source`, `addr:port`, when known); returns undefined so
   * callers can `return stats.drop(..)`.
   */
  drop(reason: DropReason, n = 1, source?: string): undefined {
    this.drops[reason] += n;
    let p = this.pending.get(reason);
    if (!p) {
      p = { count: 0, sources: new Set(), lastReport: -Infinity };
      this.pending.set(reason, p);
    }
    p.count += n;
    if (source !== undefined && p.sources.size < MAX_SOURCES) p.sources.add(source);
    const now = Date.now();
    if (now - p.lastReport >= this.intervalMs) this.flush(reason, p, now);
    else if (!p.timer) {
      p.timer = setTimeout(() => this.flush(reason, p, Date.now()), p.lastReport + this.intervalMs - now);
      p.timer.unref?.();
    }
    return undefined;
  }

  /** Cancels pending drop reports. */
  stop(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
  }

  private flush(reason: DropReason, p: Pending, now: number): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    if (p.count === 0) return;
    const r = { reason, count: p.count, sources: [...p.sources] };
    p.count = 0;
    p.sources.clear();
    p.lastReport = now;
    this.report(r);
  }

  snapshot(awareness: number): MembershipStats {
    const droppedTotal = Object.values(this.drops).reduce((a, b) => a + b, 0);
    return { ...this.counters, awareness, dropped: { ...this.drops }, droppedTotal };
  }
}
