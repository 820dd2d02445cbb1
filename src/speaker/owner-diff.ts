import type { VipDecision } from '../l2/desired.js';

export interface OwnerChange {
  ip: string;
  services: readonly string[];
  from: string | undefined;
  to: string | undefined;
  mode: VipDecision['mode'];
}

const holders = (d: VipDecision | undefined): string => [...(d?.shares.keys() ?? [])].sort().join(',');

/**
 * The VIPs whose answering node set changed between two decision rounds (a new VIP counts as changed).
 * `from`/`to` are the single owners (in spread mode the node holding the most buckets). Pure.
 */
export function ownerChanges(previous: readonly VipDecision[], next: readonly VipDecision[]): OwnerChange[] {
  const before = new Map(previous.map((d) => [d.ip, d]));
  const changes: OwnerChange[] = [];
  for (const d of next) {
    const prev = before.get(d.ip);
    if (prev && holders(prev) === holders(d)) continue;
    changes.push({ ip: d.ip, services: d.services, from: prev?.owner, to: d.owner, mode: d.mode });
  }
  return changes;
}
