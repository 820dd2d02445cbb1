import { formatIp, isBuggyIp, rangeSize, type AddressRange, type Family } from '../config/addresses.js';
import { poolRanges } from '../config/pools.js';
import type { IPAddressPool } from '../config/types.js';
import type { ShareInfo } from './sharing.js';

/** One address in use: who holds it. Only addresses in use are stored (memory ∝ allocations). */
export interface UsedIp {
  ip: string;
  family: Family;
  value: bigint;
  /** The services holding it (one, or several sharing it). */
  holders: ShareInfo[];
}

export interface FamilyStats {
  total: bigint;
  inUse: number;
}

/**
 * The mutable state of one pool: its ranges (sorted, disjoint per family), the addresses in use and, per
 * family, a cursor below which every usable address is in use, so "lowest free address" is amortised O(1).
 */
export class PoolState {
  readonly name: string;
  readonly ranges: AddressRange[];
  readonly families: ReadonlySet<Family>;
  private readonly used4 = new Map<bigint, UsedIp>();
  private readonly used6 = new Map<bigint, UsedIp>();
  /** sharing key → addresses in use with that key */
  readonly byShareKey = new Map<string, Set<UsedIp>>();
  private readonly cursor = new Map<Family, bigint>();
  private readonly inUseCount = new Map<Family, number>([
    [4, 0],
    [6, 0],
  ]);

  constructor(readonly pool: IPAddressPool) {
    this.name = pool.metadata.name;
    this.ranges = poolRanges(pool).sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : 1));
    this.families = new Set(this.ranges.map((r) => r.family));
  }

  get autoAssign(): boolean {
    return this.pool.spec.autoAssign !== false;
  }

  get avoidBuggyIPs(): boolean {
    return this.pool.spec.avoidBuggyIPs === true;
  }

  /** True when the address is inside the pool and usable (not a "buggy" .0/.255 when those are avoided). */
  contains(family: Family, value: bigint): boolean {
    if (this.avoidBuggyIPs && isBuggyIp(family, value)) return false;
    return this.inRanges(family, value);
  }

  /** True when the address lies in one of the pool's ranges (usable or not). */
  inRanges(family: Family, value: bigint): boolean {
    return this.ranges.some((r) => r.family === family && r.start <= value && value <= r.end);
  }

  usedAt(family: Family, value: bigint): UsedIp | undefined {
    return (family === 4 ? this.used4 : this.used6).get(value);
  }

  /** The lowest free usable address of the family, or undefined when the pool has none. */
  lowestFree(family: Family): bigint | undefined {
    let v = this.cursor.get(family) ?? -1n;
    const used = family === 4 ? this.used4 : this.used6;
    for (const r of this.ranges) {
      if (r.family !== family || r.end < v) continue;
      if (v < r.start) v = r.start;
      while (v <= r.end) {
        if (!(this.avoidBuggyIPs && isBuggyIp(family, v)) && !used.has(v)) {
          this.cursor.set(family, v);
          return v;
        }
        v++;
      }
    }
    this.cursor.set(family, v);
    return undefined;
  }

  hold(family: Family, value: bigint, info: ShareInfo, ip = formatIp(family, value)): UsedIp {
    const used = family === 4 ? this.used4 : this.used6;
    let u = used.get(value);
    if (!u) {
      u = { ip, family, value, holders: [] };
      used.set(value, u);
      this.inUseCount.set(family, (this.inUseCount.get(family) ?? 0) + 1);
    }
    const at = u.holders.findIndex((h) => h.key === info.key);
    if (at >= 0) u.holders[at] = info;
    else u.holders.push(info);
    if (info.sharingKey !== undefined) {
      let s = this.byShareKey.get(info.sharingKey);
      if (!s) this.byShareKey.set(info.sharingKey, (s = new Set()));
      s.add(u);
    }
    return u;
  }

  unhold(family: Family, value: bigint, key: string): void {
    const used = family === 4 ? this.used4 : this.used6;
    const u = used.get(value);
    if (!u) return;
    const info = u.holders.find((h) => h.key === key);
    u.holders = u.holders.filter((h) => h.key !== key);
    if (info?.sharingKey !== undefined && !u.holders.some((h) => h.sharingKey === info.sharingKey)) {
      const s = this.byShareKey.get(info.sharingKey);
      s?.delete(u);
      if (s && s.size === 0) this.byShareKey.delete(info.sharingKey);
    }
    if (u.holders.length === 0) {
      used.delete(value);
      this.inUseCount.set(u.family, (this.inUseCount.get(u.family) ?? 1) - 1);
      const c = this.cursor.get(u.family);
      if (c !== undefined && u.value < c) this.cursor.set(u.family, u.value);
    }
  }

  /** Forgets every use (the allocator re-holds what is still valid after a configuration change). */
  clearUse(): void {
    this.used4.clear();
    this.used6.clear();
    this.byShareKey.clear();
    this.cursor.clear();
    this.inUseCount.set(4, 0);
    this.inUseCount.set(6, 0);
  }

  stats(family: Family): FamilyStats {
    let total = 0n;
    for (const r of this.ranges) {
      if (r.family !== family) continue;
      total += rangeSize(r);
      if (this.avoidBuggyIPs) total -= buggyCount(r);
    }
    return { total, inUse: this.inUseCount.get(family) ?? 0 };
  }
}

/** How many IPv4 addresses ending in .0 or .255 a range holds (counted, not enumerated). */
function buggyCount(r: AddressRange): bigint {
  if (r.family !== 4) return 0n;
  const below = (x: bigint, last: bigint): bigint => (x < last ? 0n : (x - last) / 256n + 1n); // values ≤ x ending in `last`
  const count = (last: bigint): bigint =>
    below(r.end, last) - (r.start === 0n ? 0n : below(r.start - 1n, last));
  return count(0n) + count(255n);
}
