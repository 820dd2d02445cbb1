import type { PeerReadiness, WatchVerdict } from './peer.js';

/** What the gossip layer says about a member, as the ownership decision needs it. */
export interface GossipLiveness {
  /** alive or suspect (a suspicion is not a failure yet). */
  alive: boolean;
  /** How long ago this node learned the member was dead or gone (undefined: unknown / never). */
  deadForMs: number | undefined;
}

/**
 * Does a member still count as alive for VIP ownership? Pure. The direct watch, when it has a say, wins
 * over gossip both ways: 'up' means the member's pulses (and so possibly its answers) are still arriving;
 * 'down' means it has been silent long enough that its gate is shut. Without a say, a gossip death is
 * acted on only after `holdMs` (l2/gate.ts swimTakeoverHoldMs): the verdict may have started before the
 * member went silent, the hold covers its gate whatever the timing.
 */
export function aliveForOwnership(verdict: WatchVerdict, gossip: GossipLiveness, holdMs: number): boolean {
  if (verdict === 'up') return true;
  if (verdict === 'down') return false;
  if (gossip.alive) return true;
  return gossip.deadForMs !== undefined && gossip.deadForMs < holdMs;
}

/** A member alive in gossip that the decisions in this node's data path do not count alive yet. */
export interface Joiner {
  /** What its watch packets say (l2/watch/peer.ts WATCH_DIAG_STARTING). */
  readiness: PeerReadiness;
  /** How long ago this node learned it was alive. */
  joinedForMs: number;
}

/**
 * Does a member that joined (or came back) since the decisions in this node's data path count for
 * ownership yet? Not while its packets say it is starting (its first decision is not applied: its answer
 * entries are not written, its gate is shut), nor for `waitMs` while none has arrived: until then this
 * node keeps answering what it would hand the joiner, and marks its packets to it holding, so the joiner
 * (whose gate waits for those marks) is answered by it instead of silent for its first round. Past the
 * wait without a packet (a blocked port, an old speaker that never says it is starting) gossip decides,
 * as without the rule. This only ever delays a hand-back: once a decision counting the member is applied
 * it is no joiner any more, and a 'starting' read later takes nothing back. Pure.
 */
export function joinerCounts(j: Joiner, waitMs: number): { counts: boolean; recheckInMs?: number } {
  if (j.readiness === 'ready') return { counts: true };
  if (j.readiness === 'starting') return { counts: false };
  return j.joinedForMs >= waitMs ? { counts: true } : { counts: false, recheckInMs: waitMs - j.joinedForMs };
}

/** Remembers when gossip declared each member dead or gone (local monotonic ms). */
export class GossipDeaths {
  private readonly since = new Map<string, number>();

  constructor(private readonly clockMs: () => number) {}

  note(kind: string, name: string): void {
    if (kind === 'dead' || kind === 'leave') {
      if (!this.since.has(name)) this.since.set(name, this.clockMs());
    } else if (kind === 'join' || kind === 'alive') this.since.delete(name);
  }

  deadForMs(name: string): number | undefined {
    const at = this.since.get(name);
    return at === undefined ? undefined : this.clockMs() - at;
  }
}

export interface OwnershipViews<T> {
  views: T[];
  /** Some member's liveness differs from what gossip alone says. */
  changed: boolean;
  /** Reconcile again in this many ms: a gossip death's hold runs out then. */
  recheckInMs: number | undefined;
}

/**
 * The member list the ownership decision runs on: gossip's alive flags corrected by the direct watch and
 * by the hold on gossip deaths (aliveForOwnership). Pure given its inputs.
 */
export function ownershipViews<T extends { name: string; alive: boolean }>(
  gossipViews: readonly T[],
  self: string,
  verdict: (name: string) => WatchVerdict,
  deadForMs: (name: string) => number | undefined,
  holdMs: number,
  joiners: { of: (name: string) => Joiner | undefined; waitMs: number } = { of: () => undefined, waitMs: 0 },
): OwnershipViews<T> {
  let changed = false;
  let recheckInMs: number | undefined;
  const views = gossipViews.map((v) => {
    if (v.name === self) return v;
    const deadFor = v.alive ? undefined : deadForMs(v.name);
    let alive = aliveForOwnership(verdict(v.name), { alive: v.alive, deadForMs: deadFor }, holdMs);
    if (!v.alive && alive && deadFor !== undefined && verdict(v.name) === 'unknown')
      recheckInMs = Math.min(recheckInMs ?? Infinity, holdMs - deadFor);
    const joiner = alive ? joiners.of(v.name) : undefined;
    if (joiner) {
      const j = joinerCounts(joiner, joiners.waitMs);
      alive = j.counts;
      if (j.recheckInMs !== undefined) recheckInMs = Math.min(recheckInMs ?? Infinity, j.recheckInMs);
    }
    if (alive === v.alive) return v;
    changed = true;
    return { ...v, alive };
  });
  return { views: changed ? views : [...gossipViews], changed, recheckInMs };
}
