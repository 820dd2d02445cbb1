import type { VipDecision } from './desired.js';

/**
 * Flow sets on gossip's word, ownership on the owner watch's. A member the watch counts out while gossip
 * still holds it alive is most likely a stalled speaker (a starved process, a false suspicion): its kernel
 * still serves its connections. It keeps its place in every flow set, so a successor that takes a VIP over
 * steers its flows where the owner did instead of to nodes that would reset them. A node that really died
 * leaves the flow sets once gossip says so (and its flows were lost with it anyway).
 *
 * Returns `decisions` with each flow set widened to the union with `byGossip`'s for the same VIP (owner,
 * answer and interfaces stay those of `decisions`); the same array when nothing was added. Pure.
 */
export function withGossipFlowSets(
  decisions: VipDecision[],
  byGossip: readonly VipDecision[],
): VipDecision[] {
  const gossipSets = new Map<string, ReadonlyMap<string, string[]>>();
  for (const g of byGossip) if (g.mode === 'flows' && g.flowSet) gossipSets.set(g.ip, g.flowSet);
  let widened = false;
  const out = decisions.map((d) => {
    const wider = gossipSets.get(d.ip);
    if (d.mode !== 'flows' || !d.flowSet || !wider) return d;
    const own = d.flowSet;
    const missing = [...wider].filter(([node]) => !own.has(node));
    if (missing.length === 0) return d;
    widened = true;
    return { ...d, flowSet: new Map([...own, ...missing]) };
  });
  return widened ? out : decisions;
}
