import {
  decideAmong,
  type L2NodeInput,
  type L2VipInput,
  nodeInterfaces,
  type VipDecision,
} from './desired.js';

/**
 * decideVip(vip, nodes) for a VIP decided before over a member list that differs from `nodes` only in the
 * nodes named in `changed` (joined, left, died, came back, or gossiping other interfaces or labels), with
 * the same VIP input otherwise: `before` is that decision. A node's eligibility and interfaces read only
 * the VIP's input and its own (nodeInterfaces), so only the changed nodes are asked again; the others'
 * answers come from `before`. A membership change then costs each VIP a handful of comparisons instead of
 * every node's checks, and scores no node twice (l2/rendezvous caches them).
 *
 * `byName` holds every node of `nodes` by name (names unique). Undefined where the shortcut does not apply,
 * and the caller decides the VIP in full: a VIP that had no eligible node or was spread over buckets, one
 * under spread or bandwidth-placement advertisements, and one left with no eligible node.
 */
export function redecideVip(
  before: VipDecision,
  vip: L2VipInput,
  nodes: readonly L2NodeInput[],
  byName: ReadonlyMap<string, L2NodeInput>,
  changed: ReadonlySet<string>,
): VipDecision | undefined {
  if (before.ip !== vip.ip || (before.mode !== 'single' && before.mode !== 'flows')) return undefined;
  if (vip.advertisements.some((ad) => (ad.spread && !ad.flows) || ad.placement === 'bandwidth'))
    return undefined;
  const fresh = new Map<string, string[]>();
  for (const name of changed) {
    const node = byName.get(name);
    if (node === undefined) continue;
    const names = nodeInterfaces(vip, node);
    if (typeof names !== 'string') fresh.set(name, names);
  }
  const eligible = before.eligible.filter((name) => !changed.has(name));
  for (const name of fresh.keys()) eligible.push(name);
  if (eligible.length === 0) return undefined;
  eligible.sort();
  /** An eligible node's interfaces: asked again if it changed, else what `before` recorded or computed. */
  const interfacesOf = (name: string): string[] | undefined => {
    const again = fresh.get(name);
    if (again !== undefined) return again;
    const known =
      before.flowSet?.get(name) ??
      (name === before.owner
        ? before.interfaces.get(name)
        : name === before.successor
          ? before.successorInterfaces
          : undefined);
    if (known !== undefined) return known;
    const node = byName.get(name);
    const names = node === undefined ? undefined : nodeInterfaces(vip, node);
    return typeof names === 'string' ? undefined : names;
  };
  const allInterfaces = () => {
    const inSet = new Set(eligible);
    const all = new Map<string, string[]>();
    for (const node of nodes) if (inSet.has(node.name)) all.set(node.name, interfacesOf(node.name) ?? []);
    return all;
  };
  return decideAmong(vip, nodes, eligible, interfacesOf, allInterfaces, before);
}
