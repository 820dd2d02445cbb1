import type { HeraldModel } from '../config/index.js';
import type { VipDecision } from '../l2/desired.js';
import type { EndpointSemantics } from '../l2/endpoints.js';
import { mapSliced, type TimeSlicer } from '../util/slices.js';
import { type MemberView, type ServiceAllocation, type VipGroup, vipGrouping } from './l2-inputs.js';
import { decideVipsSliced } from './l2-part.js';

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
  /** Rounds that computed every VIP's decision. */
  computed: number;
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
  readonly stats: DeciderStats = { hits: 0, computed: 0 };
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
    const { ips, group } = vipGrouping(model, allocations, members, semantics);
    if (slicer.due()) await slicer.pause();
    const groups = await mapSliced(ips, group, slicer);
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
    const decisions = await decideVipsSliced(
      model,
      allocations,
      inputs.members,
      groups,
      inputs.placedOwners(),
      slicer,
    );
    this.decisionsCache.unshift({ model, allocations, groups, members, placement, decisions });
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

/** What of the members the groups read: who gossips failing health checks. */
export function failingKey(members: readonly MemberView[]): string {
  return JSON.stringify(members.flatMap((m) => (m.meta?.failing ? [[m.name, m.meta.failing]] : [])));
}
