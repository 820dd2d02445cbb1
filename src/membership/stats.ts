/** The Memberlist's counters: traffic, probes, refutations and every dropped input by reason. */
import type { DropReason } from './types.js';

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
];

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
    userMessagesIn: 0,
    userMessagesDropped: 0,
    lateTicks: 0,
  };
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  /** Counts `n` inputs dropped for `reason`; returns undefined so callers can `return stats.drop(..)`. */
  drop(reason: DropReason, n = 1): undefined {
    this.drops[reason] += n;
    return undefined;
  }

  snapshot(awareness: number): MembershipStats {
    const droppedTotal = Object.values(this.drops).reduce((a, b) => a + b, 0);
    return { ...this.counters, awareness, dropped: { ...this.drops }, droppedTotal };
  }
}
