import {
  canonicalIp,
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
  readyNodesByService,
  readyNodesOf,
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

  const vips: L2VipInput[] = groups.map((v) => ({
    ip: v.ip,
    services: v.services,
    externalTrafficPolicy: v.externalTrafficPolicy,
    readyNodes: v.readyNodes,
    unhealthy: v.unhealthy,
    advertisements: viewsByPool.get(v.pool) ?? [],
    ...(placed.has(v.ip) ? { placedOwner: placed.get(v.ip) as string } : {}),
  }));
  return { vips, nodes };
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
  const { ips, group } = vipGrouping(model, allocations, members, semantics);
  return ips.map(group);
}

/**
 * groupVips in two steps, so a caller can build the groups in slices (util/slices): the sorted IPs
 * (one pass over the services) and the group of each IP.
 */
export function vipGrouping(
  model: HeraldModel,
  allocations: ReadonlyMap<string, ServiceAllocation>,
  members: readonly MemberView[] = [],
  semantics: EndpointSemantics = 'kubernetes',
): { ips: string[]; group: (ip: string) => VipGroup } {
  const readyBySvc = readyNodesByService(model.endpointSlices);
  const checked = new Set(
    model.services.filter((s) => serviceHealthCheck(s).check !== undefined).map(serviceKey),
  );
  const failingByNode = new Map(
    members.filter((m) => m.meta?.failing).map((m) => [m.name, m.meta?.failing ?? {}]),
  );
  const byIp = new Map<string, { services: Service[]; pool: string }>();
  for (const svc of model.services) {
    if (!isHeraldService(svc)) continue;
    const alloc = allocations.get(serviceKey(svc));
    if (!alloc) continue;
    for (const text of alloc.ips) {
      // One spelling per address: the XDP map (and a restarted speaker reading it) uses canonical text.
      const ip = canonicalIp(text) ?? text;
      const entry = byIp.get(ip) ?? { services: [], pool: alloc.pool };
      entry.services.push(svc);
      byIp.set(ip, entry);
    }
  }
  const group = (ip: string): VipGroup => {
    const { services, pool } = byIp.get(ip) ?? { services: [], pool: '' };
    const keys = services.map(serviceKey).sort();
    return {
      ip,
      pool,
      services: keys,
      externalTrafficPolicy: services.some((s) => s.spec.externalTrafficPolicy === 'Local')
        ? 'Local'
        : 'Cluster',
      readyNodes: mergeReadyNodes(keys.map((k) => readyNodesOf(readyBySvc, k, semantics))),
      unhealthy: unhealthyNodes(keys, checked, failingByNode),
    };
  };
  return { ips: [...byIp.keys()].sort((a, b) => (a < b ? -1 : 1)), group };
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
