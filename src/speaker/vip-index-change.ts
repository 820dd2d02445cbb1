import {
  canonicalIp,
  changesOnly,
  type EndpointSlice,
  type HeraldModel,
  isHeraldService,
  type ModelChange,
  type Service,
  serviceHealthCheck,
  serviceKey,
} from '../config/index.js';
import { sliceServiceKey } from '../l2/endpoints.js';
import { sameItems } from '../util/arrays.js';
import { mapChange } from '../util/map-change.js';
import { lowerBound } from '../util/sorted.js';
import type { IpServices, ServiceAllocation, VipIndex } from './l2-inputs.js';

/** Beyond this many services with a new allocation, building the index again is as cheap. */
const MOST_MOVED = 256;

/**
 * vipIndex (l2-inputs.ts) kept up to date through a reload's recorded change: the services and slices
 * added and removed, and the services whose allocation changed, update only their own IPs' entries. The
 * caller builds the groups of the IPs it returns again. Undefined when the change cannot be applied
 * exactly (a key held twice, an IP's services from different pools, a service's slices growing next to
 * old ones, many allocations moved): the index is then dropped and built again from the model.
 */
export class LiveVipIndex implements VipIndex {
  ips: string[] = [];
  readonly byIp = new Map<string, IpServices>();
  readonly slicesByKey = new Map<string, readonly EndpointSlice[]>();
  readonly checked = new Set<string>();
  /** Every service by key, and the IPs (canonical) of each allocated Herald service. */
  private readonly services = new Map<string, Service>();
  private readonly ipsOf = new Map<string, string[]>();
  private allocations: ReadonlyMap<string, ServiceAllocation> = new Map();

  /** The index of a whole model; undefined when a key is held twice (vipIndex is the reference then). */
  static build(
    model: HeraldModel,
    allocations: ReadonlyMap<string, ServiceAllocation>,
    index: VipIndex,
  ): LiveVipIndex | undefined {
    const live = new LiveVipIndex();
    for (const svc of model.services) {
      const key = serviceKey(svc);
      if (live.services.has(key)) return undefined;
      live.services.set(key, svc);
      const ips = ipsOf(svc, allocations.get(key));
      if (ips.length > 0) live.ipsOf.set(key, ips);
    }
    // Entries and lists are replaced, never changed: groups made from them may hold them.
    live.ips = [...index.ips];
    for (const [ip, entry] of index.byIp) live.byIp.set(ip, entry);
    for (const [key, slices] of index.slicesByKey) live.slicesByKey.set(key, slices);
    for (const key of index.checked) live.checked.add(key);
    live.allocations = allocations;
    return live;
  }

  /** Applies the change; returns the IPs whose group must be built again (those gone included). */
  apply(change: ModelChange, allocations: ReadonlyMap<string, ServiceAllocation>): Set<string> | undefined {
    if (!changesOnly(change, ['services', 'endpointSlices', 'namespaces', 'nodes', 'l2Advertisements']))
      return undefined;
    const keys = new Set<string>();
    if (!this.serviceChanges(change, keys) || !this.sliceChanges(change, keys)) return undefined;
    if (!this.allocationChanges(allocations, keys)) return undefined;
    const touched = new Set<string>();
    for (const key of keys) {
      const svc = this.services.get(key);
      const ips = svc ? ipsOf(svc, allocations.get(key)) : [];
      for (const ip of this.ipsOf.get(key) ?? []) {
        touched.add(ip);
        const entry = this.byIp.get(ip)!;
        this.byIp.set(ip, { ...entry, services: entry.services.filter((s) => serviceKey(s) !== key) });
      }
      for (const ip of ips) {
        touched.add(ip);
        const entry = this.byIp.get(ip);
        const pool = allocations.get(key)!.pool;
        this.byIp.set(
          ip,
          entry ? { ...entry, services: [...entry.services, svc!] } : { services: [svc!], pool },
        );
      }
      if (ips.length > 0) this.ipsOf.set(key, ips);
      else this.ipsOf.delete(key);
    }
    for (const ip of touched) {
      const entry = this.byIp.get(ip)!;
      if (entry.services.length === 0) {
        this.byIp.delete(ip);
        this.ips.splice(lowerBound(this.ips, ip), 1);
        continue;
      }
      const at = lowerBound(this.ips, ip);
      if (this.ips[at] !== ip) this.ips.splice(at, 0, ip);
      // The group's pool is its first service's (in configuration order): only exact when they agree.
      const pools = new Set(entry.services.map((s) => allocations.get(serviceKey(s))?.pool));
      const pool = [...pools][0];
      if (pools.size !== 1 || pool === undefined) return undefined;
      if (pool !== entry.pool) this.byIp.set(ip, { ...entry, pool });
    }
    this.allocations = allocations;
    return touched;
  }

  private serviceChanges(change: ModelChange, keys: Set<string>): boolean {
    for (const svc of change.removed.services) {
      const key = serviceKey(svc);
      if (this.services.get(key) !== svc) return false;
      this.services.delete(key);
      keys.add(key);
    }
    for (const svc of change.added.services) {
      const key = serviceKey(svc);
      if (this.services.has(key)) return false;
      this.services.set(key, svc);
      keys.add(key);
    }
    for (const key of keys) {
      const svc = this.services.get(key);
      if (svc && serviceHealthCheck(svc).check !== undefined) this.checked.add(key);
      else this.checked.delete(key);
    }
    return true;
  }

  private sliceChanges(change: ModelChange, keys: Set<string>): boolean {
    for (const slice of change.removed.endpointSlices) {
      const key = sliceServiceKey(slice);
      if (key === undefined) continue;
      const list = this.slicesByKey.get(key) ?? [];
      if (!list.includes(slice)) return false;
      const rest = list.filter((s) => s !== slice);
      if (rest.length === 0) this.slicesByKey.delete(key);
      else this.slicesByKey.set(key, rest);
      keys.add(key);
    }
    const grown = new Set<string>();
    for (const slice of change.added.endpointSlices) {
      const key = sliceServiceKey(slice);
      if (key === undefined) continue;
      const list = this.slicesByKey.get(key);
      // Slices are in configuration order: new ones after old ones of the same service may not be.
      if (list && !grown.has(key)) return false;
      this.slicesByKey.set(key, [...(list ?? []), slice]);
      grown.add(key);
      keys.add(key);
    }
    return true;
  }

  private allocationChanges(allocations: ReadonlyMap<string, ServiceAllocation>, keys: Set<string>): boolean {
    if (allocations === this.allocations) return true;
    // Allocations made from the last ones name the keys that changed (speaker/model-source.ts).
    const recorded = mapChange(this.allocations, allocations);
    if (recorded) {
      if (recorded.size > MOST_MOVED) return false;
      for (const key of recorded) keys.add(key);
      return true;
    }
    let moved = 0;
    for (const [key, alloc] of allocations) {
      const was = this.allocations.get(key);
      if (was === alloc || (was && was.pool === alloc.pool && sameItems(was.ips, alloc.ips))) continue;
      keys.add(key);
      if (++moved > MOST_MOVED) return false;
    }
    for (const key of this.allocations.keys()) if (!allocations.has(key)) keys.add(key);
    return true;
  }
}

/** The canonical IPs of an allocated Herald service (none when it is not one, or has no allocation). */
function ipsOf(svc: Service, alloc: ServiceAllocation | undefined): string[] {
  if (!alloc || !isHeraldService(svc)) return [];
  return alloc.ips.map((text) => canonicalIp(text) ?? text);
}
