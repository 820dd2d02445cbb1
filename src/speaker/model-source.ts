import { allocateAll, type Allocation, ingressIps, isAllocated } from '../allocator/index.js';
import {
  canonicalIp,
  type HeraldModel,
  isHeraldService,
  parseIp,
  poolRanges,
  type Problem,
  serviceKey,
  serviceRequest,
} from '../config/index.js';
import { mapChange, recordMapChange } from '../util/map-change.js';
import type { ServiceAllocation } from './l2-inputs.js';

/**
 * Where a speaker's configuration comes from: a YAML file (standalone) or the Kubernetes API. Both give
 * the same model and the same two events; everything below the source is shared.
 */
export interface ModelSource {
  start(): Promise<HeraldModel>;
  current(): HeraldModel | undefined;
  stop(): void;
  on(event: 'change', listener: (model: HeraldModel) => void): unknown;
  on(event: 'rejected', listener: (problems: Problem[]) => void): unknown;
}

/**
 * Kubernetes mode: the controller allocates and writes `status.loadBalancer.ingress`; speakers announce
 * exactly those IPs (never a guess of their own), each attributed to the pool that contains it.
 */
export function allocationsFromStatus(model: HeraldModel): Map<string, ServiceAllocation> {
  const ranges = model.pools.flatMap((p) => poolRanges(p).map((r) => ({ pool: p.metadata.name, r })));
  const out = new Map<string, ServiceAllocation>();
  for (const svc of model.services) {
    if (!isHeraldService(svc)) continue;
    const ips = ingressIps(svc).map((ip) => canonicalIp(ip) ?? ip);
    const first = ips[0] ? parseIp(ips[0]) : undefined;
    const pool = first
      ? ranges.find(({ r }) => r.family === first.family && first.value >= r.start && first.value <= r.end)
          ?.pool
      : undefined;
    if (pool) out.set(serviceKey(svc), { ips, pool });
  }
  return out;
}

export interface ServiceAllocations {
  allocations: Map<string, ServiceAllocation>;
  errors: Map<string, string>;
  /** The allocator's result they were made from (compute). */
  from?: ReadonlyMap<string, Allocation>;
}

/**
 * The VIPs of every service and, per service, why it has none. compute: allocated from the pools, a pure
 * function of the model (no history), so every speaker computes the same VIPs; status: the controller's.
 * `allocator` gives allocateAll's result with less work (allocator/incremental.ts). When its result was
 * made from the one `previous` came from (a recorded change, util/map-change.ts), only the changed keys
 * are copied over, and the new allocations record that change in turn (for speaker/vip-index-change.ts).
 */
export function serviceAllocations(
  model: HeraldModel,
  mode: 'compute' | 'status',
  allocator: { allocate(model: HeraldModel): ReadonlyMap<string, Allocation> } = { allocate: allocateAll },
  previous?: ServiceAllocations,
): ServiceAllocations {
  if (mode === 'status') return { allocations: allocationsFromStatus(model), errors: new Map() };
  const from = allocator.allocate(model);
  const keys = previous && mapChange(previous.from, from);
  if (previous && keys) {
    const allocations = new Map(previous.allocations);
    const errors = new Map(previous.errors);
    for (const key of keys) {
      allocations.delete(key);
      errors.delete(key);
      const alloc = from.get(key);
      if (alloc && isAllocated(alloc)) allocations.set(key, alloc);
      else if (alloc) errors.set(key, alloc.error);
    }
    recordMapChange(previous.allocations, allocations, keys);
    return { allocations, errors, from };
  }
  const allocations = new Map<string, ServiceAllocation>();
  const errors = new Map<string, string>();
  for (const [key, alloc] of from) {
    if (isAllocated(alloc)) allocations.set(key, alloc);
    else errors.set(key, alloc.error);
  }
  return { allocations, errors, from };
}

/**
 * Standalone mode keeps no allocation history (no controller writes `status`, and every speaker must
 * compute the same VIPs from the file alone), so a service without a requested address is numbered in
 * `namespace/name` order: adding or removing a service that sorts before it moves its VIP. The keys of
 * such services, sorted, for a warning.
 */
export function unpinnedServices(model: HeraldModel): string[] {
  const keys: string[] = [];
  for (const svc of model.services) {
    if (!isHeraldService(svc)) continue;
    const req = serviceRequest(svc);
    if (req.requestedIps.length === 0) keys.push(req.key);
  }
  return keys.sort();
}
