/**
 * The one-answer invariant as arithmetic: the XDP liveness gate of an owner must close before any other
 * node may take its VIPs over. Both sides are derived here from the same timers, so no setting can make
 * the gate outlive the earliest takeover. Pure; docs/l2.md ("The one-answer invariant") explains it.
 *
 * Clocks: every duration is measured on one host's monotonic clock (the owner's gate by the owner's
 * kernel, a successor's silence by the successor's); only durations are compared, never timestamps.
 */

/** The gossip timers the SWIM-only takeover path depends on (a subset of membership's Timing). */
export interface SwimTimers {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  suspicionMult: number;
}

/** The direct owner watch between an owner and its successors. */
export interface WatchTimers {
  /** Every speaker sends one watch packet to each peer of its watch set this often (the pulse). */
  intervalMs: number;
  /** A successor declares its owner down after detectMult × intervalMs without a packet from it. */
  detectMult: number;
}

export interface GateSettings {
  swim: SwimTimers;
  watch: WatchTimers;
  /**
   * Trailing watch packets that may be lost just before an owner freezes while the invariant still holds
   * (a lost last packet makes the successor's silence start one interval earlier).
   */
  lossSlack: number;
  /** Scheduling and clock-granularity slack kept between the gate closing and the earliest takeover. */
  marginMs: number;
}

export interface GateTiming {
  /** D: silence after which a successor declares the watched owner down and may take over. */
  watchDetectMs: number;
  /** Earliest SWIM dead verdict after a member goes silent: probe timeout + minimal suspicion. */
  swimEarliestDeadMs: number;
  /** L: the XDP program answers only while the heartbeat is younger than this. */
  livenessBoundMs: number;
  /** A successor acting on a SWIM dead verdict alone (no established watch) waits this long first. */
  swimTakeoverHoldMs: number;
  /** Earliest takeover by any other node after the owner's last heartbeat, over both paths. */
  earliestTakeoverMs: number;
  /** Heartbeat (and watch packet) period. */
  heartbeatMs: number;
  /**
   * A tick that comes this much later than due means the process was not scheduled: its silence
   * measurements and its right to answer are stale until refreshed.
   */
  lateTickMs: number;
  /** After a stale period the owner answers again only once each watcher has reported it up this long. */
  refreshHoldMs: number;
  /**
   * Earliest takeover of a node's VIPs by a peer cut off from it, counted from the last packet the node
   * received from that peer: the peer's last packet from the node may be 1 + lossSlack intervals older.
   */
  partitionTakeoverMs: number;
  /**
   * F: a node whose every watch session that was up (at least two) has been silent this long at once is
   * cut off (a partition around it, or all its peers died together): it shuts its gate (fenced) before
   * the far side may take its VIPs over. Undefined when the timers leave no room for it (F < 2 heartbeats:
   * random loss would fence).
   */
  isolationFenceMs: number | undefined;
  /**
   * A node that learns of a member joining keeps answering what it would hand it until the member's watch
   * packets say its first decision is applied, or, while none has arrived, this long (the detection time:
   * a joiner sends from its first pulse after it learned of this node; l2/watch/view.ts joinerCounts).
   */
  joinerWaitMs: number;
}

export const DEFAULT_GATE_SETTINGS = {
  watch: { intervalMs: 20, detectMult: 9 },
  lossSlack: 2,
  marginMs: 10,
} as const;

/**
 * L = D − lossSlack × interval − margin, with D = detectMult × interval; F = D − (2 + lossSlack) × interval − margin.
 * The owner stamps each heartbeat with the time read *before* it sent that pulse's watch packets, so its
 * last heartbeat h is never later than the last packet s a successor received (up to lossSlack lost
 * ones): gate closes at h + L ≤ s + D − margin < successor's takeover (≥ s + D).
 * SWIM-only takeovers (a successor without an established watch) wait swimTakeoverHold = L + margin after
 * the dead verdict, and the verdict itself comes no sooner than probeTimeout + suspicionMult × probeInterval
 * after the silence began; both exceed L for every profile.
 * Isolation: cut at T, the node's last packet from a peer is ≤ T and the peer's last from it ≥ T − (1 +
 * lossSlack) × interval, so the peer takes over no sooner than T + D − (1 + lossSlack) × interval; the node,
 * judging once per pulse, fences by T + F + interval, a margin before that.
 */
export function deriveGateTiming(s: GateSettings): GateTiming {
  const { intervalMs, detectMult } = s.watch;
  const problems: string[] = [];
  if (!(intervalMs > 0)) problems.push(`watch interval must be > 0 ms (got ${intervalMs})`);
  if (!Number.isInteger(detectMult) || detectMult < 1)
    problems.push(`watch detect multiplier must be an integer ≥ 1 (got ${detectMult})`);
  if (!Number.isInteger(s.lossSlack) || s.lossSlack < 0)
    problems.push(`loss slack must be an integer ≥ 0 (got ${s.lossSlack})`);
  if (!(s.marginMs >= 0)) problems.push(`margin must be ≥ 0 ms (got ${s.marginMs})`);
  const watchDetectMs = detectMult * intervalMs;
  const livenessBoundMs = watchDetectMs - s.lossSlack * intervalMs - s.marginMs;
  // The gate must survive ordinary timer jitter: at least two heartbeats must fit in it.
  if (problems.length === 0 && livenessBoundMs < 2 * intervalMs)
    problems.push(
      `watch ${intervalMs} ms × ${detectMult} leaves a liveness bound of ${livenessBoundMs} ms, ` +
        `below two heartbeats (${2 * intervalMs} ms): raise the detect multiplier`,
    );
  if (problems.length > 0) throw new Error(`gate timing: ${problems.join('; ')}`);
  const swimEarliestDeadMs = s.swim.probeTimeoutMs + s.swim.suspicionMult * s.swim.probeIntervalMs;
  const swimTakeoverHoldMs = livenessBoundMs + s.marginMs;
  const partitionTakeoverMs = watchDetectMs - (1 + s.lossSlack) * intervalMs;
  // Judged once per pulse: the fence may come one interval after F, and must still precede the takeover.
  const fenceMs = partitionTakeoverMs - intervalMs - s.marginMs;
  return {
    watchDetectMs,
    swimEarliestDeadMs,
    livenessBoundMs,
    swimTakeoverHoldMs,
    earliestTakeoverMs: Math.min(
      watchDetectMs - s.lossSlack * intervalMs,
      swimEarliestDeadMs + swimTakeoverHoldMs,
    ),
    heartbeatMs: intervalMs,
    lateTickMs: 2 * intervalMs,
    refreshHoldMs: 3 * intervalMs + s.marginMs,
    partitionTakeoverMs,
    isolationFenceMs: fenceMs >= 2 * intervalMs ? fenceMs : undefined,
    joinerWaitMs: watchDetectMs,
  };
}

/**
 * The pulse period of a speaker with no watch session (nobody it would take over from, nobody who would
 * take over from it: a speaker alone) that only keeps its own gate open: as long as a beat still lands
 * inside L when the pulse comes lateTickMs late (the delay a paired pulse tolerates before it counts itself
 * stalled) plus the margin, and never shorter than the heartbeat. Default timers: 130 − 40 − 10 = 80 ms.
 * The gate still closes L after the last beat, whatever the period.
 */
export function alonePulseMs(t: GateTiming, marginMs: number = DEFAULT_GATE_SETTINGS.marginMs): number {
  return Math.max(t.heartbeatMs, t.livenessBoundMs - t.lateTickMs - marginMs);
}

/** An operator's explicit --liveness-ms must not outlive the earliest takeover; a shorter one is fine. */
export function checkLivenessBound(requestedMs: number, timing: GateTiming): string | undefined {
  if (!(requestedMs > 0)) return `liveness bound must be > 0 ms (got ${requestedMs})`;
  if (requestedMs > timing.livenessBoundMs)
    return (
      `liveness bound ${requestedMs} ms would outlive the earliest takeover by another node ` +
      `(${timing.earliestTakeoverMs} ms after the last heartbeat); at most ${timing.livenessBoundMs} ms`
    );
  if (requestedMs < 2 * timing.heartbeatMs)
    return `liveness bound ${requestedMs} ms is below two heartbeats (${2 * timing.heartbeatMs} ms)`;
  return undefined;
}

/** The invariant itself, for tests and for a startup self-check. */
export function invariantHolds(t: GateTiming, marginMs: number): boolean {
  return (
    t.livenessBoundMs + marginMs <= t.earliestTakeoverMs &&
    t.swimEarliestDeadMs + t.swimTakeoverHoldMs > t.livenessBoundMs &&
    (t.isolationFenceMs === undefined ||
      t.isolationFenceMs + t.heartbeatMs + marginMs <= t.partitionTakeoverMs)
  );
}
