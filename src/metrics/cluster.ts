/** What the cluster knows about one node's load-balancer ingress (from gossip, or local). */
export interface NodeRate {
  node: string;
  bitsPerSecond: number;
  /** When this node's report was received (ms, same clock as `nowMs`). */
  receivedAtMs: number;
}

export interface Concentration {
  /** Busiest node's VIP ingress ÷ mean over nodes; 1 = perfectly even; 0 when there is no traffic. */
  ratio: number;
  busiest: string | undefined;
  meanBitsPerSecond: number;
  /** Ingress per counted node (nodes without a fresh report count as 0). */
  nodes: Map<string, number>;
}

/**
 * Cluster concentration of VIP ingress. Pure. Counts `members` when given (alive nodes; one without a
 * fresh report counts as 0 traffic), else every node with a fresh report. Reports older than `maxAgeMs`
 * are ignored, as are reports from nodes not in `members`. Ties for busiest break by node name.
 */
export function clusterConcentration(
  reports: Iterable<NodeRate>,
  opts: { nowMs: number; maxAgeMs: number; members?: Iterable<string> },
): Concentration {
  const fresh = new Map<string, number>();
  for (const r of reports) {
    if (opts.nowMs - r.receivedAtMs > opts.maxAgeMs) continue;
    if (!(r.bitsPerSecond >= 0) || !Number.isFinite(r.bitsPerSecond)) continue;
    fresh.set(r.node, r.bitsPerSecond);
  }
  const nodes = new Map<string, number>();
  if (opts.members) for (const m of opts.members) nodes.set(m, fresh.get(m) ?? 0);
  else for (const [n, bps] of fresh) nodes.set(n, bps);
  let total = 0;
  let busiest: string | undefined;
  let max = -1;
  for (const [n, bps] of [...nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    total += bps;
    if (bps > max) {
      max = bps;
      busiest = n;
    }
  }
  const mean = nodes.size > 0 ? total / nodes.size : 0;
  if (mean <= 0) return { ratio: 0, busiest: undefined, meanBitsPerSecond: 0, nodes };
  return { ratio: max / mean, busiest, meanBitsPerSecond: mean, nodes };
}
