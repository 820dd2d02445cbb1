import type { VipDecision } from '../l2/desired.js';

export interface OwnerChange {
  ip: string;
  services: readonly string[];
  from: string | undefined;
  to: string | undefined;
  mode: VipDecision['mode'];
}

function sameHolders(a: VipDecision, b: VipDecision): boolean {
  if (a === b) return true;
  if (a.shares.size !== b.shares.size) return false;
  for (const node of a.shares.keys()) if (!b.shares.has(node)) return false;
  return true;
}

/**
 * The VIPs whose answering node set changed between two decision rounds (a new VIP counts as changed).
 * `from`/`to` are the single owners (in spread mode the node holding the most buckets). Pure.
 */
export function ownerChanges(previous: readonly VipDecision[], next: readonly VipDecision[]): OwnerChange[] {
  if (previous === next) return [];
  // Rounds over the same VIP groups list the VIPs in the same order: the map only for those that moved.
  let before: Map<string, VipDecision> | undefined;
  const earlier = (d: VipDecision, i: number) => {
    const same = previous[i];
    if (same?.ip === d.ip) return same;
    before ??= new Map(previous.map((p) => [p.ip, p]));
    return before.get(d.ip);
  };
  const changes: OwnerChange[] = [];
  for (let i = 0; i < next.length; i++) {
    const d = next[i] as VipDecision;
    const prev = earlier(d, i);
    if (prev && sameHolders(prev, d)) continue;
    changes.push({ ip: d.ip, services: d.services, from: prev?.owner, to: d.owner, mode: d.mode });
  }
  return changes;
}
