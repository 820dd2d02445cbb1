/**
 * Health verdicts as they travel in a node's gossip metadata: the services whose check fails on that
 * node, with a short reason. Passing services are not listed, so the common case costs nothing.
 */

/** Listed instead of the services when even their names do not fit: every checked service fails. */
export const ALL_FAILING = '*';
const MAX_REASON = 40;

/**
 * The `failing` map shrunk to fit `budget` bytes of JSON: reasons cut short, then dropped, then one
 * entry saying every check fails (safe: the node only withdraws from checked services).
 */
export function encodeFailing(failing: ReadonlyMap<string, string>, budget: number): Record<string, string> {
  const sorted = [...failing].sort(([a], [b]) => (a < b ? -1 : 1));
  const attempts: Array<() => Record<string, string>> = [
    () => Object.fromEntries(sorted.map(([s, why]) => [s, why.slice(0, MAX_REASON)])),
    () => Object.fromEntries(sorted.map(([s]) => [s, ''])),
    () => ({ [ALL_FAILING]: 'too many failing checks to list' }),
  ];
  for (const attempt of attempts) {
    const body = attempt();
    if (Buffer.byteLength(JSON.stringify(body)) <= budget) return body;
  }
  return { [ALL_FAILING]: '' };
}

/**
 * Nodes that fail a check of any of `services` (the services sharing one VIP), with the reason. Only
 * services that have a check count: a node gossiping "everything fails" stays eligible for the rest.
 */
export function unhealthyNodes(
  services: readonly string[],
  checked: ReadonlySet<string>,
  failingByNode: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [node, failing] of failingByNode) {
    for (const service of services) {
      if (!checked.has(service)) continue;
      const why = failing[service] ?? failing[ALL_FAILING];
      if (why === undefined) continue;
      out.set(node, why === '' ? 'failing' : services.length > 1 ? `${service}: ${why}` : why);
      break;
    }
  }
  return out;
}

/** Per checked service, how many of the nodes' gossiped `failing` maps fail it (metrics). */
export function failingCounts(
  failingByNode: ReadonlyArray<Readonly<Record<string, string>>>,
  checked: Iterable<string>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const service of checked) {
    out.set(service, failingByNode.filter((f) => (f[service] ?? f[ALL_FAILING]) !== undefined).length);
  }
  return out;
}
