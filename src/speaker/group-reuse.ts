import {
  canonicalIp,
  type EndpointSlice,
  type HeraldModel,
  modelChange,
  serviceKey,
} from '../config/index.js';
import { LiveVipIndex } from './vip-index-change.js';
import type { EndpointSemantics } from '../l2/endpoints.js';
import { sameItems } from '../util/arrays.js';
import { recordMapChange } from '../util/map-change.js';
import { lowerBoundByIp } from '../util/sorted.js';
import { mapSliced, type TimeSlicer } from '../util/slices.js';
import {
  failingByNode,
  groupOf,
  type IpServices,
  type MemberView,
  type ServiceAllocation,
  type VipGroup,
  type VipIndex,
  vipIndex,
} from './l2-inputs.js';

/** What one IP's group is made of: the same objects again give the same group. */
interface Making {
  services: IpServices['services'];
  pool: string;
  /** Per service (in `services` order): its slices and whether it has a health check. */
  slices: Array<readonly EndpointSlice[] | undefined>;
  checked: boolean[];
}

interface Made extends Making {
  group: VipGroup;
}

/**
 * groupVips (l2-inputs.ts) for a model that changes a little at a time: a reload keeps the objects of
 * every document it did not touch, so an IP whose services, pool, slices and health checks are the same
 * objects as in the last call gets the same group object back, and only the groups of changed IPs are
 * built. Equal to groupVips (the pure reference) for every input; unchanged groups are identical objects,
 * which is what lets the decisions be reused per group (decider.ts). When the model comes with a reload's
 * recorded change from the last one (config/model-change.ts), the index is updated through that change
 * (speaker/vip-index-change.ts) and only the touched IPs' groups are made: no walk over every VIP.
 */
export class GroupReuse {
  private made = new Map<string, Made>();
  /** What every group reads besides its own objects: any change builds every group again. */
  private shared = '';
  /** Canonical spelling of each allocated address text seen in the last call. */
  private canonical = new Map<string, string>();
  /** The model of the last call and its index, kept up to date through a reload's change. */
  private model: HeraldModel | undefined;
  private live: LiveVipIndex | undefined;
  /** The groups the last call returned (sorted by IP, as the index's IPs). */
  private last: VipGroup[] = [];
  /** Calls that built the index (and compared every group) and calls that applied a reload's change. */
  readonly stats = { full: 0, changed: 0 };

  async groups(
    model: HeraldModel,
    allocations: ReadonlyMap<string, ServiceAllocation>,
    members: readonly MemberView[],
    semantics: EndpointSemantics,
    slicer: TimeSlicer,
  ): Promise<VipGroup[]> {
    const failing = failingByNode(members);
    const shared = JSON.stringify([semantics, [...failing]]);
    const live = this.live;
    this.live = undefined;
    const change = live && shared === this.shared ? modelChange(this.model, model) : undefined;
    const touched = change && live!.apply(change, allocations);
    if (touched) {
      // A reload's change: only the groups of the IPs it touched are made again.
      for (const ip of touched) {
        if (!live!.byIp.has(ip)) this.made.delete(ip);
        else this.made.set(ip, { ...makingOf(ip, live!), group: groupOf(ip, live!, failing, semantics) });
      }
      this.live = live;
      this.model = model;
      this.stats.changed++;
      // The last groups with the touched IPs' taken out, put in or replaced (same order as live.ips).
      const groups = withGroups(this.last, touched, (ip) => this.made.get(ip)?.group);
      recordMapChange(this.last, groups, touched);
      this.last = groups;
      return groups;
    }
    this.stats.full++;
    const known = this.canonical;
    const canonical = new Map<string, string>();
    const index = vipIndex(model, allocations, (text) => {
      let ip = canonical.get(text) ?? known.get(text);
      if (ip === undefined) ip = canonicalIp(text) ?? text;
      canonical.set(text, ip);
      return ip;
    });
    const before = shared === this.shared ? this.made : new Map<string, Made>();
    const made = new Map<string, Made>();
    if (slicer.due()) await slicer.pause();
    const groups = await mapSliced(
      index.ips,
      (ip) => {
        const making = makingOf(ip, index);
        const old = before.get(ip);
        const group = old && sameMaking(old, making) ? old.group : groupOf(ip, index, failing, semantics);
        made.set(ip, { ...making, group });
        return group;
      },
      slicer,
    );
    this.made = made;
    this.shared = shared;
    this.canonical = canonical;
    this.model = model;
    this.live = LiveVipIndex.build(model, allocations, index);
    this.last = groups;
    return groups;
  }
}

/** `groups` (sorted by IP) with each of `ips` replaced by its item now, inserted, or removed (none). */
export function withGroups<T extends { ip: string }>(
  groups: readonly T[],
  ips: ReadonlySet<string>,
  groupOf: (ip: string) => T | undefined,
): T[] {
  const out = groups.slice();
  for (const ip of ips) {
    const lo = lowerBoundByIp(out, ip);
    const group = groupOf(ip);
    const here = out[lo]?.ip === ip;
    if (group && here) out[lo] = group;
    else if (group) out.splice(lo, 0, group);
    else if (here) out.splice(lo, 1);
  }
  return out;
}

function makingOf(ip: string, index: VipIndex): Making {
  const { services, pool } = index.byIp.get(ip) ?? { services: [], pool: '' };
  const keys = services.map(serviceKey);
  return {
    services,
    pool,
    slices: keys.map((k) => index.slicesByKey.get(k)),
    checked: keys.map((k) => index.checked.has(k)),
  };
}

function sameMaking(a: Making, b: Making): boolean {
  return (
    a.pool === b.pool &&
    sameItems(a.services, b.services) &&
    sameItems(a.checked, b.checked) &&
    a.slices.length === b.slices.length &&
    a.slices.every((s, i) => s === b.slices[i] || (s !== undefined && sameItems(s, b.slices[i])))
  );
}
