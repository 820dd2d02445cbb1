import type { HeraldModel } from '../config/index.js';
import type { VipDecision } from '../l2/desired.js';
import type { EndpointSemantics } from '../l2/endpoints.js';
import type { TimeSlicer } from '../util/slices.js';
import { sameItems } from '../util/arrays.js';
import { GroupReuse } from './group-reuse.js';
import type { MemberView, ServiceAllocation, VipGroup } from './l2-inputs.js';
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
  /** Rounds that computed the decisions again (each VIP's, or only those of changed groups). */
  computed: number;
  /** Decisions of unchanged groups taken over from an earlier round by the rounds that computed. */
  reused: number;
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
  readonly stats: DeciderStats = { hits: 0, computed: 0, reused: 0 };
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
    // A round with the same context (a reload that added a service) keeps the decision of every group
    // that is the same object as in that round: decideVip reads nothing else.
    const base = this.decisionsCache.find(
      (c) =>
        c.members === members &&
        c.placement === placement &&
        sameItems(c.model.nodes, model.nodes) &&
        sameItems(c.model.l2Advertisements, model.l2Advertisements) &&
        sameItems(c.model.pools, model.pools),
    );
    const before = base ? new Map(base.groups.map((g, i) => [g, base.decisions[i]])) : undefined;
    const decisions = await decideVipsSliced(
      model,
      inputs.members,
      groups,
      inputs.placedOwners(),
      slicer,
      (g) => {
        const decision = before?.get(g);
        if (decision) this.stats.reused++;
        return decision;
      },
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
