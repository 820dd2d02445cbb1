import type { VipDecision } from '../l2/desired.js';
import {
  EMPTY_PLACEMENT,
  isNewerPlacement,
  mayTakeOverPlacedVip,
  type PlacementMap,
} from '../placement/map.js';
import type { MemberView } from './l2-inputs.js';

/**
 * This node's side of bandwidth placement: holds the newest placement map it has seen and makes a planned
 * move hand over without a double answer — a node that gains a placed VIP from a live previous owner waits
 * until that owner gossips that it applied the map (and so stopped answering) before it answers itself.
 */
export class SpeakerPlacement {
  private map: PlacementMap = EMPTY_PLACEMENT;
  /** Takeovers waiting for the previous owner: IP → previous owner and the map version of the move. */
  private readonly pending = new Map<string, { from: string; version: number }>();

  current(): PlacementMap {
    return this.map;
  }

  /** Keeps `map` when it is newer than the one held; true when it was. */
  offer(map: PlacementMap): boolean {
    if (!isNewerPlacement(map, this.map)) return false;
    this.map = map;
    return true;
  }

  /** IP → placed node, as the L2 decision takes it. */
  placedOwners(): Map<string, string> {
    return new Map([...this.map.entries].map(([ip, e]) => [ip, e.node]));
  }

  /**
   * The VIPs this node owns in `decisions` but must not answer yet: placed takeovers from a previous owner
   * that is alive and has not applied the map version of the move. Call once per decision round.
   */
  heldTakeovers(
    self: string,
    previous: readonly VipDecision[],
    decisions: readonly VipDecision[],
    members: readonly MemberView[],
  ): Set<string> {
    // Without placed VIPs nothing waits (the common case: no map per round over thousands of VIPs).
    if (this.pending.size === 0 && !decisions.some((d) => d.placement)) return new Set();
    const before = new Map(previous.map((d) => [d.ip, d.owner]));
    const byName = new Map(members.map((m) => [m.name, m]));
    const held = new Set<string>();
    const seen = new Set<string>();
    for (const d of decisions) {
      seen.add(d.ip);
      if (d.owner !== self || (d.mode !== 'single' && d.mode !== 'flows')) {
        this.pending.delete(d.ip);
        continue;
      }
      const from = before.get(d.ip);
      if (d.placement && from !== undefined && from !== self && !this.pending.has(d.ip)) {
        this.pending.set(d.ip, { from, version: this.map.version });
      }
      const wait = this.pending.get(d.ip);
      if (!wait) continue;
      const prev = byName.get(wait.from);
      const ready = mayTakeOverPlacedVip({
        movedInVersion: wait.version,
        previousOwner: wait.from,
        previousOwnerAlive: prev?.alive ?? false,
        previousOwnerAppliedVersion: prev?.meta?.placementVersion,
      });
      if (ready) this.pending.delete(d.ip);
      else held.add(d.ip);
    }
    for (const ip of this.pending.keys()) if (!seen.has(ip)) this.pending.delete(ip);
    return held;
  }
}

/** The decisions as this node applies them: held VIPs are suppressed here until their handover is done. */
export function withoutHeld(
  decisions: readonly VipDecision[],
  held: ReadonlySet<string>,
  self: string,
): VipDecision[] {
  if (held.size === 0) return [...decisions];
  return decisions.map((d) => {
    if (!held.has(d.ip)) return d;
    const shares = new Map(d.shares);
    shares.delete(self);
    return { ...d, shares };
  });
}
