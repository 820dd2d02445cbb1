import {
  canonicalIp,
  type EndpointSlice,
  type HeraldModel,
  isHeraldService,
  type L2Advertisement,
  matchesAnySelector,
  selectedPoolNames,
  type Service,
  serviceHealthCheck,
  serviceKey,
} from '../config/index.js';
import { unhealthyNodes } from '../health/gossip.js';
import type { L2AdvertisementView, L2NodeInput, L2VipInput } from '../l2/desired.js';
import {
  type EndpointSemantics,
  mergeReadyNodes,
  type ReadyNodes,
  readyNodesOf,
  readyNodesOfSlices,
  sliceServiceKey,
} from '../l2/endpoints.js';
import type { Member } from '../membership/types.js';
import { decodeNodeMeta, type NodeMeta } from './node-meta.js';

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** A gossip member as the L2 decision needs it. */
export interface MemberView {
  name: string;
  /** alive or suspect (a suspect is not a failure yet). */
  alive: boolean;
  meta?: NodeMeta;
}

export interface ServiceAllocation {
  ips: string[];
  pool: string;
}

/**
 * Turns the configuration model, the allocations and the gossip view into the inputs of the pure L2
 * decision: one entry per VIP (services sharing an IP merged) and one per known node.
 */
export function buildL2Inputs(
  model: HeraldModel,
  allocations: ReadonlyMap<string, ServiceAllocation>,
  members: readonly MemberView[],
  /** The VIP groups, when the caller already has them (the speaker also needs them for BGP). */
  groups: readonly VipGroup[] = groupVips(model, allocations),
  /** Owners from the newest bandwidth placement map (IP → node). */
  placed: ReadonlyMap<string, string> = new Map(),
): { vips: L2VipInput[]; nodes: L2NodeInput[] } {
  const context = l2Context(model, members);
  return { vips: groups.map((v) => vipInput(v, context, placed)), nodes: context.nodes };
}

/** What every VIP's decision reads besides its own group: the nodes and each pool's advertisements. */
export interface L2Context {
  nodes: L2NodeInput[];
  viewsByPool: ReadonlyMap<string, readonly L2AdvertisementView[]>;
}

export function l2Context(model: HeraldModel, members: readonly MemberView[]): L2Context {
  const nodeObjects = new Map(model.nodes.map((n) => [n.metadata.name, n]));
  const labelsOf = (m: MemberView) => nodeLabels(model, m.name, m.meta?.labels);
  const nodes: L2NodeInput[] = members.map((m) => ({
    name: m.name,
    alive: m.alive && m.meta !== undefined,
    excluded: isExcluded(labelsOf(m), nodeObjects.get(m.name)?.status),
    interfaces: m.meta?.interfaces ?? [],
  }));

  const views = new Map<L2Advertisement, L2AdvertisementView>();
  const viewOf = (ad: L2Advertisement) => {
    const view = views.get(ad) ?? l2View(ad, members, labelsOf);
    views.set(ad, view);
    return view;
  };
  const viewsByPool = new Map(
    [...l2AdvertisementsByPool(model)].map(([pool, ads]) => [pool, ads.map(viewOf)]),
  );
  return { nodes, viewsByPool };
}

/** One VIP's decision input: its group with its pool's advertisements and its placed owner. */
export function vipInput(v: VipGroup, context: L2Context, placed: ReadonlyMap<string, string>): L2VipInput {
  return {
    ip: v.ip,
    services: v.services,
    externalTrafficPolicy: v.externalTrafficPolicy,
    readyNodes: v.readyNodes,
    unhealthy: v.unhealthy,
    advertisements: context.viewsByPool.get(v.pool) ?? [],
    ...(placed.has(v.ip) ? { placedOwner: placed.get(v.ip) as string } : {}),
  };
}

/** The L2Advertisements selecting each pool, in configuration order. */
export function l2AdvertisementsByPool(model: HeraldModel): Map<string, L2Advertisement[]> {
  const out = new Map<string, L2Advertisement[]>();
  for (const ad of model.l2Advertisements) {
    for (const pool of selectedPoolNames(ad.spec, model.pools)) out.set(pool, [...(out.get(pool) ?? []), ad]);
  }
  return out;
}

function l2View(
  ad: L2Advertisement,
  members: readonly MemberView[],
  labelsOf: (m: MemberView) => Record<string, string>,
): L2AdvertisementView {
  const selectors = ad.spec.nodeSelectors ?? [];
  return {
    name: ad.metadata.name,
    ...(selectors.length > 0
      ? {
          nodes: new Set(
            members.filter((m) => matchesAnySelector(selectors, labelsOf(m))).map((m) => m.name),
          ),
        }
      : {}),
    interfaces: ad.spec.interfaces ?? [],
    spread: ad.spec.spread?.enabled ?? false,
    ...(ad.spec.placement ? { placement: ad.spec.placement.by } : {}),
    flows: ad.spec.spread?.by === 'flows',
  };
}

/** One allocated IP with everything that shares it. */
export interface VipGroup {
  ip: string;
  pool: string;
  /** `namespace/name`, sorted. */
  services: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Nodes with a ready endpoint of any of the services ('undeclared': no EndpointSlice, standalone). */
  readyNodes: ReadyNodes;
  /** Nodes failing the health check of one of the services (from their gossiped metadata), with why. */
  unhealthy: ReadonlyMap<string, string>;
}

/**
 * Allocated IPs of the services Herald handles, services sharing an IP merged, sorted by IP. Standalone
 * allocation reads a missing EndpointSlice as "every node serves"; Kubernetes mode as "no endpoint".
 */
export function groupVips(
  model: HeraldModel,
  allocations: ReadonlyMap<string, ServiceAllocation>,
  members: readonly MemberView[] = [],
  semantics: EndpointSemantics = 'kubernetes',
): VipGroup[] {
  const index = vipIndex(model, allocations);
  const failing = failingByNode(members);
  return index.ips.map((ip) => groupOf(ip, index, failing, semantics));
}

/** The services of one allocated IP (in configuration order) and the pool of the first. */
export interface IpServices {
  services: Service[];
  pool: string;
}

/** What the groups are made of, indexed in one pass over the services and one over the slices. */
export interface VipIndex {
  /** Allocated IPs (canonical text), sorted. */
  ips: string[];
  byIp: ReadonlyMap<string, IpServices>;
  /** Every EndpointSlice of each service key, in configuration order. */
  slicesByKey: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Keys of the services with a health check. */
  checked: ReadonlySet<string>;
}

export function vipIndex(
  model: HeraldModel,
  allocations: ReadonlyMap<string, ServiceAllocation>,
  canonical: (text: string) => string = (text) => canonicalIp(text) ?? text,
): VipIndex {
  const checked = new Set<string>();
  const byIp = new Map<string, IpServices>();
  for (const svc of model.services) {
    if (serviceHealthCheck(svc).check !== undefined) checked.add(serviceKey(svc));
    if (!isHeraldService(svc)) continue;
    const alloc = allocations.get(serviceKey(svc));
    if (!alloc) continue;
    for (const text of alloc.ips) {
      // One spelling per address: the XDP map (and a restarted speaker reading it) uses canonical text.
      const ip = canonical(text);
      const entry = byIp.get(ip);
      if (entry) entry.services.push(svc);
      else byIp.set(ip, { services: [svc], pool: alloc.pool });
    }
  }
  const slicesByKey = new Map<string, EndpointSlice[]>();
  for (const slice of model.endpointSlices) {
    const key = sliceServiceKey(slice);
    if (key === undefined) continue;
    const list = slicesByKey.get(key);
    if (list) list.push(slice);
    else slicesByKey.set(key, [slice]);
  }
  return { ips: [...byIp.keys()].sort((a, b) => (a < b ? -1 : 1)), byIp, slicesByKey, checked };
}

/** Who gossips failing health checks, and which. */
export function failingByNode(members: readonly MemberView[]): Map<string, Readonly<Record<string, string>>> {
  return new Map(members.filter((m) => m.meta?.failing).map((m) => [m.name, m.meta?.failing ?? {}]));
}

const NO_SLICES: ReadonlyMap<string, ReadonlySet<string>> = new Map();

export function groupOf(
  ip: string,
  index: VipIndex,
  failing: ReadonlyMap<string, Readonly<Record<string, string>>>,
  semantics: EndpointSemantics,
): VipGroup {
  const { services, pool } = index.byIp.get(ip) ?? { services: [], pool: '' };
  const keys = services.map(serviceKey).sort();
  const ready = keys.map((k): ReadyNodes => {
    const slices = index.slicesByKey.get(k);
    return slices ? readyNodesOfSlices(slices) : readyNodesOf(NO_SLICES, k, semantics);
  });
  return {
    ip,
    pool,
    services: keys,
    externalTrafficPolicy: services.some((s) => s.spec.externalTrafficPolicy === 'Local')
      ? 'Local'
      : 'Cluster',
    readyNodes: mergeReadyNodes(ready),
    unhealthy: unhealthyNodes(keys, index.checked, failing),
  };
}

/** Node labels as the selectors see them: the Node object's, else the gossiped ones, plus the hostname. */
export function nodeLabels(
  model: HeraldModel,
  name: string,
  gossiped: Record<string, string> = {},
): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    ...gossiped,
    ...(model.nodes.find((n) => n.metadata.name === name)?.metadata.labels ?? {}),
  };
}

export function isExcluded(labels: Record<string, string>, status: unknown): boolean {
  if (EXCLUDE_LABEL in labels) return true;
  const conditions = (status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)
    ?.conditions;
  return (conditions ?? []).some((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
}

/** The gossip members as the decisions see them, each one's metadata decoded once. */
export function memberViews(members: readonly Member[]): MemberView[] {
  return members.map((m) => {
    const meta = decodeNodeMeta(m.meta);
    return { name: m.name, alive: m.state === 'alive' || m.state === 'suspect', ...(meta ? { meta } : {}) };
  });
}
