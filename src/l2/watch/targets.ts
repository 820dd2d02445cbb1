import type { VipDecision } from '../desired.js';
import { rendezvousFirstTwo, rendezvousOrder } from '../rendezvous.js';
import { SPREAD_BUCKETS } from '../buckets.js';
import type { TimeSlicer } from '../../util/slices.js';

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
  for (const d of decisions) addPairs(out, d, self);
  return out;
}

/**
 * watchTargets in time slices of `slicer` (the same sets): a rendezvous order per VIP is a round's
 * largest piece of work after the decisions themselves (hundreds of ms at 10,000 VIPs on a loaded host).
 */
export async function watchTargetsSliced(
  decisions: readonly VipDecision[],
  self: string,
  slicer: TimeSlicer,
): Promise<WatchTargets> {
  const out: WatchTargets = { watching: new Set(), watchedBy: new Set() };
  for (const d of decisions) {
    if (slicer.due()) await slicer.pause();
    addPairs(out, d, self);
  }
  return out;
}

function addPairs(out: WatchTargets, d: VipDecision, self: string): void {
  const pair = (first: string | undefined, second: string | undefined) => {
    if (first === undefined || second === undefined) return;
    if (second === self) out.watching.add(first);
    if (first === self) out.watchedBy.add(second);
  };
  if (d.mode === 'none' || d.eligible.length < 2 || !d.eligible.includes(self)) return;
  if (d.mode === 'spread') {
    const nodes = [...new Set(d.eligible)].sort();
    for (let bucket = 0; bucket < SPREAD_BUCKETS; bucket++) {
      const [first, second] = rendezvousOrder(`${d.ip}/${bucket}`, nodes);
      pair(first, second);
    }
  } else {
    const [first, second] = rendezvousFirstTwo(d.ip, d.eligible);
    pair(first, second);
  }
}

/** Both sets of pairs (a node keeps every session either view asks for). */
export function mergeTargets(a: WatchTargets, b: WatchTargets): WatchTargets {
  return {
    watching: new Set([...a.watching, ...b.watching]),
    watchedBy: new Set([...a.watchedBy, ...b.watchedBy]),
  };
}
