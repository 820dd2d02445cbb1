import { sameItems } from '../util/arrays.js';
import { ALL_BUCKETS, bucketCount } from './buckets.js';
import { assignSpreadBuckets } from './spread.js';
import { rendezvousFirstTwo } from './rendezvous.js';
import { interfacesForVip, type NodeInterface } from './interfaces.js';
import { anyReadyEndpoint, hasReadyEndpoint, type ReadyNodes } from './endpoints.js';

/** What one L2Advertisement that matches a VIP's pool contributes (selectors already evaluated). */
export interface L2AdvertisementView {
  name: string;
  /** Nodes the advertisement's nodeSelectors select; undefined = every node. */
  nodes?: ReadonlySet<string>;
  /** Interface names to announce on; empty = the interface holding the route to the VIP's subnet. */
  interfaces: readonly string[];
  spread: boolean;
  /** spread.by: flows (one answerer, its XDP program steers each flow to a node of the flow set). */
  flows?: boolean;
  /** bandwidth: the VIP's owner may be placed by the coordinator's map instead of the hash. */
  placement?: 'hash' | 'bandwidth';
}

export interface L2VipInput {
  ip: string;
  /** `namespace/name` of every service using this IP (shared IPs list several). */
  services: readonly string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Nodes with at least one ready endpoint of any of the services ('undeclared': every node serves). */
  readyNodes: ReadyNodes;
  /** Nodes failing a health check of one of the services, with what failed (not eligible). */
  unhealthy?: ReadonlyMap<string, string>;
  advertisements: readonly L2AdvertisementView[];
  /** Where bandwidth placement put this VIP (the newest placement map); owner while eligible. */
  placedOwner?: string;
}

export interface L2NodeInput {
  name: string;
  /** Alive in gossip (suspect counts as alive, as in MetalLB: a suspect is not yet a failure). */
  alive: boolean;
  /** exclude-from-external-load-balancers label or NetworkUnavailable=True. */
  excluded: boolean;
  interfaces: readonly NodeInterface[];
}

export type VipMode = 'single' | 'spread' | 'flows' | 'none';

export interface VipDecision {
  ip: string;
  services: readonly string[];
  mode: VipMode;
  /** The single owner, or in spread mode the node holding the most buckets. */
  owner?: string;
  /**
   * Single and flow mode: the node that takes the VIP over when the owner fails (the next in rendezvous
   * order); its host holds the VIP already, so its kernel takes the first packets the takeover pulls to it.
   */
  successor?: string;
  /** Single and flow mode: the interfaces the successor would announce on (its owner-watch takeover, l2/watch/takeover). */
  successorInterfaces?: string[];
  /** Bucket bitmap per answering node (ALL_BUCKETS for a single owner). */
  shares: Map<string, bigint>;
  eligible: string[];
  /** Interfaces each answering node announces on. */
  interfaces: Map<string, string[]>;
  /** Why this node set, in words a person understands. */
  reason: string;
  /** Flow mode: every node that receives flows (the owner included) and its interfaces for the VIP. */
  flowSet?: Map<string, string[]>;
  /** Bandwidth placement applies to this VIP; hashedOwner is who would own it without a placement. */
  placement?: { hashedOwner: string; placed: boolean };
}

/**
 * Who answers for every VIP: eligible = alive ∩ selected by a matching L2Advertisement ∩ not excluded ∩
 * has an announcing interface ∩ (Local policy) has a ready endpoint ∩ passes the services' health checks.
 * No ready endpoint anywhere → nobody; endpoints nobody declared (standalone) → every node serves.
 * Owner by rendezvous hashing keyed on the IP, so services sharing an IP agree. Pure: every speaker
 * computes the same decisions from the same inputs.
 */
export function decideL2(vips: readonly L2VipInput[], nodes: readonly L2NodeInput[]): VipDecision[] {
  return vips.map((vip) => decideVip(vip, nodes));
}

/** One VIP's decision (decideL2 for one entry; callers that slice the work call it per VIP). */
export function decideVip(vip: L2VipInput, nodes: readonly L2NodeInput[]): VipDecision {
  const base = {
    ip: vip.ip,
    services: vip.services,
    shares: new Map<string, bigint>(),
    interfaces: new Map(),
  };
  if (vip.advertisements.length === 0) {
    return { ...base, mode: 'none', eligible: [], reason: 'no L2Advertisement selects the pool of this IP' };
  }
  if (!anyReadyEndpoint(vip.readyNodes)) {
    return { ...base, mode: 'none', eligible: [], reason: 'no ready endpoint on any node' };
  }
  const interfaces = new Map<string, string[]>();
  const rejected: string[] = [];
  for (const node of nodes) {
    const names = nodeInterfaces(vip, node);
    if (typeof names === 'string') rejected.push(names);
    else interfaces.set(node.name, names);
  }
  const eligible = [...interfaces.keys()].sort();
  if (eligible.length === 0) {
    return { ...base, mode: 'none', eligible, reason: `no eligible node (${rejected.join('; ')})` };
  }
  return decideAmong(
    vip,
    nodes,
    eligible,
    (name) => interfaces.get(name),
    () => interfaces,
  );
}

/**
 * The interfaces `node` would announce `vip` on, or why it may not (a clause naming the node). Reads only
 * the VIP's input and this node's: a node whose input did not change keeps its answer (l2/redecide.ts).
 */
export function nodeInterfaces(vip: L2VipInput, node: L2NodeInput): string[] | string {
  const why = ineligibility(vip, node);
  if (why) return why;
  const selecting = vip.advertisements.filter((ad) => !ad.nodes || ad.nodes.has(node.name));
  const names = interfacesForVip(
    vip.ip,
    node.interfaces,
    selecting.flatMap((ad) => ad.interfaces),
  );
  return names.length === 0 ? `${node.name}: no announcing interface for ${vip.ip}` : names;
}

/**
 * The decision once the eligible nodes (sorted, at least one) are known: `interfacesOf` gives one eligible
 * node's interfaces, `allInterfaces` every eligible node's in the order of `nodes` (asked for only by the
 * flow set and spread mode, which list them all).
 */
export function decideAmong(
  vip: L2VipInput,
  nodes: readonly L2NodeInput[],
  eligibleNodes: string[],
  interfacesOf: (node: string) => string[] | undefined,
  allInterfaces: () => Map<string, string[]>,
  /** An earlier decision of this VIP: its maps and lists are shared where equal (none is ever changed). */
  like?: VipDecision,
): VipDecision {
  let eligible = eligibleNodes;
  const base = { ip: vip.ip, services: vip.services };
  // A failing check moves the VIP away; the status says so, or a person would wonder why it moved.
  const failing =
    vip.unhealthy === undefined || vip.unhealthy.size === 0
      ? ''
      : [...vip.unhealthy]
          .filter(([n]) => nodes.some((x) => x.name === n && x.alive))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([n, why]) => `; health check failed on ${n}: ${why}`)
          .join('');
  const { owner, successor, placement, why } = chooseOwner(vip, eligible);
  const placed = placement ? { placement } : {};
  const policy =
    vip.externalTrafficPolicy === 'Local' && vip.readyNodes !== 'undeclared'
      ? ', nodes with a ready endpoint only'
      : '';
  const next =
    successor === undefined ? {} : { successor, successorInterfaces: interfacesOf(successor) ?? [] };
  const ownerInterfaces = interfacesOf(owner) ?? [];
  const same = like !== undefined && like.owner === owner && like.mode !== 'spread';
  const shares = same ? like.shares : new Map([[owner, ALL_BUCKETS]]);
  const answering =
    same && like.interfaces.get(owner) === ownerInterfaces
      ? like.interfaces
      : new Map([[owner, ownerInterfaces]]);
  if (like !== undefined && sameItems(like.eligible, eligible)) eligible = like.eligible;
  if (vip.advertisements.some((ad) => ad.spread && ad.flows)) {
    return {
      ...base,
      mode: 'flows',
      owner,
      ...next,
      shares,
      eligible,
      interfaces: answering,
      flowSet: allInterfaces(),
      reason: placement?.placed
        ? `${why}; it steers flows to all ${eligible.length} eligible nodes${policy}${failing}`
        : `first of ${eligible.length} eligible nodes answers and steers flows to all of them${policy}${failing}`,
      ...placed,
    };
  }
  const spread = vip.advertisements.some((ad) => ad.spread);
  if (spread && eligible.length > 1) {
    const shares = assignSpreadBuckets(vip.ip, eligible);
    const most = [...shares.entries()].sort((a, b) => bucketCount(b[1]) - bucketCount(a[1]))[0]?.[0];
    return {
      ...base,
      mode: 'spread',
      ...(most ? { owner: most } : {}),
      shares,
      eligible,
      interfaces: allInterfaces(),
      reason: `spread over ${eligible.length} eligible nodes by client buckets${failing}`,
    };
  }
  return {
    ...base,
    mode: 'single',
    owner,
    ...next,
    shares,
    eligible,
    interfaces: answering,
    reason: `${why}${policy}${failing}`,
    ...placed,
  };
}

/**
 * The owner among the eligible nodes: the rendezvous hash of the IP, unless bandwidth placement put the VIP
 * on another eligible node. A placement outside the eligible set is ignored, so a VIP always has an owner.
 */
export function chooseOwner(
  vip: Pick<L2VipInput, 'ip' | 'advertisements' | 'placedOwner'>,
  eligible: readonly string[],
): { owner: string; successor?: string; placement?: VipDecision['placement']; why: string } {
  const [hashedOwner, runnerUp] = rendezvousFirstTwo(vip.ip, eligible) as [string, string | undefined];
  const hashed = hashedReason(eligible.length);
  const after = (owner: string) => {
    const successor = owner === hashedOwner ? runnerUp : hashedOwner;
    return successor === undefined ? {} : { successor };
  };
  if (!vip.advertisements.some((ad) => ad.placement === 'bandwidth'))
    return { owner: hashedOwner, ...after(hashedOwner), why: hashed };
  const placed =
    vip.placedOwner !== undefined && vip.placedOwner !== hashedOwner && eligible.includes(vip.placedOwner);
  if (!placed)
    return {
      owner: hashedOwner,
      ...after(hashedOwner),
      placement: { hashedOwner, placed: false },
      why: hashed,
    };
  return {
    owner: vip.placedOwner as string,
    ...after(vip.placedOwner as string),
    placement: { hashedOwner, placed: true },
    why: `placed on ${vip.placedOwner} by bandwidth (hash owner ${hashedOwner})`,
  };
}

/** One string per eligible count (a decision per VIP keeps it: 10,000 copies otherwise). */
const hashedReasons: string[] = [];
function hashedReason(count: number): string {
  let reason = hashedReasons[count];
  if (reason === undefined) {
    reason = `first of ${count} eligible nodes by rendezvous hash of the IP`;
    if (count < 1024) hashedReasons[count] = reason;
  }
  return reason;
}

/** Why `node` may not answer `vip`, as a clause naming the node; undefined when it may. */
function ineligibility(vip: L2VipInput, node: L2NodeInput): string | undefined {
  const failed = vip.unhealthy?.get(node.name);
  const why = !node.alive
    ? 'not alive in gossip'
    : node.excluded
      ? 'excluded from external load balancers'
      : !vip.advertisements.some((ad) => !ad.nodes || ad.nodes.has(node.name))
        ? 'not selected by any L2Advertisement'
        : vip.externalTrafficPolicy === 'Local' && !hasReadyEndpoint(vip.readyNodes, node.name)
          ? 'no ready endpoint (externalTrafficPolicy Local)'
          : undefined;
  if (why) return `${node.name}: ${why}`;
  return failed === undefined ? undefined : `health check failed on ${node.name}: ${failed}`;
}

/** This node's XDP program state for one VIP. */
export type NodeVipAction =
  { action: 'answer'; buckets: bigint; interfaces: string[] } | { action: 'suppress' };

/**
 * The entries `node` must hold in its XDP VIP map: answer for the VIPs (or buckets) it owns, suppress for
 * every other VIP so neither the kernel nor a stale entry answers.
 */
export function nodeActions(decisions: readonly VipDecision[], node: string): Map<string, NodeVipAction> {
  const actions = new Map<string, NodeVipAction>();
  for (const d of decisions) {
    const buckets = d.shares.get(node);
    actions.set(
      d.ip,
      buckets !== undefined && buckets !== 0n
        ? { action: 'answer', buckets, interfaces: d.interfaces.get(node) ?? [] }
        : SUPPRESS,
    );
  }
  return actions;
}

/** Every suppress action is this object (actions are never changed): no allocation per VIP and round. */
export const SUPPRESS: NodeVipAction = Object.freeze({ action: 'suppress' });
