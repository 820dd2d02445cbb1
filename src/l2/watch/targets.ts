import type { VipDecision } from '../desired.js';
import { rendezvousOrder } from '../rendezvous.js';
import { SPREAD_BUCKETS } from '../buckets.js';

/** The owner-watch pairs that concern one node. */
export interface WatchTargets {
  /** Nodes this node would take a VIP (or spread bucket) over from: it watches them. */
  watching: Set<string>;
  /** Nodes that would take this node's VIPs over: they watch it, its gate waits for them after a stall. */
  watchedBy: Set<string>;
}

/**
 * Who watches whom, from decisions made over the gossip view alone (never over a view already filtered
 * by the watch: a successor that took over must keep watching the owner to hand the VIP back). For a
 * single-owner VIP the pair is (first, second) in rendezvous order over the eligible nodes; for a spread
 * VIP, the same per bucket. Pure and deterministic: both ends of a pair compute it alike.
 */
export function watchTargets(decisions: readonly VipDecision[], self: string): WatchTargets {
  const out: WatchTargets = { watching: new Set(), watchedBy: new Set() };
  const pair = (first: string | undefined, second: string | undefined) => {
    if (first === undefined || second === undefined) return;
    if (second === self) out.watching.add(first);
    if (first === self) out.watchedBy.add(second);
  };
  for (const d of decisions) {
    if (d.mode === 'none' || d.eligible.length < 2 || !d.eligible.includes(self)) continue;
    if (d.mode === 'spread') {
      const nodes = [...new Set(d.eligible)].sort();
      for (let bucket = 0; bucket < SPREAD_BUCKETS; bucket++) {
        const [first, second] = rendezvousOrder(`${d.ip}/${bucket}`, nodes);
        pair(first, second);
      }
    } else {
      const [first, second] = rendezvousOrder(d.ip, d.eligible);
      pair(first, second);
    }
  }
  return out;
}

/** Both sets of pairs (a node keeps every session either view asks for). */
export function mergeTargets(a: WatchTargets, b: WatchTargets): WatchTargets {
  return {
    watching: new Set([...a.watching, ...b.watching]),
    watchedBy: new Set([...a.watchedBy, ...b.watchedBy]),
  };
}
