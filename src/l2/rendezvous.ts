// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { createHash } = process.getBuiltinModule('node:crypto');

/**
 * Highest-random-weight (rendezvous) hashing: every node gets a score for a key and the order of scores
 * decides. All speakers compute the same order from the same inputs without talking to each other, and
 * removing a node only moves the keys that node held.
 */
export function rendezvousScore(key: string, node: string): bigint {
  const cacheKey = `${node}#${key}`;
  let score = scores.get(cacheKey);
  if (score === undefined) {
    score = createHash('sha256').update(node).update('#').update(key).digest().readBigUInt64BE(0);
    if (scores.size >= SCORE_CACHE_MAX) scores.clear();
    scores.set(cacheKey, score);
  }
  return score;
}

/**
 * Scores are pure and asked for again on every decision round (VIPs × nodes sha256 each time, the bulk of
 * a round at 10,000 VIPs): kept in a bounded cache, dropped whole when full.
 */
const scores = new Map<string, bigint>();
const SCORE_CACHE_MAX = 200_000;

/** Nodes ordered from most to least preferred for `key` (ties, practically impossible, by name). */
export function rendezvousOrder(key: string, nodes: Iterable<string>): string[] {
  const scored = [...new Set(nodes)].map((node) => ({ node, score: rendezvousScore(key, node) }));
  scored.sort((a, b) => (a.score === b.score ? (a.node < b.node ? -1 : 1) : a.score > b.score ? -1 : 1));
  return scored.map((s) => s.node);
}
