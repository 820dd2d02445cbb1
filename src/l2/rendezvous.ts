// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { hash } = process.getBuiltinModule('node:crypto');

/**
 * Highest-random-weight (rendezvous) hashing: every node gets a score for a key and the order of scores
 * decides. All speakers compute the same order from the same inputs without talking to each other, and
 * removing a node only moves the keys that node held.
 *
 * A node's score for a key is the first 8 bytes of sha256(node + "#" + key), big-endian. It is kept as its
 * two 32-bit halves (compared high half first: the order of the 64-bit number) in a cache of per-key
 * tables: every round asks for the scores of every VIP × node again, and a membership change asks for the
 * same ones (only a node never seen before is hashed).
 */
export function rendezvousScore(key: string, node: string): bigint {
  const s = scoreOf(tableOf(key), key, node);
  return (BigInt(s.hi) << 32n) | BigInt(s.lo);
}

interface Score {
  hi: number;
  lo: number;
}

/** Per key, each node's score; dropped whole when it holds SCORE_CACHE_MAX scores. */
const tables = new Map<string, Map<string, Score>>();
let cachedScores = 0;
const SCORE_CACHE_MAX = 200_000;

function tableOf(key: string): Map<string, Score> {
  let table = tables.get(key);
  if (table === undefined) {
    table = new Map();
    tables.set(key, table);
  }
  return table;
}

function scoreOf(table: Map<string, Score>, key: string, node: string): Score {
  let score = table.get(node);
  if (score === undefined) {
    // One-shot hash: about half the cost of a Hash object per score (a node never seen scores every VIP).
    const digest = hash('sha256', `${node}#${key}`, 'buffer');
    score = { hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
    if (cachedScores >= SCORE_CACHE_MAX) {
      tables.clear();
      cachedScores = 0;
      table = tableOf(key);
    }
    table.set(node, score);
    cachedScores++;
  }
  return score;
}

/** a before b: the higher score first; ties (practically impossible) by name. */
function before(a: Score, an: string, b: Score, bn: string): boolean {
  if (a.hi !== b.hi) return a.hi > b.hi;
  if (a.lo !== b.lo) return a.lo > b.lo;
  return an < bn;
}

/** Nodes ordered from most to least preferred for `key` (ties, practically impossible, by name). */
export function rendezvousOrder(key: string, nodes: Iterable<string>): string[] {
  const table = tableOf(key);
  const names: string[] = [];
  const scores: Score[] = [];
  for (const node of nodes) {
    if (names.includes(node)) continue;
    const s = scoreOf(table, key, node);
    // Insertion: the lists are a VIP's eligible nodes, a handful.
    let i = names.length;
    while (i > 0 && before(s, node, scores[i - 1] as Score, names[i - 1] as string)) i--;
    names.splice(i, 0, node);
    scores.splice(i, 0, s);
  }
  return names;
}

/**
 * The first two of rendezvousOrder(key, nodes) (fewer for fewer nodes), in one pass without sorting: what
 * an owner and its successor need, asked for every VIP in every round.
 */
export function rendezvousFirstTwo(key: string, nodes: Iterable<string>): string[] {
  const table = tableOf(key);
  let first: string | undefined;
  let firstScore: Score | undefined;
  let second: string | undefined;
  let secondScore: Score | undefined;
  for (const node of nodes) {
    if (node === first || node === second) continue;
    const s = scoreOf(table, key, node);
    if (first === undefined || before(s, node, firstScore as Score, first)) {
      second = first;
      secondScore = firstScore;
      first = node;
      firstScore = s;
    } else if (second === undefined || before(s, node, secondScore as Score, second)) {
      second = node;
      secondScore = s;
    }
  }
  return first === undefined ? [] : second === undefined ? [first] : [first, second];
}
