import type { HeraldModel } from '../config/index.js';
import { decideVip, type VipDecision } from '../l2/desired.js';
import type { EndpointSemantics } from '../l2/endpoints.js';
import { redecideVip } from '../l2/redecide.js';
import { mapSliced, type TimeSlicer } from '../util/slices.js';
import { sameItems } from '../util/arrays.js';
import { GroupReuse, withGroups } from './group-reuse.js';
import { mapChange, recordMapChange } from '../util/map-change.js';
import { lowerBoundByIp } from '../util/sorted.js';
import { l2Context, type MemberView, type ServiceAllocation, type VipGroup, vipInput } from './l2-inputs.js';

/** What one decision round decides from (a snapshot: the round works on it while the world moves on). */
export interface RoundInputs {
  model: HeraldModel;
  allocations: ReadonlyMap<string, ServiceAllocation>;
  members: readonly MemberView[];
  semantics: EndpointSemantics;
  /** The placement map in force: compared by identity (a new map is a new object). */
  placement: object;
  /** Its owners (IP → node), asked for only when the decisions must be computed again. */
  placedOwners: () => ReadonlyMap<string, string>;
}

export interface DeciderStats {
  /** Rounds that reused the decisions of an earlier round with the same inputs. */
  hits: number;
  /** Rounds that computed the decisions again (each VIP's, or only those of changed groups). */
  computed: number;
  /** Decisions of unchanged groups taken over from an earlier round by the rounds that computed. */
  reused: number;
  /**
   * Decisions computed from an earlier round's over other members, asking only the members that changed
   * (l2/redecide.ts): what a membership change costs instead of deciding every VIP from nothing.
   */
  redecided: number;
}

/** Distinct member views kept: a round may decide with a few variants of one view (gossip, corrected). */
const DECISIONS_KEPT = 4;

/**
 * The speaker's per-VIP work without holding the event loop: a round whose inputs did not change (the
 * periodic resync, a gossip update that changes nothing the decision reads) reuses the decisions it
 * computed before, unchanged objects included; a round whose inputs changed computes every VIP again in
 * time slices, so the heartbeat, gossip and the owner watch run between slices. Same decisions as
 * decideVips (l2-part.ts), which stays the pure reference.
 */
export class RoundDecider {
  readonly stats: DeciderStats = { hits: 0, computed: 0, reused: 0, redecided: 0 };
  private readonly grouper = new GroupReuse();
  private groupsCache:
    | {
        model: HeraldModel;
        allocations: ReadonlyMap<string, ServiceAllocation>;
        semantics: EndpointSemantics;
        failing: string;
        groups: VipGroup[];
      }
    | undefined;
  private decisionsCache: Array<{
    model: HeraldModel;
    allocations: ReadonlyMap<string, ServiceAllocation>;
    groups: readonly VipGroup[];
    members: string;
    /** Each member's part of `members`, by name. */
    memberKeys: ReadonlyMap<string, string>;
    placement: object;
    decisions: VipDecision[];
  }> = [];

  /** The VIP groups (groupVips), computed again only when the model, allocations or failing checks change. */
  async groups(inputs: RoundInputs, slicer: TimeSlicer): Promise<VipGroup[]> {
    const { model, allocations, semantics, members } = inputs;
    const failing = failingKey(members);
    const c = this.groupsCache;
    if (
      c &&
      c.model === model &&
      c.allocations === allocations &&
      c.semantics === semantics &&
      c.failing === failing
    )
      return c.groups;
    const groups = await this.grouper.groups(model, allocations, members, semantics, slicer);
    this.groupsCache = { model, allocations, semantics, failing, groups };
    return groups;
  }

  /** Every VIP's decision for these inputs and groups (the same array as before when nothing changed). */
  async decide(inputs: RoundInputs, groups: readonly VipGroup[], slicer: TimeSlicer): Promise<VipDecision[]> {
    const { model, allocations, placement } = inputs;
    const members = membersKey(inputs.members);
    const i = this.decisionsCache.findIndex(
      (c) =>
        c.groups === groups &&
        c.model === model &&
        c.allocations === allocations &&
        c.placement === placement &&
        c.members === members,
    );
    const hit = this.decisionsCache[i];
    if (hit) {
      this.stats.hits++;
      this.decisionsCache.splice(i, 1);
      this.decisionsCache.unshift(hit);
      return hit.decisions;
    }
    this.stats.computed++;
    const memberKeys = memberKeysOf(inputs.members);
    // Decisions of an earlier round in the same context (the same nodes, advertisements and pools) are
    // kept for every group that is the same object (a reload that added a service: decideVip reads
    // nothing else), or decided again from it for the members that changed (a membership change).
    const sameContext = (c: (typeof this.decisionsCache)[number]) =>
      c.placement === placement &&
      sameItems(c.model.nodes, model.nodes) &&
      sameItems(c.model.l2Advertisements, model.l2Advertisements) &&
      sameItems(c.model.pools, model.pools);
    const base =
      this.decisionsCache.find((c) => c.members === members && sameContext(c)) ??
      this.decisionsCache.find(sameContext);
    const changed =
      base && base.members !== members ? changedMembers(base.memberKeys, memberKeys) : undefined;
    const context = l2Context(model, inputs.members);
    const placed = inputs.placedOwners();
    // A reload that changed a few groups (GroupReuse records their IPs): only those are decided.
    const touched = base && changed === undefined ? mapChange(base.groups, groups) : undefined;
    if (base && touched) {
      let decided = 0;
      const decisions = withGroups(base.decisions, touched, (ip) => {
        const g = groups[lowerBoundByIp(groups, ip)];
        if (g?.ip !== ip) return undefined;
        decided++;
        return decideVip(vipInput(g, context, placed), context.nodes);
      });
      this.stats.reused += decisions.length - decided;
      recordMapChange(base.decisions, decisions, touched);
      this.decisionsCache.unshift({ model, allocations, groups, members, memberKeys, placement, decisions });
      this.decisionsCache.length = Math.min(this.decisionsCache.length, DECISIONS_KEPT);
      return decisions;
    }
    const before = base ? new Map(base.groups.map((g, i) => [g, base.decisions[i]])) : undefined;
    const byName = new Map(context.nodes.map((n) => [n.name, n]));
    // Names are unique in gossip; redecideVip relies on it.
    const redecide = changed !== undefined && byName.size === context.nodes.length;
    const decisions = await mapSliced(
      groups,
      (g) => {
        const old = before?.get(g);
        if (old && changed === undefined) {
          this.stats.reused++;
          return old;
        }
        const input = vipInput(g, context, placed);
        const again = old && redecide ? redecideVip(old, input, context.nodes, byName, changed) : undefined;
        if (again) {
          this.stats.redecided++;
          return again;
        }
        return decideVip(input, context.nodes);
      },
      slicer,
    );
    this.decisionsCache.unshift({ model, allocations, groups, members, memberKeys, placement, decisions });
    this.decisionsCache.length = Math.min(this.decisionsCache.length, DECISIONS_KEPT);
    return decisions;
  }
}

/** What of the members the decisions read (buildL2Inputs, decideL2): names, liveness, interfaces, labels. */
export function membersKey(members: readonly MemberView[]): string {
  return JSON.stringify(
    members.map((m) => [m.name, m.alive, m.meta ? [m.meta.interfaces, m.meta.labels ?? null] : null]),
  );
}

/** membersKey's part of each member, by name. */
function memberKeysOf(members: readonly MemberView[]): Map<string, string> {
  return new Map(
    members.map((m) => [
      m.name,
      JSON.stringify([m.alive, m.meta ? [m.meta.interfaces, m.meta.labels ?? null] : null]),
    ]),
  );
}

/** Members that joined, left or changed between two rounds' views. */
function changedMembers(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [name, key] of a) if (b.get(name) !== key) out.add(name);
  for (const name of b.keys()) if (!a.has(name)) out.add(name);
  return out;
}

/** What of the members the groups read: who gossips failing health checks. */
export function failingKey(members: readonly MemberView[]): string {
  return JSON.stringify(members.flatMap((m) => (m.meta?.failing ? [[m.name, m.meta.failing]] : [])));
}
