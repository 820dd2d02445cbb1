import type { WatchVerdict } from './peer.js';

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
): OwnershipViews<T> {
  let changed = false;
  let recheckInMs: number | undefined;
  const views = gossipViews.map((v) => {
    if (v.name === self) return v;
    const deadFor = v.alive ? undefined : deadForMs(v.name);
    const alive = aliveForOwnership(verdict(v.name), { alive: v.alive, deadForMs: deadFor }, holdMs);
    if (!v.alive && alive && deadFor !== undefined && verdict(v.name) === 'unknown')
      recheckInMs = Math.min(recheckInMs ?? Infinity, holdMs - deadFor);
    if (alive === v.alive) return v;
    changed = true;
    return { ...v, alive };
  });
  return { views: changed ? views : [...gossipViews], changed, recheckInMs };
}
