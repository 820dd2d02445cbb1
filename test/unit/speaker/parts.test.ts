import t from 'tap';
import type { VipDecision } from '../../../src/l2/desired.js';
import { FailoverClock } from '../../../src/metrics/failover.js';
import { ownerChanges } from '../../../src/speaker/owner-diff.js';
import { pollUntil } from '../../../src/util/wait.js';

const decision = (ip: string, holders: Record<string, bigint>, owner?: string): VipDecision => ({
  ip,
  services: [`default/${ip}`],
  mode: Object.keys(holders).length > 1 ? 'spread' : Object.keys(holders).length === 1 ? 'single' : 'none',
  ...(owner ? { owner } : {}),
  shares: new Map(Object.entries(holders)),
  eligible: Object.keys(holders),
  interfaces: new Map(),
  reason: 'test',
});

t.test('ownerChanges: new VIPs and changed holder sets, nothing else', async (t) => {
  const before = [
    decision('1', { a: 1n }, 'a'),
    decision('2', { b: 1n }, 'b'),
    decision('3', { a: 1n, b: 2n }, 'b'),
  ];
  const after = [
    decision('1', { a: 1n }, 'a'),
    decision('2', { c: 1n }, 'c'),
    decision('3', { b: 3n, a: 5n }, 'a'),
    decision('4', {}),
  ];
  t.same(
    ownerChanges(before, after).map((c) => [c.ip, c.from, c.to, c.mode]),
    [
      ['2', 'b', 'c', 'single'],
      ['4', undefined, undefined, 'none'],
    ],
    'same holders with other buckets is no owner change; a new VIP is one',
  );
  t.same(ownerChanges(after, after), []);
  // Rounds usually list the VIPs in the same order; another order (groups made again) gives the same changes.
  t.same(
    ownerChanges([before[2]!, before[0]!, before[1]!], after).map((c) => [c.ip, c.from, c.to]),
    [
      ['2', 'b', 'c'],
      ['4', undefined, undefined],
    ],
    'VIPs in another order are matched by IP',
  );
  t.same(
    ownerChanges([before[1]!, before[2]!], after).map((c) => c.ip),
    ['1', '2', '4'],
    'a VIP missing before counts as new, the others by IP',
  );
});

t.test('FailoverClock: first suspicion of the old owner to this node taking over', async (t) => {
  const observed: number[] = [];
  const clock = new FailoverClock({ observe: (s) => observed.push(s) });
  clock.memberChanged('suspect', 'b', 1000);
  clock.memberChanged('dead', 'b', 1500);
  t.equal(clock.ownerChanged('b', 'c', 'a', 1800), undefined, 'another node took it');
  t.equal(clock.ownerChanged('b', 'a', 'a', 1800), 0.8, 'from the first suspicion');
  clock.memberChanged('alive', 'b', 2000);
  t.equal(clock.ownerChanged('b', 'a', 'a', 2100), undefined, 'b came back: no failover');
  t.equal(clock.ownerChanged(undefined, 'a', 'a', 2100), undefined, 'a new VIP is no failover');
  t.same(observed, [0.8]);
});

t.test('pollUntil: fixed interval by default, backoff up to a bound, abort', async (t) => {
  const gaps: number[] = [];
  let last = Date.now();
  await pollUntil(
    5000,
    () => {
      const now = Date.now();
      gaps.push(now - last);
      last = now;
      return gaps.length > 4;
    },
    { intervalMs: 10, maxIntervalMs: 40 },
  );
  t.ok((gaps[4] ?? 0) >= 35 && (gaps[4] ?? 0) < 200, `capped backoff (${gaps.join(',')})`);
  const abort = new AbortController();
  abort.abort();
  t.equal(await pollUntil(1000, () => false, { signal: abort.signal }), undefined);
});
