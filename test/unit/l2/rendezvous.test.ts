import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { rendezvousFirstTwo, rendezvousOrder, rendezvousScore } from '../../../src/l2/rendezvous.js';

/** The definition, written out plainly: sha256(node#key)'s first 8 bytes as a 64-bit number, highest first. */
function straightScore(key: string, node: string): bigint {
  return createHash('sha256').update(`${node}#${key}`).digest().readBigUInt64BE(0);
}
function straightOrder(key: string, nodes: readonly string[]): string[] {
  return [...new Set(nodes)]
    .map((node) => ({ node, score: straightScore(key, node) }))
    .sort((a, b) => (a.score === b.score ? (a.node < b.node ? -1 : 1) : a.score > b.score ? -1 : 1))
    .map((s) => s.node);
}

const nodeName = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'n1', 'n2', 'node-10'),
  fc.string({ maxLength: 12 }),
);
const key = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }));

t.test(
  'scores and orders equal the plain sha256 definition (cached or not, asked again or not)',
  async (t) => {
    fc.assert(
      fc.property(key, fc.array(nodeName, { maxLength: 12 }), (k, nodes) => {
        const expected = straightOrder(k, nodes);
        // Twice: the second answer comes from the cache.
        for (let i = 0; i < 2; i++) {
          t.strictSame(rendezvousOrder(k, nodes), expected);
          for (const n of nodes) t.equal(rendezvousScore(k, n), straightScore(k, n));
        }
        t.strictSame(rendezvousFirstTwo(k, nodes), expected.slice(0, 2));
        // A subset in another order: the same relative order.
        const sub = [...nodes].reverse().filter((_, i) => i % 2 === 0);
        t.strictSame(rendezvousOrder(k, sub), straightOrder(k, sub));
      }),
      { numRuns: 300 },
    );
  },
);

t.test('200 nodes, from any iterable', async (t) => {
  const nodes = Array.from({ length: 200 }, (_, i) => `n${i}`);
  t.strictSame(rendezvousOrder('10.0.0.1', nodes), straightOrder('10.0.0.1', nodes));
  t.strictSame(rendezvousOrder('10.0.0.1', new Set(nodes)), straightOrder('10.0.0.1', nodes), 'any iterable');
});
