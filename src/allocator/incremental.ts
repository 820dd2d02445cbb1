import { isHeraldService, serviceRequest, type ServiceRequest } from '../config/service.js';
import type { HeraldModel, Service } from '../config/types.js';
import { allocateAll } from './allocate-all.js';
import { Allocator, ingressIps, isAllocated, type Allocation } from './allocator.js';
import { sameItems } from '../util/arrays.js';
import { modelChange, type ModelChange } from '../config/model-change.js';
import { recordMapChange } from '../util/map-change.js';

/** What the last run allocated from, indexed for the next one. */
interface Last {
  model: HeraldModel;
  /** The first Herald service of each key, as allocateAll counts them. */
  services: Map<string, Service>;
  result: Map<string, Allocation>;
  /** Address (canonical text) → the key holding it in `result`. */
  holder: Map<string, string>;
  /** Address → how many services request it. */
  requested: Map<string, number>;
  /** Services without a requested address (they take the lowest free one). */
  automatic: number;
  /** Services showing addresses in status.loadBalancer.ingress (claimed before anything else). */
  claiming: number;
}

export interface IncrementalStats {
  full: number;
  incremental: number;
}

/**
 * allocateAll (no previous allocations) for a model that changes a little at a time, with the same entries
 * (keys added by a change come last, not in order); a result made from the previous one records which
 * keys changed (util/map-change.ts).
 * A reload keeps the objects of unchanged documents, so the services that changed are found by identity.
 * When every one of them (old and new version) only requests specific addresses, shares none, claims
 * none, and the addresses they take or free are nobody else's business — no other service requests them,
 * none is held by another, and nothing is allocated automatically when addresses are freed — the other
 * services' allocations cannot change (requested addresses are free at their turn, and the lowest-free
 * picks never saw them free), and the changed ones get what they would get on an empty allocator. Any
 * other change allocates everything again. Property-tested against allocateAll.
 */
export class IncrementalAllocator {
  readonly stats: IncrementalStats = { full: 0, incremental: 0 };
  private last: Last | undefined;

  allocate(model: HeraldModel): Map<string, Allocation> {
    const last = this.last;
    const change = last && modelChange(last.model, model);
    const delta = last && ((change && fromChange(last, change)) || fromWalk(last, walked(model)));
    const result = last && delta ? incremental(last, model, delta) : undefined;
    if (result) {
      this.stats.incremental++;
      return result;
    }
    this.stats.full++;
    const full = allocateAll(model);
    const services = walked(model);
    this.last = services ? indexed(model, services, full) : undefined;
    return full;
  }
}

/** The services that changed since `last`: the new version of those added or changed, or every service. */
interface Delta {
  gone: string[];
  added: string[];
  changed: string[];
  /** The first Herald service of each added or changed key (and maybe of others). */
  now: ReadonlyMap<string, Service>;
  /** Every Herald service after the change, when known (a walk); else `last.services` is updated. */
  services?: Map<string, Service>;
}

/** Every Herald service by key (undefined when a key repeats: allocateAll counts the first only). */
function walked(model: HeraldModel): Map<string, Service> | undefined {
  const services = new Map<string, Service>();
  for (const svc of model.services) {
    if (!isHeraldService(svc)) continue;
    const key = serviceRequest(svc).key;
    if (services.has(key)) return undefined;
    services.set(key, svc);
  }
  return services;
}

/** The delta found by comparing every service with the last run's, by identity. */
function fromWalk(last: Last, services: Map<string, Service> | undefined): Delta | undefined {
  if (!services) return undefined;
  const gone: string[] = [];
  const added: string[] = [];
  const changed: string[] = [];
  for (const [key, svc] of services) {
    const before = last.services.get(key);
    if (before === undefined) added.push(key);
    else if (before !== svc) changed.push(key);
  }
  if (services.size - added.length !== last.services.size) {
    for (const key of last.services.keys()) if (!services.has(key)) gone.push(key);
  }
  return { gone, added, changed, now: services, services };
}

/**
 * The delta of a recorded change (config/model-change.ts), without a walk over every service; undefined
 * when it is not exact: pools or namespaces changed, or a key is held twice.
 */
function fromChange(last: Last, change: ModelChange): Delta | undefined {
  if (change.added.pools.length + change.removed.pools.length > 0) return undefined;
  if (change.added.namespaces.length + change.removed.namespaces.length > 0) return undefined;
  const removed = new Map<string, Service>();
  for (const svc of change.removed.services) {
    if (!isHeraldService(svc)) continue;
    const key = serviceRequest(svc).key;
    if (last.services.get(key) !== svc) return undefined;
    removed.set(key, svc);
  }
  const added = new Map<string, Service>();
  for (const svc of change.added.services) {
    if (!isHeraldService(svc)) continue;
    const key = serviceRequest(svc).key;
    if (added.has(key) || (last.services.has(key) && !removed.has(key))) return undefined;
    added.set(key, svc);
  }
  return {
    gone: [...removed.keys()].filter((key) => !added.has(key)),
    added: [...added.keys()].filter((key) => !removed.has(key)),
    changed: [...added.keys()].filter((key) => removed.has(key)),
    now: added,
  };
}

/** Only specific addresses, no sharing, no claims: its allocation reads nothing of the others but them. */
const local = (svc: Service, req: ServiceRequest): boolean =>
  req.requestedIps.length > 0 && req.sharingKey === undefined && ingressIps(svc).length === 0;

function incremental(last: Last, model: HeraldModel, delta: Delta): Map<string, Allocation> | undefined {
  if (!sameItems(last.model.pools, model.pools) || !sameItems(last.model.namespaces, model.namespaces))
    return undefined;
  if (last.claiming > 0) return undefined;
  const { gone, added, changed, now } = delta;
  const olds = [...gone, ...changed].map((k) => last.services.get(k)!);
  const news = [...added, ...changed].map((k) => now.get(k)!);
  if (![...olds, ...news].every((svc) => local(svc, serviceRequest(svc)))) return undefined;

  const requested = new Map<string, number>();
  const count = (ip: string) => requested.get(ip) ?? last.requested.get(ip) ?? 0;
  for (const svc of olds)
    for (const r of serviceRequest(svc).requestedIps) requested.set(r.ip, count(r.ip) - 1);
  for (const svc of news)
    for (const r of serviceRequest(svc).requestedIps) requested.set(r.ip, count(r.ip) + 1);
  const leaving = new Set([...gone, ...changed]);
  for (const svc of news) {
    for (const r of serviceRequest(svc).requestedIps) {
      const holder = last.holder.get(r.ip);
      if (count(r.ip) !== 1 || (holder !== undefined && !leaving.has(holder))) return undefined;
    }
  }

  const allocator = new Allocator({ pools: model.pools, namespaces: model.namespaces });
  const fresh = new Map<string, Allocation>();
  for (const svc of news) {
    const req = serviceRequest(svc);
    fresh.set(req.key, allocator.assignRequest(req, []));
    allocator.release(req.key);
  }
  const taken = new Set([...fresh.values()].flatMap((a) => (isAllocated(a) ? a.ips : [])));
  const freed = [...leaving].flatMap((key) => {
    const had = last.result.get(key);
    return isAllocated(had) ? had.ips.filter((ip) => !taken.has(ip)) : [];
  });
  // A freed address may be what an automatic service picks, or what another service asked for in vain.
  if (freed.length > 0 && (last.automatic > 0 || freed.some((ip) => count(ip) > 0))) return undefined;

  // The entries of allocateAll's result; keys added since the full run come last instead of in order.
  const result = new Map(last.result);
  for (const key of gone) result.delete(key);
  for (const [key, a] of fresh) result.set(key, a);
  recordMapChange(last.result, result, new Set([...gone, ...fresh.keys()]));
  const holder = last.holder;
  for (const key of leaving) {
    const had = last.result.get(key);
    if (isAllocated(had)) for (const ip of had.ips) if (holder.get(ip) === key) holder.delete(ip);
  }
  for (const [key, a] of fresh) if (isAllocated(a)) for (const ip of a.ips) holder.set(ip, key);
  for (const [ip, n] of requested) {
    if (n > 0) last.requested.set(ip, n);
    else last.requested.delete(ip);
  }
  if (delta.services) last.services = delta.services;
  else {
    for (const key of gone) last.services.delete(key);
    for (const key of [...added, ...changed]) last.services.set(key, now.get(key)!);
  }
  Object.assign(last, { model, result });
  return result;
}

function indexed(model: HeraldModel, services: Map<string, Service>, result: Map<string, Allocation>): Last {
  const holder = new Map<string, string>();
  for (const [key, a] of result) if (isAllocated(a)) for (const ip of a.ips) holder.set(ip, key);
  const requested = new Map<string, number>();
  let automatic = 0;
  let claiming = 0;
  for (const svc of services.values()) {
    const req = serviceRequest(svc);
    if (req.requestedIps.length === 0) automatic++;
    for (const r of req.requestedIps) requested.set(r.ip, (requested.get(r.ip) ?? 0) + 1);
    if (ingressIps(svc).length > 0) claiming++;
  }
  return { model, services, result, holder, requested, automatic, claiming };
}
