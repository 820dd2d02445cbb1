import type { NodeVipAction } from './desired.js';
import { gainedBuckets } from './spread.js';
import { sameItems } from '../util/arrays.js';

/** What this node's XDP map currently holds for a VIP, as last applied by the reconciler. */
export type AppliedVip = NodeVipAction & { spread: boolean };

export interface L2Plan {
  /** Entries to write (new or changed). */
  set: Array<{ ip: string; want: AppliedVip }>;
  /** VIPs that no longer exist anywhere: remove their entries. */
  remove: string[];
  /** VIPs this node starts answering for everyone: announce to the segment. */
  takeovers: Array<{ ip: string; interfaces: string[] }>;
  /** Spread VIPs where this node gained buckets: tell the learned clients in them. */
  gained: Array<{ ip: string; buckets: bigint; interfaces: string[] }>;
  /** VIPs this node stopped answering. */
  released: string[];
}

/**
 * The difference between what the XDP map holds and what the decisions want, as a list of operations.
 * `unsure`: VIPs whose map entry may differ from `applied` (an apply that failed part-way wrote some of
 * its batches): written again, or deleted when no longer wanted, whatever `applied` says.
 * Pure, so that what triggers an announcement is table-tested apart from sockets and maps.
 */
export function planL2(
  applied: ReadonlyMap<string, AppliedVip>,
  desired: ReadonlyMap<string, AppliedVip>,
  unsure: ReadonlySet<string> = new Set(),
): L2Plan {
  const plan: L2Plan = { set: [], remove: [], takeovers: [], gained: [], released: [] };
  for (const ip of unsure) if (!desired.has(ip) && !applied.has(ip)) plan.remove.push(ip);
  for (const [ip, want] of desired) {
    const have = applied.get(ip);
    // The same state object (reconciler: one per action, kept across rounds): nothing to write or tell.
    if (have === want && !unsure.has(ip)) continue;
    if (!have || !sameEntry(have, want) || unsure.has(ip)) plan.set.push({ ip, want });
    const wasAnswering = have?.action === 'answer';
    if (want.action === 'answer') {
      if (want.spread) {
        const before = have?.action === 'answer' && have.spread ? have.buckets : 0n;
        const gained = gainedBuckets(before, want.buckets);
        if (gained !== 0n) plan.gained.push({ ip, buckets: gained, interfaces: want.interfaces });
      } else if (!wasAnswering || have.spread || !sameItems(have.interfaces, want.interfaces)) {
        plan.takeovers.push({ ip, interfaces: want.interfaces });
      }
    } else if (wasAnswering) {
      plan.released.push(ip);
    }
  }
  for (const [ip, have] of applied) {
    if (desired.has(ip)) continue;
    plan.remove.push(ip);
    if (have.action === 'answer') plan.released.push(ip);
  }
  return plan;
}

function sameEntry(a: AppliedVip, b: AppliedVip): boolean {
  if (a.action !== b.action || a.spread !== b.spread) return false;
  if (a.action === 'answer' && b.action === 'answer') {
    return a.buckets === b.buckets && sameItems(a.interfaces, b.interfaces);
  }
  return true;
}
