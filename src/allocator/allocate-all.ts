import { isHeraldService, serviceKey, serviceRequest } from '../config/service.js';
import type { HeraldModel, Service } from '../config/types.js';
import { Allocator, ingressIps, isAllocated, type Allocation } from './allocator.js';

/** What a service had before: an earlier result of `allocateAll`, or plain address lists, by `namespace/name`. */
export type PreviousAllocations = ReadonlyMap<string, Allocation | readonly string[]>;

const previousIps = (prev: Allocation | readonly string[] | undefined): readonly string[] => {
  if (prev === undefined) return [];
  if (isAllocated(prev as Allocation)) return (prev as { ips: string[] }).ips;
  return 'error' in prev ? [] : (prev as readonly string[]);
};

/**
 * Pure and deterministic: the same model (and previous allocations) gives the same result on every node.
 *
 * Order: (1) every service re-claims what it had (from `previous`, else its `status.loadBalancer.ingress`)
 * where still valid, in key order; (2) services requesting specific addresses, in key order; (3) the rest,
 * in key order. Services Herald does not handle (other `loadBalancerClass`, not `LoadBalancer`) are absent
 * from the result.
 */
export function allocateAll(model: HeraldModel, previous?: PreviousAllocations): Map<string, Allocation> {
  const alloc = new Allocator({ pools: model.pools, namespaces: model.namespaces });
  const services = model.services.filter(isHeraldService).sort((a, b) => cmp(serviceKey(a), serviceKey(b)));
  const seen = new Set<string>();
  const unique: Service[] = [];
  for (const s of services) {
    const k = serviceKey(s);
    if (!seen.has(k)) unique.push(s);
    seen.add(k);
  }
  const prevOf = (s: Service): readonly string[] =>
    previous ? previousIps(previous.get(serviceKey(s))) : ingressIps(s);
  for (const s of unique) {
    const prev = prevOf(s);
    if (prev.length > 0) alloc.claim(s, prev);
  }
  const result = new Map<string, Allocation>();
  const requested = unique.filter((s) => serviceRequest(s).requestedIps.length > 0);
  const others = unique.filter((s) => serviceRequest(s).requestedIps.length === 0);
  for (const s of [...requested, ...others])
    result.set(serviceKey(s), alloc.assign(s, { previous: prevOf(s) }));
  return new Map([...result.entries()].sort(([a], [b]) => cmp(a, b)));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
