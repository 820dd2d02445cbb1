import { formatIp, parseIp, type Family, type ParsedIp } from '../config/addresses.js';
import { matchesAnySelector } from '../config/selectors.js';
import { serviceRequest, type ServiceRequest } from '../config/service.js';
import type { IPAddressPool, Namespace, Service } from '../config/types.js';
import { PoolState } from './pool-state.js';
import { sharingConflict, type ShareInfo } from './sharing.js';

/**
 * The IP allocator. Stateful so the controller can use it incrementally (`assign` on every Service change,
 * `release` on delete, `setPools` on pool changes); `allocateAll` is the pure wrapper the speaker uses.
 *
 * Rules (MetalLB's, made deterministic):
 * - Requested addresses (`herald.dev/loadBalancerIPs`, MetalLB annotations, `spec.loadBalancerIP`) are
 *   honored when inside a pool the service may use and free or legally shared; refused with a reason otherwise.
 * - `address-pool` restricts to that pool. Both ignore `autoAssign`, both respect `serviceAllocation`.
 * - Otherwise pools with `autoAssign` ≠ false whose `serviceAllocation` matches are tried by priority (lower
 *   first, unset last), then by name; the lowest free address of each wanted family is taken.
 * - A service with an `allow-shared-ip` key first tries addresses already used with that key (compatible:
 *   same key, same traffic policy and selector for Local, no port/protocol overlap).
 * - Families: `SingleStack` takes `ipFamilies[0]` (unset: IPv4 if the pool has it, else IPv6);
 *   `PreferDualStack` takes every family the pool has; `RequireDualStack` needs a pool with both.
 * - An existing assignment that is still valid is kept (also across restarts, via `previous` / status).
 */

export type Allocation = { ips: string[]; pool: string } | { error: string };

export const isAllocated = (a: Allocation | undefined): a is { ips: string[]; pool: string } =>
  a !== undefined && 'ips' in a;

export interface PoolStats {
  pool: string;
  /** Usable addresses (Number; exact up to 2^53, approximate for huge IPv6 pools). */
  addressesTotal: number;
  addressesInUse: number;
  ipv4: { total: bigint; inUse: number };
  ipv6: { total: bigint; inUse: number };
}

interface RangeRef {
  start: bigint;
  end: bigint;
  family: Family;
  pool: PoolState;
}

interface Held {
  pool: PoolState;
  ips: Array<{ ip: string; family: Family; value: bigint }>;
  req: ServiceRequest;
  info: ShareInfo;
}

export interface AssignOptions {
  /** Addresses the service had before (e.g. from `status.loadBalancer.ingress`); kept when still valid. */
  previous?: readonly string[];
}

const FAMILY_NAME = (f: Family): string => `IPv${f}`;
const ONLY_V4: readonly Family[] = [4];
const ONLY_V6: readonly Family[] = [6];
const V4_V6: readonly Family[] = [4, 6];
const V6_V4: readonly Family[] = [6, 4];
const NONE: readonly string[] = [];

export class Allocator {
  private pools = new Map<string, PoolState>();
  /** Pools in the order automatic allocation tries them: priority (lower first, unset last), then name. */
  private byPriority: PoolState[] = [];
  private readonly autoCache = new Map<string, readonly PoolState[] | { error: string }>();
  private readonly held = new Map<string, Held>();
  private index4: RangeRef[] = [];
  private index6: RangeRef[] = [];
  private nsLabels = new Map<string, Record<string, string>>();

  constructor(opts: { pools?: readonly IPAddressPool[]; namespaces?: readonly Namespace[] } = {}) {
    this.setNamespaces(opts.namespaces ?? []);
    this.setPools(opts.pools ?? []);
  }

  /** Namespace labels (for `serviceAllocation.namespaceSelectors`). Returns displaced keys, like `setPools`. */
  setNamespaces(namespaces: readonly Namespace[]): string[] {
    this.nsLabels = new Map(namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
    this.autoCache.clear();
    return this.revalidate();
  }

  /**
   * Replaces the pools. Assignments still valid are kept (in service-key order); for the others the still-valid
   * part stays held and their keys are returned: the caller must `assign` those services again.
   * A priority or `autoAssign` change alone never moves a service.
   */
  setPools(pools: readonly IPAddressPool[]): string[] {
    this.pools = new Map(
      [...pools]
        .sort((a, b) => cmp(a.metadata.name, b.metadata.name))
        .map((p) => [p.metadata.name, new PoolState(p)]),
    );
    const prio = (p: PoolState): number =>
      p.pool.spec.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
    this.byPriority = [...this.pools.values()].sort((a, b) => prio(a) - prio(b) || cmp(a.name, b.name));
    const refs = [...this.pools.values()].flatMap((p) => p.ranges.map((r) => ({ ...r, pool: p })));
    const byStart = (a: RangeRef, b: RangeRef): number =>
      a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
    this.index4 = refs.filter((r) => r.family === 4).sort(byStart);
    this.index6 = refs.filter((r) => r.family === 6).sort(byStart);
    this.autoCache.clear();
    return this.revalidate();
  }

  private revalidate(): string[] {
    const old = [...this.held.entries()].sort(([a], [b]) => cmp(a, b));
    this.held.clear();
    for (const p of this.pools.values()) p.clearUse();
    const displaced: string[] = [];
    for (const [key, h] of old) {
      const pool = this.pools.get(h.pool.name);
      const ok = pool !== undefined && this.poolRefusal(pool, h.req, true) === undefined;
      const kept = ok ? this.claimIn(pool, h.req, h.ips) : undefined;
      // A partly valid assignment stays held (so `assign` keeps that part) but is reported as displaced.
      if (!kept || kept.ips.length !== h.ips.length) displaced.push(key);
    }
    return displaced;
  }

  /** The current allocation of a service key (`namespace/name`). */
  get(key: string): Allocation | undefined {
    const h = this.held.get(key);
    return h ? { ips: h.ips.map((i) => i.ip), pool: h.pool.name } : undefined;
  }

  /** Every current assignment, by service key. */
  assignments(): Map<string, { ips: string[]; pool: string }> {
    const out = new Map<string, { ips: string[]; pool: string }>();
    for (const [k, h] of this.held) out.set(k, { ips: h.ips.map((i) => i.ip), pool: h.pool.name });
    return out;
  }

  /** Releases a service's addresses; false when it held none. */
  release(key: string): boolean {
    const h = this.held.get(key);
    if (!h) return false;
    for (const i of h.ips) h.pool.unhold(i.family, i.value, key);
    this.held.delete(key);
    return true;
  }

  poolStats(): PoolStats[] {
    return [...this.pools.values()].map((p) => {
      const ipv4 = p.stats(4);
      const ipv6 = p.stats(6);
      return {
        pool: p.name,
        addressesTotal: Number(ipv4.total + ipv6.total),
        addressesInUse: ipv4.inUse + ipv6.inUse,
        ipv4,
        ipv6,
      };
    });
  }

  /**
   * Claims previously held addresses for a service without allocating anything new: keeps the valid subset
   * (inside one allowed pool, right family, free or legally shared). Used on restart before `assign`.
   */
  claim(svc: Service, previous: readonly string[]): Allocation | undefined {
    return this.claimRequest(serviceRequest(svc), previous);
  }

  claimRequest(req: ServiceRequest, previous: readonly string[]): Allocation | undefined {
    if (req.problems.length > 0 || previous.length === 0) return undefined;
    if (this.held.has(req.key)) this.release(req.key);
    const parsed = parseAll(previous);
    const first = parsed[0];
    const pool = first ? this.poolAt(first.family, first.value) : undefined;
    if (!pool || this.poolRefusal(pool, req, true)) return undefined;
    const h = this.claimIn(pool, req, parsed);
    return h ? { ips: h.ips.map((i) => i.ip), pool: h.pool.name } : undefined;
  }

  /** Assigns addresses to a service (keeping a still-valid current or previous assignment). */
  assign(svc: Service, opts: AssignOptions = {}): Allocation {
    return this.assignRequest(serviceRequest(svc), opts.previous ?? ingressIps(svc));
  }

  /** `assign` for an already parsed request; `previous` is used only when nothing is held yet. */
  assignRequest(req: ServiceRequest, previous: readonly string[] = []): Allocation {
    if (req.problems.length > 0) {
      this.release(req.key);
      const p = req.problems[0] as { path: string; message: string };
      return { error: `invalid request: ${p.path}: ${p.message}` };
    }
    const current = this.held.get(req.key);
    if (current && this.stillValid(current, req)) {
      current.req = req;
      return { ips: current.ips.map((i) => i.ip), pool: current.pool.name };
    }
    if (current) {
      previous = current.ips.map((i) => i.ip);
      this.release(req.key);
    }

    const found = this.candidatePools(req);
    const candidates = 'error' in found ? [] : found;
    // Keep what is still valid in the pool the service had: that pool goes first when the service may still
    // use it (for automatic services also when its autoAssign was turned off, as MetalLB does).
    const prevPool = previous.length > 0 ? this.poolContaining(previous) : undefined;
    const prevUsable =
      prevPool !== undefined &&
      (candidates.includes(prevPool) ||
        (req.requestedIps.length === 0 && !req.requestedPool && !this.poolRefusal(prevPool, req, true)));
    const ordered = prevUsable ? [prevPool, ...candidates.filter((p) => p !== prevPool)] : candidates;
    if (ordered.length === 0 && 'error' in found) return found;
    let reasons: string[] | undefined;
    for (const pool of ordered) {
      const r = this.allocateIn(pool, req, pool === prevPool ? previous : NONE);
      if (typeof r !== 'string') return r;
      (reasons ??= []).push(r);
    }
    reasons ??= [];
    return {
      error: reasons.length === 1 ? (reasons[0] as string) : `no pool could serve it: ${reasons.join('; ')}`,
    };
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** True when a held assignment still fits the (possibly changed) request; refreshes its sharing info. */
  private stillValid(h: Held, req: ServiceRequest): boolean {
    const pool = h.pool;
    if (this.pools.get(pool.name) !== pool) return false;
    if (req.requestedPool !== undefined && req.requestedPool !== pool.name) return false;
    if (req.requestedIps.length > 0) {
      if (req.requestedIps.length !== h.ips.length) return false;
      if (!req.requestedIps.every((r) => h.ips.some((i) => i.family === r.family && i.value === r.value)))
        return false;
    }
    if (this.poolRefusal(pool, req, true)) return false;
    const fams = this.familiesFor(pool, req);
    if (typeof fams === 'string' || fams.length !== h.ips.length) return false;
    if (!h.ips.every((i, k) => i.family === fams[k])) return false;
    const info = this.shareInfo(req);
    if (info.sharingKey !== h.info.sharingKey) return false;
    for (const i of h.ips) {
      if (!pool.contains(i.family, i.value)) return false;
      const u = pool.usedAt(i.family, i.value);
      if (u && sharingConflict(i.ip, info, u.holders)) return false;
    }
    if (h.info !== info) {
      for (const i of h.ips) {
        const u = pool.usedAt(i.family, i.value);
        if (u) u.holders = u.holders.map((x) => (x.key === req.key ? info : x));
      }
    }
    h.info = info;
    return true;
  }

  private poolContaining(ips: readonly string[]): PoolState | undefined {
    const first = parseIp(ips[0] ?? '');
    return first ? this.poolAt(first.family, first.value) : undefined;
  }

  /** The pool whose ranges hold an address: binary search over every range, sorted by start. */
  private poolAt(family: Family, value: bigint): PoolState | undefined {
    const list = family === 4 ? this.index4 : this.index6;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as RangeRef).start <= value) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // overlapping pools (a validation problem) are searched backwards so one that holds it is still found
    for (let i = found; i >= 0; i--) {
      const r = list[i] as RangeRef;
      if (value <= r.end) return r.pool;
    }
    return undefined;
  }

  /** Why a pool may not serve a request (serviceAllocation; autoAssign unless asked for explicitly). */
  private poolRefusal(pool: PoolState, req: ServiceRequest, explicit: boolean): string | undefined {
    if (!explicit && !pool.autoAssign) return `pool "${pool.name}" has autoAssign: false`;
    const sa = pool.pool.spec.serviceAllocation;
    if (!sa) return undefined;
    const nsListed = (sa.namespaces?.length ?? 0) > 0;
    const nsSelected = (sa.namespaceSelectors?.length ?? 0) > 0;
    if (nsListed || nsSelected) {
      const ok =
        (sa.namespaces ?? []).includes(req.namespace) ||
        matchesAnySelector(sa.namespaceSelectors, this.nsLabels.get(req.namespace), false);
      if (!ok) return `pool "${pool.name}" is not for namespace ${req.namespace} (serviceAllocation)`;
    }
    if (!matchesAnySelector(sa.serviceSelectors, req.labels, true)) {
      return `pool "${pool.name}" does not select service ${req.key} (serviceAllocation.serviceSelectors)`;
    }
    return undefined;
  }

  private candidatePools(req: ServiceRequest): readonly PoolState[] | { error: string } {
    if (req.requestedIps.length > 0) {
      const pool = this.poolContaining(req.requestedIps.map((r) => r.ip));
      const first = req.requestedIps[0]?.ip;
      if (!pool) return { error: `requested IP ${first} is not in any IPAddressPool` };
      if (req.requestedPool && req.requestedPool !== pool.name) {
        return {
          error: `requested IP ${first} is in pool "${pool.name}", not in the requested pool "${req.requestedPool}"`,
        };
      }
      for (const r of req.requestedIps) {
        if (!pool.inRanges(r.family, r.value)) {
          return {
            error: `requested IPs ${req.requestedIps.map((x) => x.ip).join(', ')} are not all in pool "${pool.name}"`,
          };
        }
      }
      const why = this.poolRefusal(pool, req, true);
      return why ? { error: why } : [pool];
    }
    if (req.requestedPool) {
      const pool = this.pools.get(req.requestedPool);
      if (!pool) return { error: `requested pool "${req.requestedPool}" does not exist` };
      const why = this.poolRefusal(pool, req, true);
      return why ? { error: why } : [pool];
    }
    if (this.pools.size === 0) return { error: 'no IPAddressPool is configured' };
    // The answer depends only on the namespace and the service's labels: cache it (cleared on config change).
    const labelKeys = Object.keys(req.labels);
    const cacheKey =
      labelKeys.length === 0
        ? req.namespace
        : `${req.namespace}\0${JSON.stringify(labelKeys.sort().map((k) => [k, req.labels[k]]))}`;
    const cached = this.autoCache.get(cacheKey);
    if (cached) return cached;
    const refusals: string[] = [];
    const ok: PoolState[] = [];
    for (const p of this.byPriority) {
      const why = this.poolRefusal(p, req, false);
      if (!why) ok.push(p);
      else refusals.push(why);
    }
    const answer = ok.length > 0 ? ok : { error: `no pool can be used: ${refusals.join('; ')}` };
    this.autoCache.set(cacheKey, answer);
    return answer;
  }

  /** The families a request needs from a given pool (in preference order), or why it cannot be served there. */
  private familiesFor(pool: PoolState, req: ServiceRequest): readonly Family[] | string {
    if (req.requestedIps.length > 0) {
      const fams = req.requestedIps.map((r) => r.family);
      if (req.familyPolicy === 'RequireDualStack' && fams.length < 2) {
        return 'RequireDualStack needs one requested address of each family';
      }
      return fams;
    }
    const has4 = pool.families.has(4);
    const has6 = pool.families.has(6);
    if (req.familyPolicy === 'SingleStack') {
      const f = req.families[0] ?? (has4 ? 4 : 6);
      if (f === 4 ? has4 : has6) return f === 4 ? ONLY_V4 : ONLY_V6;
      return `pool "${pool.name}" has no ${FAMILY_NAME(f)} addresses`;
    }
    const both = req.families[0] === 6 ? V6_V4 : V4_V6;
    if (req.familyPolicy === 'RequireDualStack') {
      if (!has4 || !has6) {
        return `pool "${pool.name}" has no ${FAMILY_NAME(has4 ? 6 : 4)} addresses (RequireDualStack)`;
      }
      return both;
    }
    if (has4 && has6) return both;
    if (has4 || has6) return has4 ? ONLY_V4 : ONLY_V6;
    return `pool "${pool.name}" has no addresses`;
  }

  /** A request carries everything the sharing rules look at. */
  private shareInfo(req: ServiceRequest): ShareInfo {
    return req;
  }

  private conflictAt(pool: PoolState, family: Family, value: bigint, info: ShareInfo): string | undefined {
    const u = pool.usedAt(family, value);
    return u ? sharingConflict(u.ip, info, u.holders) : undefined;
  }

  /** Re-holds the still-valid part of `ips` in `pool` (no new addresses). Returns what was kept, if anything. */
  private claimIn(pool: PoolState, req: ServiceRequest, ips: readonly ParsedIp[]): Held | undefined {
    const fams = this.familiesFor(pool, req);
    if (typeof fams === 'string') return undefined;
    const info = this.shareInfo(req);
    const kept: Held['ips'] = [];
    for (const p of ips) {
      if (!fams.includes(p.family) || kept.some((k) => k.family === p.family)) continue;
      if (!pool.contains(p.family, p.value) || this.conflictAt(pool, p.family, p.value, info)) continue;
      if (
        req.requestedIps.length > 0 &&
        !req.requestedIps.some((r) => r.value === p.value && r.family === p.family)
      ) {
        continue;
      }
      kept.push({ ip: formatIp(p.family, p.value), family: p.family, value: p.value });
    }
    if (kept.length === 0) return undefined;
    return this.record(pool, req, info, kept);
  }

  private record(pool: PoolState, req: ServiceRequest, info: ShareInfo, ips: Held['ips']): Held {
    const h: Held = { pool, ips: ips.map((i) => pool.hold(i.family, i.value, info, i.ip)), req, info };
    this.held.set(req.key, h);
    return h;
  }

  /** Allocates every needed family in one pool, keeping valid `previous` addresses; a reason on failure. */
  private allocateIn(
    pool: PoolState,
    req: ServiceRequest,
    previous: readonly string[],
  ): { ips: string[]; pool: string } | string {
    const fams = this.familiesFor(pool, req);
    if (typeof fams === 'string') return fams;
    const info = this.shareInfo(req);
    const chosen: Held['ips'] = [];
    for (const family of fams) {
      const requested = req.requestedIps.find((r) => r.family === family);
      if (requested) {
        const why = this.conflictAt(pool, family, requested.value, info);
        if (why) return why;
        if (!pool.contains(family, requested.value)) {
          return `requested IP ${requested.ip} ends in .0 or .255, which pool "${pool.name}" avoids (avoidBuggyIPs)`;
        }
        chosen.push({ ip: requested.ip, family, value: requested.value });
        continue;
      }
      const prev = previous.map((t) => parseIp(t)).find((p) => p?.family === family);
      if (prev && pool.contains(family, prev.value) && !this.conflictAt(pool, family, prev.value, info)) {
        chosen.push({ ip: formatIp(family, prev.value), family, value: prev.value });
        continue;
      }
      const value = this.pick(pool, family, info);
      if (value === undefined) {
        return `pool "${pool.name}" has no free ${FAMILY_NAME(family)} address`;
      }
      chosen.push({ ip: formatIp(family, value), family, value });
    }
    this.record(pool, req, info, chosen);
    return { ips: chosen.map((c) => c.ip), pool: pool.name };
  }

  /** A shared address with the same key when one is compatible (lowest first), else the lowest free one. */
  private pick(pool: PoolState, family: Family, info: ShareInfo): bigint | undefined {
    if (info.sharingKey !== undefined) {
      const ips = pool.byShareKey.get(info.sharingKey);
      if (ips) {
        let best: bigint | undefined;
        for (const u of ips) {
          if (u.family !== family) continue;
          if (best !== undefined && u.value >= best) continue;
          if (!sharingConflict(u.ip, info, u.holders)) best = u.value;
        }
        if (best !== undefined) return best;
      }
    }
    return pool.lowestFree(family);
  }
}

/** Parses address texts, dropping what is not an address. */
const parseAll = (texts: readonly string[]): ParsedIp[] =>
  texts.flatMap((t) => {
    const p = parseIp(t);
    return p ? [p] : [];
  });

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Addresses a Service already shows in `status.loadBalancer.ingress`. */
export const ingressIps = (svc: Service): readonly string[] => {
  const ingress = svc.status?.loadBalancer?.ingress;
  return ingress && ingress.length > 0 ? ingress.flatMap((i) => (i.ip ? [i.ip] : [])) : NONE;
};
