/**
 * May this speaker refresh its liveness gate now? Pure. A speaker is *stale* from its start until it has
 * joined, and again whenever its own gate closed because it was not scheduled (a pulse later than the
 * liveness bound: to the other nodes it looked dead, and a successor may have taken its VIPs over). A
 * stale speaker keeps its gate shut until each node watching it has reported it up, in packets received
 * after the stall began, for the refresh hold (a watcher may still declare this node down for the silence
 * that ended there, and take its VIPs over, up to (1 + lossSlack) intervals later: l2/gate.ts), or until
 * a cap passes for watchers never heard since the stale state began (a blocked port). A watcher heard
 * since then is waited for past the cap, until it reports this node up or leaves the watchers (gossip
 * removes a dead one): it may still answer some of this node's VIPs, its decision round slow (thousands
 * of VIPs on a loaded host), and on a starved host its packets come seconds apart, so neither its
 * holding mark nor its silence can be trusted to have ended (bench/scale 2026-11-28 05:18: two speakers
 * gave up at the cap on a starved peer they had heard and answered next to it). A watcher the watch declared down, or that
 * gossip calls dead and the watch does not hear, is not waited for: it holds nothing we could answer next
 * to (a frozen one's own gate is shut; one cut off from us is cut off from our segment too).
 *
 * A speaker that was cut off from every peer it watches (all of them down by the watch) and hears one
 * again becomes stale at once too ('isolated'): while alone it took their VIPs, and they took its own, so
 * each side answers the other's VIPs until its control loop catches up. It answers nothing until its
 * watchers report it up (they handed its VIPs back) and its own control loop no longer answers any VIP of
 * a peer the watch hears (`stillAnswering`). That last condition has no cap, after a stall or a start
 * too: it waits for this node's own control loop, not for a peer that may never answer.
 *
 * A start is the exception to the hold: a process that has just started has never been silent (its first
 * pulse begins the stale state, its packets start there), so no watcher can still act on a silence of it:
 * the first unmarked Up packet of each watcher received since counts (the hand-back to a joining or
 * restarted node is silent for a pulse or two instead of the hold). A watcher's packets to a previous
 * process of this node carry that process's discriminator and are dropped; the session with this one
 * starts from Down, so an Up packet from it follows the verdict it took about the previous process (its
 * holding mark covers what it took). A pulse that comes late while stale (this process was silent after
 * all) starts the reports over, for every reason: only packets received after it count, for the hold
 * (without that, a watcher's last unmarked packets from before its down verdict could open the gate).
 *
 * Better still, a speaker whose every up watch session falls silent at once is *fenced* (l2/gate.ts,
 * isolationFenceMs): its gate shuts before the far side may take its VIPs, and stays shut until a peer is
 * heard again (then it waits for its watchers as an isolated one does) or the cap passes: the peers may really all have died together, and
 * then this node answers alone, the cap later.
 */

/** Why the watch shut a running speaker's gate (every stale reason but the start). */
export type GateClosure = 'stall' | 'isolated' | 'fenced';
export type StaleReason = 'start' | GateClosure;

export interface Stale {
  reason: StaleReason;
  /** When the stale state began (the cap and `heard` count from here). */
  sinceMs: number | undefined;
  /** The step's `overdue` was returned for this stale episode already. */
  overdueReported?: boolean;
  /** The last late pulse while stale: reports count only from packets received after it, for the hold. */
  lateAtMs?: number;
}

export interface Freshness {
  stale: Stale | undefined;
  /** When the previous pulse ran (local monotonic ms). */
  lastPulseMs: number | undefined;
  /** When the gate was last refreshed. */
  lastBeatMs: number | undefined;
}

export interface PulseInputs {
  nowMs: number;
  /**
   * The speaker has joined the cluster (or started alone after its grace) and applied its first decision
   * (its answer entries are written): a start's stale state begins at the first pulse after that.
   */
  ready: boolean;
  intervalMs: number;
  livenessBoundMs: number;
  lateTickMs: number;
  /** Give up waiting for watchers that never report us up after this long. */
  capMs: number;
  /** How long a watcher must have reported us up after a silence of ours (GateTiming.refreshHoldMs). */
  refreshHoldMs: number;
  /**
   * The nodes watching this one: has each reported us up, in packets received after `reportsFromMs`, for
   * `holdMs`? `heard` / `holding`: since `sinceMs` (the stale state's start). `gone`: the watch declared
   * it down, or gossip calls it dead and the watch does not hear it.
   */
  watchers: (
    sinceMs: number,
    reports: { fromMs: number; holdMs: number },
  ) => ReadonlyArray<{
    name: string;
    reportsUp: boolean;
    gone?: boolean;
    holding?: boolean;
    heard?: boolean;
  }>;
  /** Peers the watch hears up some of whose VIPs this node's applied decision still answers. */
  stillAnswering?: readonly string[];
  /** Whether any watched peer was heard since `sinceMs` (ends a fence before the cap). */
  heardSince?: (sinceMs: number) => boolean;
}

export interface PulseStep {
  next: Freshness;
  /** Refresh the gate with this pulse's timestamp. */
  beat: boolean;
  /** This pulse came late: silence measured meanwhile is this process's own, not the peers'. */
  stalled: boolean;
  /** Left the stale state; `gaveUpOn` names watchers not heard from by the cap. */
  refreshed?: { afterMs: number; reason: StaleReason; gaveUpOn: string[] };
  /** Past the cap, still waiting for watchers heard since (once per stale episode). */
  overdue?: { afterMs: number; reason: StaleReason; waitingFor: string[] };
  /** Entered the stale state on this pulse (the gate had been shut for gapMs − bound). */
  becameStale?: { gapMs: number };
}

export function starting(): Freshness {
  return { stale: { reason: 'start', sinceMs: undefined }, lastPulseMs: undefined, lastBeatMs: undefined };
}

/** A peer was heard again after this node had lost every peer it watches: stale from now (see above). */
export function isolationEnded(f: Freshness, nowMs: number): Freshness {
  return f.stale ? f : { ...f, stale: { reason: 'isolated', sinceMs: nowMs } };
}

/** Every up watch session fell silent at once: stale (gate shut) from now, until heard or the cap. */
export function fenced(f: Freshness, nowMs: number): Freshness {
  return f.stale ? f : { ...f, stale: { reason: 'fenced', sinceMs: nowMs } };
}

export function pulse(f: Freshness, i: PulseInputs): PulseStep {
  const gap = f.lastPulseMs === undefined ? 0 : i.nowMs - f.lastPulseMs;
  const stalled = gap > i.intervalMs + i.lateTickMs;
  const base: Freshness = { ...f, lastPulseMs: i.nowMs };
  if (!base.stale) {
    const sinceBeat = f.lastBeatMs === undefined ? 0 : i.nowMs - f.lastBeatMs;
    if (sinceBeat < i.livenessBoundMs) return { next: { ...base, lastBeatMs: i.nowMs }, beat: true, stalled };
    // Judge nothing on the pulse that noticed the stall: what the peers said meanwhile is still unread.
    return {
      next: { ...base, stale: { reason: 'stall', sinceMs: i.nowMs } },
      beat: false,
      stalled,
      becameStale: { gapMs: sinceBeat },
    };
  }
  // A start's stale state begins once ready (joined, first decision applied): its cap counts from there.
  const sinceMs = base.stale.sinceMs ?? (i.ready ? i.nowMs : undefined);
  // Silent after all: what the watchers reported before this pulse may predate a verdict on that silence.
  const lateAtMs = stalled ? i.nowMs : base.stale.lateAtMs;
  const stale: Stale = { ...base.stale, sinceMs, ...(lateAtMs === undefined ? {} : { lateAtMs }) };
  const next: Freshness = { ...base, stale };
  if (!i.ready || sinceMs === undefined || base.stale.sinceMs === undefined)
    return { next, beat: false, stalled };
  const age = i.nowMs - sinceMs;
  // The cap is never reached at a late pulse: the watchers' packets of the gap are still unread, and the
  // last ones read are older than the silence limit (a watcher still holding our VIPs would look silent).
  const capPassed = age >= i.capMs && !stalled;
  if (base.stale.reason === 'fenced' && !capPassed && !(i.heardSince?.(sinceMs) ?? false))
    return { next, beat: false, stalled };
  const reports = {
    fromMs: Math.max(lateAtMs ?? sinceMs, sinceMs),
    holdMs: base.stale.reason === 'start' && lateAtMs === undefined ? 0 : i.refreshHoldMs,
  };
  const waitingFor = i.watchers(sinceMs, reports).filter((w) => !w.reportsUp && w.gone !== true);
  const waiting = waitingFor.map((w) => w.name);
  // Our own decision answering VIPs of a peer the watch hears is waited for without a cap: it is our
  // control loop that must catch up (a speaker joining decided first without a member its gossip had
  // not confirmed alive yet, its next round took 7 s at 10,000 VIPs, and it opened at the cap next to it).
  if ((i.stillAnswering ?? []).length > 0) return { next, beat: false, stalled };
  const pastTheCap = (w: { holding?: boolean; heard?: boolean }) => w.holding === true || w.heard === true;
  if (waiting.length > 0 && (!capPassed || waitingFor.some(pastTheCap))) {
    if (!capPassed || next.stale?.overdueReported === true) return { next, beat: false, stalled };
    return {
      next: { ...next, stale: { ...stale, overdueReported: true } },
      beat: false,
      stalled,
      overdue: { afterMs: age, reason: base.stale.reason, waitingFor: waiting },
    };
  }
  return {
    next: { ...next, stale: undefined, lastBeatMs: i.nowMs },
    beat: true,
    stalled,
    refreshed: { afterMs: age, reason: base.stale.reason, gaveUpOn: waiting },
  };
}
