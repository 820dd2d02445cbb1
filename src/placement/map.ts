import { rendezvousOrder } from '../l2/rendezvous.js';
import type { PlacementEntry } from './decide.js';

/**
 * The cluster's placement decisions as published by the coordinator. Every speaker applies the newest
 * version it has; a VIP without an entry keeps its rendezvous owner.
 */
export interface PlacementMap {
  version: number;
  /** The node that decided this version. */
  coordinator: string;
  entries: ReadonlyMap<string, PlacementEntry>;
}

export const EMPTY_PLACEMENT: PlacementMap = { version: 0, coordinator: '', entries: new Map() };

/** True when `candidate` supersedes `current`: higher version, or the same version from a greater name. */
export function isNewerPlacement(candidate: PlacementMap, current: PlacementMap): boolean {
  if (candidate.version !== current.version) return candidate.version > current.version;
  return candidate.coordinator > current.coordinator;
}

const COORDINATOR_KEY = 'herald.dev/placement-coordinator';

/**
 * The one node that decides placement: the rendezvous winner of a fixed key among the alive members.
 * Every speaker computes the same from the same membership; while views differ for a moment, two
 * coordinators may publish, and the version order picks one map everywhere.
 */
export function placementCoordinator(alive: Iterable<string>): string | undefined {
  return rendezvousOrder(COORDINATOR_KEY, alive)[0];
}

/** The version a coordinator publishes next: above everything it has seen, so it wins everywhere. */
export function nextPlacementVersion(current: PlacementMap): number {
  return current.version + 1;
}

/**
 * A planned move hands over without a double answer: the new owner starts answering a moved VIP only
 * once the previous owner has applied a map at least as new as the one that moved it (the previous owner
 * stops answering as soon as it applies the map), or once the previous owner is no longer alive.
 */
export function mayTakeOverPlacedVip(opts: {
  movedInVersion: number;
  previousOwner: string;
  previousOwnerAlive: boolean;
  previousOwnerAppliedVersion: number | undefined;
}): boolean {
  if (!opts.previousOwnerAlive) return true;
  return (opts.previousOwnerAppliedVersion ?? 0) >= opts.movedInVersion;
}
