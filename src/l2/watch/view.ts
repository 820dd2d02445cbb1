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
