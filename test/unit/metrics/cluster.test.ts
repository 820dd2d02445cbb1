import t from 'tap';
import { clusterConcentration } from '../../../src/metrics/cluster.js';
import { utilizationRatio } from '../../../src/metrics/link.js';

const r = (node: string, bitsPerSecond: number, receivedAtMs = 1000) => ({
  node,
  bitsPerSecond,
  receivedAtMs,
});

t.test('busiest node ÷ mean over nodes', async (t) => {
  const c = clusterConcentration([r('a', 900), r('b', 100), r('c', 200)], { nowMs: 1000, maxAgeMs: 10_000 });
  t.equal(c.busiest, 'a');
  t.equal(c.meanBitsPerSecond, 400);
  t.equal(c.ratio, 900 / 400);
});

t.test('all traffic on one of N nodes gives N; even traffic gives 1; no traffic gives 0', async (t) => {
  t.equal(clusterConcentration([r('a', 5), r('b', 0), r('c', 0)], { nowMs: 1000, maxAgeMs: 10 }).ratio, 3);
  t.equal(clusterConcentration([r('a', 5), r('b', 5)], { nowMs: 1000, maxAgeMs: 10 }).ratio, 1);
  const none = clusterConcentration([r('a', 0)], { nowMs: 1000, maxAgeMs: 10 });
  t.equal(none.ratio, 0);
  t.equal(none.busiest, undefined);
  t.equal(clusterConcentration([], { nowMs: 0, maxAgeMs: 10 }).ratio, 0);
});

t.test(
  'members: silent members count as 0, reports from non-members and stale reports are ignored',
  async (t) => {
    const c = clusterConcentration([r('a', 100, 1000), r('b', 100, 0), r('x', 1e9, 1000)], {
      nowMs: 1000,
      maxAgeMs: 500,
      members: ['a', 'b', 'c'],
    });
    t.same(
      [...c.nodes],
      [
        ['a', 100],
        ['b', 0],
        ['c', 0],
      ],
    );
    t.equal(c.ratio, 3);
  },
);

t.test('ties break by node name, garbage rates are ignored', async (t) => {
  const c = clusterConcentration([r('b', 10), r('a', 10), r('z', NaN), r('y', -1)], {
    nowMs: 1000,
    maxAgeMs: 10,
  });
  t.equal(c.busiest, 'a');
  t.equal(c.nodes.size, 2);
});

t.test('utilization ratio', async (t) => {
  t.equal(utilizationRatio(5e8, 1e9), 0.5);
  t.equal(utilizationRatio(5e8, 0), undefined);
});
