import {
  formatIp,
  parseAddressRange,
  parseIp,
  rangeToCidrs,
  rangesOverlap,
  type AddressRange,
} from './addresses.js';
import { WELL_KNOWN_COMMUNITIES, looksLikeCommunityValue } from './community.js';
import { parseDuration } from './duration.js';
import { serviceHealthCheck } from './health-check.js';
import { poolRanges, selectedPoolNames } from './pools.js';
import { ENDPOINTSLICE_SERVICE_LABEL } from './schemas.js';
import { isHeraldService, serviceKey, serviceRequest } from './service.js';
import type {
  BGPAdvertisement,
  EndpointSlice,
  HeraldModel,
  IPAddressPool,
  Problem,
  Service,
} from './types.js';
import { suggestion } from './did-you-mean.js';

/** Where an object came from: file (or `Kind/name` for API objects), 1-based document, path prefix. */
export interface ObjectLocation {
  file: string;
  doc: number;
  path: string;
}

export type Obj = { kind?: string; metadata: { name: string; namespace?: string } };
export type Locate = (obj: object) => ObjectLocation | undefined;

/** Reports a problem of an object into `problems`, at the path where the object was read from. */
export function problemsAt(problems: Problem[], locate: Locate): At {
  return (obj, path, message) => {
    const loc = locate(obj) ?? { file: `${obj.kind ?? 'object'}/${obj.metadata.name}`, doc: 0, path: '' };
    const full = !loc.path ? path : !path ? loc.path : `${loc.path}.${path}`;
    problems.push({ file: loc.file, doc: loc.doc, path: full, message });
  };
}

/**
 * Cross-object checks on a model whose objects each passed their schema: duplicate names, overlapping
 * pools, references to unknown pools/peers/BFD profiles/community aliases, BGP timer rules, aggregation
 * lengths, Service requests. Pure; `locate` maps an object to where it was read from.
 */
export function validateModel(model: HeraldModel, locate: Locate = () => undefined): Problem[] {
  const problems: Problem[] = [];
  const at = problemsAt(problems, locate);
  const where = (obj: Obj): string => {
    const loc = locate(obj);
    return loc ? ` (${loc.file}:${loc.doc})` : '';
  };

  const herald: Array<[string, Obj[]]> = [
    ['IPAddressPool', model.pools],
    ['L2Advertisement', model.l2Advertisements],
    ['BGPAdvertisement', model.bgpAdvertisements],
    ['BGPPeer', model.bgpPeers],
    ['BFDProfile', model.bfdProfiles],
    ['Community', model.communities],
  ];
  for (const [kind, list] of herald) duplicates(list, (o) => o.metadata.name, kind, at, where);
  duplicates(model.services, serviceKey, 'Service', at, where);
  duplicates(model.nodes, (o) => o.metadata.name, 'Node', at, where);

  checkPools(model.pools, at, where);
  const poolNames = new Set(model.pools.map((p) => p.metadata.name));
  const aliases = checkCommunities(model, at);
  const peerNames = new Set(model.bgpPeers.map((p) => p.metadata.name));
  for (const adv of [...model.l2Advertisements, ...model.bgpAdvertisements]) {
    (adv.spec.ipAddressPools ?? []).forEach((name, i) => {
      if (!poolNames.has(name))
        at(adv, `spec.ipAddressPools[${i}]`, `unknown IPAddressPool "${name}"${suggestion(name, poolNames)}`);
    });
  }
  for (const adv of model.bgpAdvertisements) checkBgpAdvertisement(adv, model.pools, aliases, peerNames, at);
  checkPeers(model, at, where);
  checkServices(model, poolNames, at);
  checkEndpointSlices(model, at);
  return problems;
}

export type At = (obj: Obj, path: string, message: string) => void;
type Where = (obj: Obj) => string;

function duplicates<T extends Obj>(
  list: readonly T[],
  key: (o: T) => string,
  kind: string,
  at: At,
  where: Where,
): void {
  const seen = new Map<string, T>();
  for (const o of list) {
    const k = key(o);
    const first = seen.get(k);
    if (first) at(o, 'metadata.name', `duplicate ${kind} "${k}", first defined${where(first)}`);
    else seen.set(k, o);
  }
}

function checkPools(pools: readonly IPAddressPool[], at: At, where: Where): void {
  const all: Array<{ pool: IPAddressPool; index: number; range: AddressRange }> = [];
  for (const pool of pools) {
    pool.spec.addresses.forEach((text, index) => {
      const range = parseAddressRange(text);
      if (typeof range !== 'string') all.push({ pool, index, range });
    });
  }
  all.sort(
    (a, b) =>
      a.range.family - b.range.family ||
      (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0),
  );
  let widest: (typeof all)[number] | undefined;
  for (const cur of all) {
    if (widest && rangesOverlap(widest.range, cur.range)) {
      const other =
        widest.pool === cur.pool
          ? `another entry of this pool`
          : `pool "${widest.pool.metadata.name}"${where(widest.pool)}`;
      at(
        cur.pool,
        `spec.addresses[${cur.index}]`,
        `${cur.range.text} overlaps ${widest.range.text} of ${other}`,
      );
    }
    if (!widest || widest.range.family !== cur.range.family || cur.range.end > widest.range.end) widest = cur;
  }
}

function checkCommunities(model: HeraldModel, at: At): Set<string> {
  const aliases = new Set(Object.keys(WELL_KNOWN_COMMUNITIES));
  const defined = new Set<string>();
  for (const c of model.communities) {
    c.spec.communities.forEach((a, i) => {
      if (defined.has(a.name))
        at(c, `spec.communities[${i}].name`, `community alias "${a.name}" is defined twice`);
      if (looksLikeCommunityValue(a.name))
        at(c, `spec.communities[${i}].name`, 'an alias name may not contain ":"');
      defined.add(a.name);
      aliases.add(a.name);
    });
  }
  return aliases;
}

function checkBgpAdvertisement(
  adv: BGPAdvertisement,
  pools: readonly IPAddressPool[],
  aliases: ReadonlySet<string>,
  peers: ReadonlySet<string>,
  at: At,
): void {
  (adv.spec.communities ?? []).forEach((c, i) => {
    if (!looksLikeCommunityValue(c) && !aliases.has(c)) {
      at(
        adv,
        `spec.communities[${i}]`,
        `"${c}" is neither a community value nor an alias defined in a Community object`,
      );
    }
  });
  (adv.spec.peers ?? []).forEach((p, i) => {
    if (!peers.has(p)) at(adv, `spec.peers[${i}]`, `unknown BGPPeer "${p}"${suggestion(p, peers)}`);
  });
  const selected = new Set(selectedPoolNames(adv.spec, pools));
  for (const pool of pools) {
    if (!selected.has(pool.metadata.name)) continue;
    for (const r of poolRanges(pool)) {
      const agg = r.family === 4 ? adv.spec.aggregationLength : adv.spec.aggregationLengthV6;
      if (agg === undefined) continue;
      const most = Math.max(...rangeToCidrs(r).map((c) => c.prefix));
      if (agg < most) {
        const field = r.family === 4 ? 'spec.aggregationLength' : 'spec.aggregationLengthV6';
        at(
          adv,
          field,
          `aggregation length ${agg} would announce addresses outside pool "${pool.metadata.name}" (${r.text} needs at least /${most})`,
        );
      }
    }
  }
}

function checkPeers(model: HeraldModel, at: At, where: Where): void {
  const bfd = new Set(model.bfdProfiles.map((b) => b.metadata.name));
  const seen = new Map<string, (typeof model.bgpPeers)[number]>();
  for (const peer of model.bgpPeers) {
    const s = peer.spec;
    if (s.peerASN === undefined && s.dynamicASN === undefined)
      at(peer, 'spec.peerASN', 'required (or set dynamicASN)');
    if (s.peerASN !== undefined && s.dynamicASN !== undefined) {
      at(peer, 'spec.dynamicASN', 'set either peerASN or dynamicASN, not both');
    }
    const hold = s.holdTime === undefined ? undefined : parseDuration(s.holdTime);
    const keep = s.keepaliveTime === undefined ? undefined : parseDuration(s.keepaliveTime);
    const holdOk = s.holdTime === undefined || hold !== undefined;
    if (hold !== undefined && hold !== 0 && hold < 3000) {
      at(
        peer,
        'spec.holdTime',
        `hold time ${s.holdTime} is below 3s; use 0 (no keepalives) or at least 3s (RFC 4271)`,
      );
    }
    if (keep !== undefined && holdOk) {
      const effHold = hold ?? 90_000;
      if (effHold !== 0 && keep >= effHold) {
        at(
          peer,
          'spec.keepaliveTime',
          `keepalive time ${s.keepaliveTime} must be lower than the hold time (${s.holdTime ?? '90s'})`,
        );
      }
      if (effHold === 0 && keep !== 0)
        at(peer, 'spec.keepaliveTime', 'hold time 0 disables keepalives; remove keepaliveTime');
    }
    if (s.password !== undefined && s.passwordSecret !== undefined) {
      at(peer, 'spec.passwordSecret', 'set either password or passwordSecret, not both');
    }
    if (s.bfdProfile !== undefined && !bfd.has(s.bfdProfile))
      at(peer, 'spec.bfdProfile', `unknown BFDProfile "${s.bfdProfile}"${suggestion(s.bfdProfile, bfd)}`);
    const pa = parseIp(s.peerAddress);
    const sa = s.sourceAddress === undefined ? undefined : parseIp(s.sourceAddress);
    if (pa && sa && pa.family !== sa.family) {
      at(
        peer,
        'spec.sourceAddress',
        `source address ${s.sourceAddress} is not the same family as peerAddress ${s.peerAddress}`,
      );
    }
    if (pa && !(s.nodeSelectors?.length ?? 0)) {
      const key = `${formatIp(pa.family, pa.value)}|${s.peerPort ?? 179}|${s.vrf ?? ''}`;
      const first = seen.get(key);
      if (first) {
        at(
          peer,
          'spec.peerAddress',
          `peer ${s.peerAddress} is already defined by BGPPeer "${first.metadata.name}"${where(first)}`,
        );
      } else seen.set(key, peer);
    }
  }
}

function checkServices(model: HeraldModel, poolNames: ReadonlySet<string>, at: At): void {
  const poolOf = poolLookup(model.pools);
  for (const svc of model.services) checkService(svc, poolNames, poolOf, at);
}

/** The pool holding an address, if any. */
export type PoolOf = (family: 4 | 6, value: bigint) => string | undefined;

export function poolLookup(pools: readonly IPAddressPool[]): PoolOf {
  const ranges = pools.map((p) => ({ name: p.metadata.name, ranges: poolRanges(p) }));
  return (family, value) =>
    ranges.find((p) => p.ranges.some((r) => r.family === family && r.start <= value && value <= r.end))?.name;
}

/** One Service's own checks against the pools: its request, health check and requested addresses. */
export function checkService(svc: Service, poolNames: ReadonlySet<string>, poolOf: PoolOf, at: At): void {
  if (!isHeraldService(svc)) return;
  const req = serviceRequest(svc);
  for (const p of req.problems) at(svc, p.path, p.message);
  for (const p of serviceHealthCheck(svc).problems) at(svc, p.path, p.message);
  if (req.requestedPool && !poolNames.has(req.requestedPool)) {
    at(
      svc,
      'metadata.annotations',
      `unknown IPAddressPool "${req.requestedPool}" requested${suggestion(req.requestedPool, poolNames)}`,
    );
  }
  const owners = new Set<string>();
  for (const r of req.requestedIps) {
    const owner = poolOf(r.family, r.value);
    if (!owner) at(svc, 'spec', `requested ${r.ip} is not in any IPAddressPool`);
    else if (req.requestedPool && owner !== req.requestedPool && poolNames.has(req.requestedPool)) {
      at(
        svc,
        'spec',
        `requested ${r.ip} is in pool "${owner}", not in the requested pool "${req.requestedPool}"`,
      );
    } else owners.add(owner);
  }
  if (owners.size > 1)
    at(svc, 'spec', `requested addresses come from different pools (${[...owners].join(', ')})`);
  if (req.familyPolicy === 'RequireDualStack' && req.families.length === 1) {
    at(svc, 'spec.ipFamilies', 'RequireDualStack needs both IPv4 and IPv6 (or leave ipFamilies unset)');
  }
}

function checkEndpointSlices(model: HeraldModel, at: At): void {
  const services = new Set(model.services.map(serviceKey));
  const nodes = new Set(model.nodes.map((n) => n.metadata.name));
  const hasServices = model.services.length > 0;
  for (const es of model.endpointSlices)
    checkEndpointSlice(es, hasServices ? services : undefined, nodes, at);
}

/** The Service key an EndpointSlice names (its label; `namespace/` when the label is missing). */
export const sliceKeyOf = (es: EndpointSlice): string =>
  `${es.metadata.namespace ?? 'default'}/${es.metadata.labels?.[ENDPOINTSLICE_SERVICE_LABEL] ?? ''}`;

/** One EndpointSlice against the Services (undefined: the file has none, slices stand alone) and Nodes. */
export function checkEndpointSlice(
  es: EndpointSlice,
  services: { has(key: string): boolean } | undefined,
  nodes: ReadonlySet<string>,
  at: At,
): void {
  const key = sliceKeyOf(es);
  if (services && !services.has(key)) {
    at(es, `metadata.labels["${ENDPOINTSLICE_SERVICE_LABEL}"]`, `no Service ${key} in this configuration`);
  }
  if (nodes.size === 0) return;
  (es.endpoints ?? []).forEach((ep, i) => {
    if (ep.nodeName !== undefined && !nodes.has(ep.nodeName)) {
      at(es, `endpoints[${i}].nodeName`, `unknown Node "${ep.nodeName}"`);
    }
  });
}
