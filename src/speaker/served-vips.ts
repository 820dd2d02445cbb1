import type { VipDecision } from '../l2/desired.js';

/**
 * The VIPs `node` serves or is next to serve, so its host must hold them: those it answers at layer 2
 * (single owner or spread share), those it takes over first when the owner fails (held ahead, so the
 * takeover changes nothing on the host), those whose flow set it belongs to (flows are steered to it by
 * MAC), and those it advertises over BGP. Pure.
 */
export function servedVips(
  decisions: readonly VipDecision[],
  node: string,
  bgpAdvertised: ReadonlySet<string>,
): Set<string> {
  const out = new Set(bgpAdvertised);
  for (const d of decisions) {
    if (d.shares.has(node) || d.successor === node || d.flowSet?.has(node)) out.add(d.ip);
  }
  return out;
}
