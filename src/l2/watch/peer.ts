/**
 * One owner-watch session, pure: BFD control packets (RFC 5880 format and state machine, asynchronous
 * mode) between two speakers, sent at a fixed rate by the pulse (see watch/driver.ts). The session's
 * verdict about the peer is what the takeover decision uses:
 *   - 'up': the three-way handshake completed and the peer was heard within the detection time;
 *   - 'down': the session had been up and then nothing arrived for the detection time, or the peer said
 *     AdminDown (it stops on purpose, gate closed first) — the peer's liveness gate is closed by then
 *     (l2/gate.ts);
 *   - 'unknown': never up since the session was created (the gossip view decides alone).
 */
import {
  type BfdMachineConfig,
  type BfdMachineState,
  detectionExpired,
  initialState,
  packetFor,
  receive,
  sent,
} from '../../bgp/bfd/machine.js';
import type { BfdPacket } from '../../bgp/bfd/packet.js';

export type WatchVerdict = 'up' | 'down' | 'unknown';

/**
 * Diagnostic code (RFC 5880 reserves 9-31) a successor puts in its packets to an owner while its control
 * loop still answers (or may be about to answer) some of that owner's VIPs: the owner's gate may not
 * reopen on such packets. Carried in every session state, not only Up: a session that is coming up again
 * (the owner was silent, the successor declared it down and took its VIPs) is exactly when the owner must
 * hear it. Only Herald speakers exchange watch packets (their own port), so the private value meets no
 * router.
 */
export const WATCH_DIAG_HOLDING = 31;

/**
 * Diagnostic code of a Down packet a speaker sends back to a peer that watches it while it has no session
 * with that peer (their decisions disagree about the pairs): "I run, and I do not watch you". The peer's
 * silence-based 'down' verdict is then no evidence (this node simply stopped sending), so the peer
 * falls back to gossip ('unknown'). Only a running speaker sends it, so it never revives a frozen one.
 */
export const WATCH_DIAG_UNPAIRED = 30;

/**
 * Diagnostic code of every packet a speaker sends from its start until its control loop has applied its
 * first decision (its answer entries are written, its gate still shut): a node that would hand it VIPs
 * keeps answering them meanwhile (l2/watch/view.ts joinerCounts), so the hand-back is not silent for the
 * joiner's first round. It wins over holding (31): a starting node's gate is shut (it opens only after
 * that first decision), so it answers nothing its peer could answer next to, whatever its decisions will
 * say (its own gate then waits until they no longer answer a peer's VIPs). Old speakers send neither:
 * they count as ready.
 */
export const WATCH_DIAG_STARTING = 29;

/** What a peer's packets say about its start: none heard yet, its first decision not applied, or past it. */
export type PeerReadiness = 'unheard' | 'starting' | 'ready';

export interface PeerWatchState {
  machine: BfdMachineState;
  /** Local monotonic ms of the last packet accepted from the peer. */
  lastRxMs: number | undefined;
  /** Silence is measured from max(lastRxMs, baselineMs): a stall of ours moves the baseline. */
  baselineMs: number;
  verdict: WatchVerdict;
  /**
   * Since when every packet from the peer has reported state Up without holding any of our VIPs
   * (undefined: the last one did not).
   */
  remoteUpSinceMs: number | undefined;
  /** The peer's last packet said it holds some of our VIPs (WATCH_DIAG_HOLDING), in whatever state. */
  remoteHolding: boolean;
  /**
   * The peer's last packet said it is starting (WATCH_DIAG_STARTING); undefined: nothing heard since the
   * session was made or the peer was last declared down (its next packets may come from a new process).
   */
  remoteStarting?: boolean;
}

export function newPeerWatch(localDisc: number, nowMs: number): PeerWatchState {
  return {
    machine: initialState(localDisc),
    lastRxMs: undefined,
    baselineMs: nowMs,
    verdict: 'unknown',
    remoteUpSinceMs: undefined,
    remoteHolding: false,
  };
}

export function watchMachineConfig(intervalMs: number, detectMult: number): BfdMachineConfig {
  return {
    desiredMinTxUs: intervalMs * 1000,
    requiredMinRxUs: intervalMs * 1000,
    detectMult,
    passive: false,
  };
}

/** A valid packet from the peer (already matched by address and discriminator). */
export function peerPacket(
  s: PeerWatchState,
  p: BfdPacket,
  nowMs: number,
  cfg: BfdMachineConfig,
): PeerWatchState {
  const machine = receive(s.machine, p, cfg).state;
  let verdict = s.verdict;
  if (machine.state === 'up') verdict = 'up';
  // AdminDown is sent only by a speaker stopping on purpose after it closed its own gate.
  else if (p.state === 'admin-down') verdict = 'down';
  // A reset session (the peer restarted, or saw *us* go silent) says nothing about the peer's gate:
  // only silence does. Until the handshake completes again the gossip view decides.
  else if (s.verdict === 'up') verdict = 'unknown';
  const remoteHolding = p.state !== 'admin-down' && p.diag === WATCH_DIAG_HOLDING;
  // A peer stopping on purpose: what its next process says is not known yet.
  const remoteStarting = p.state === 'admin-down' ? undefined : p.diag === WATCH_DIAG_STARTING;
  const reportsUp = p.state === 'up' && !remoteHolding;
  const remoteUpSinceMs = reportsUp ? (s.remoteUpSinceMs ?? nowMs) : undefined;
  return { ...s, machine, lastRxMs: nowMs, verdict, remoteUpSinceMs, remoteHolding, remoteStarting };
}

/** What the peer's packets say about its start (see WATCH_DIAG_STARTING). */
export function readiness(s: PeerWatchState | undefined): PeerReadiness {
  if (s?.remoteStarting === undefined) return 'unheard';
  return s.remoteStarting ? 'starting' : 'ready';
}

/**
 * The peer answered our packet with WATCH_DIAG_UNPAIRED: it runs but keeps no session with us, so its
 * silence says nothing about its gate. Gossip decides ('unknown'); nothing it says counts as a report.
 */
export function peerUnpaired(s: PeerWatchState, nowMs: number): PeerWatchState {
  return {
    ...s,
    lastRxMs: nowMs,
    verdict: 'unknown',
    remoteUpSinceMs: undefined,
    remoteHolding: false,
  };
}

/** Is this packet a peer's "unpaired" answer (see WATCH_DIAG_UNPAIRED)? */
export const isUnpaired = (p: { state: string; diag: number }): boolean =>
  p.state === 'down' && p.diag === WATCH_DIAG_UNPAIRED;

/** How long the peer has been silent: since its last packet, or our baseline if that is later. */
export const silentForMs = (s: PeerWatchState, nowMs: number): number =>
  nowMs - Math.max(s.lastRxMs ?? s.baselineMs, s.baselineMs);

/**
 * The periodic check, run after pending input was read. `stalled`: this process was not scheduled for a
 * while (a late tick): the silence it saw is its own, so the clock of every session restarts now instead
 * of a verdict being taken on a stale view.
 */
export function checkSilence(
  s: PeerWatchState,
  nowMs: number,
  detectMs: number,
  stalled: boolean,
): PeerWatchState {
  if (stalled) return { ...s, baselineMs: nowMs };
  if (s.verdict !== 'up') return s;
  if (silentForMs(s, nowMs) < detectMs) return s;
  return {
    ...s,
    machine: detectionExpired(s.machine).state,
    verdict: 'down',
    remoteUpSinceMs: undefined,
    remoteHolding: false,
    remoteStarting: undefined,
  };
}

/**
 * A partition around this node, seen from its sessions: at least two are up and every up one has been
 * silent for `fenceMs` or more. Sessions already down or never up do not count (peers that died one by
 * one leave a survivor that keeps answering). Returns the shortest of those silences, else undefined.
 */
export function cutOffFromAll(
  sessions: readonly PeerWatchState[],
  nowMs: number,
  fenceMs: number,
): number | undefined {
  let up = 0;
  let shortest = Infinity;
  for (const s of sessions) {
    if (s.verdict !== 'up') continue;
    up++;
    const silentMs = silentForMs(s, nowMs);
    if (silentMs < fenceMs) return undefined;
    shortest = Math.min(shortest, silentMs);
  }
  return up >= 2 ? shortest : undefined;
}

/**
 * The packet to send now, and the state after sending it. `holding`: this node still answers some of
 * the peer's VIPs (WATCH_DIAG_HOLDING); `starting`: its first decision is not applied yet
 * (WATCH_DIAG_STARTING, which wins: see there).
 */
export function outgoing(
  s: PeerWatchState,
  cfg: BfdMachineConfig,
  holding = false,
  starting = false,
): { packet: ReturnType<typeof packetFor>; next: PeerWatchState } {
  // The pulse sends at the configured rate in every state (both ends are Herald speakers on a private
  // port), so the advertised interval is the configured one too.
  const base = { ...packetFor(s.machine, cfg), desiredMinTxUs: cfg.desiredMinTxUs };
  const diag = starting ? WATCH_DIAG_STARTING : holding ? WATCH_DIAG_HOLDING : undefined;
  const packet = diag === undefined ? base : { ...base, diag };
  return { packet, next: { ...s, machine: sent(s.machine) } };
}

/**
 * The peer has reported us up, holding none of our VIPs, in packets received after `fromMs`, for at least
 * `holdMs` (0: its last packet did), the last of them received within `recentMs`.
 */
export function reportsUsUp(
  s: PeerWatchState,
  nowMs: number,
  r: { fromMs: number; holdMs: number; recentMs: number },
): boolean {
  if (s.remoteUpSinceMs === undefined || s.lastRxMs === undefined) return false;
  if (s.lastRxMs <= r.fromMs || nowMs - s.lastRxMs > r.recentMs) return false;
  return nowMs - Math.max(s.remoteUpSinceMs, r.fromMs) >= r.holdMs;
}

/**
 * The peer is alive and says it still answers some of our VIPs: heard after `sinceMs`, within the last
 * `heardWithinMs`, its last packet marked holding. Such a watcher is waited for without a cap (its round
 * is slow, not lost: a stalled one stops sending).
 */
export function holdsOurs(s: PeerWatchState, nowMs: number, heardWithinMs: number, sinceMs: number): boolean {
  if (!s.remoteHolding || s.lastRxMs === undefined) return false;
  return s.lastRxMs > sinceMs && nowMs - s.lastRxMs <= heardWithinMs;
}
