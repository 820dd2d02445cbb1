import type { Counter } from 'prom-client';

/**
 * Feeds a prom-client counter from a total kept elsewhere (a kernel counter, a membership tally): each
 * call adds what grew since the last one for these labels (`seen` keeps the last totals). A total that
 * went down (its source was reset) is taken as the new base.
 */
export function totalsCounter<L extends string>(
  c: Counter<L>,
  seen: Map<string, number>,
  labels: Record<L, string>,
  total: number,
): void {
  const key = JSON.stringify(labels);
  const grew = total - (seen.get(key) ?? 0);
  if (grew > 0) c.inc(labels, grew);
  seen.set(key, total);
}
