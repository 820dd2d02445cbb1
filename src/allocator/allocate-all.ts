import { isHeraldService, serviceRequest, type ServiceRequest } from '../config/service.js';
import type { HeraldModel } from '../config/types.js';
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
  const seen = new Set<string>();
  const list: Array<{ req: ServiceRequest; prev: readonly string[] }> = [];
  for (const s of model.services) {
    if (!isHeraldService(s)) continue;
    const req = serviceRequest(s);
    if (seen.has(req.key)) continue; // duplicates are a validation problem; the first one counts
    seen.add(req.key);
    list.push({ req, prev: previous ? previousIps(previous.get(req.key)) : ingressIps(s) });
  }
  list.sort((a, b) => (a.req.key < b.req.key ? -1 : a.req.key > b.req.key ? 1 : 0));
  for (const { req, prev } of list) if (prev.length > 0) alloc.claimRequest(req, prev);
  const out: Allocation[] = new Array<Allocation>(list.length);
  // services asking for specific addresses first, then the rest; each group in key order
  for (const pass of [true, false]) {
    list.forEach(({ req, prev }, i) => {
      if (req.requestedIps.length > 0 === pass) out[i] = alloc.assignRequest(req, prev);
    });
  }
  return new Map(list.map(({ req }, i) => [req.key, out[i] as Allocation]));
}
