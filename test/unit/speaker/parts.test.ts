import t from 'tap';
import type { VipDecision } from '../../../src/l2/desired.js';
import { FailoverClock } from '../../../src/metrics/failover.js';
import { ownerChanges } from '../../../src/speaker/owner-diff.js';
import { joinFirstSeed, keepJoining, seedCandidates } from '../../../src/speaker/seeds.js';
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

t.test('joinFirstSeed: first answer wins; grace bounds hanging joins; no seeds is joined', async (t) => {
  const calls: string[] = [];
  const target = {
    aliveCount: () => 1,
    join: async (seeds: string[]) => {
      calls.push(...seeds);
      return seeds[0] === 'good' && calls.filter((s) => s === 'good').length >= 2 ? 1 : 0;
    },
  };
  t.equal(await joinFirstSeed(target, ['bad', 'good'], 2000), true);
  t.ok(calls.includes('bad'), 'every seed is tried at once');
  t.equal(await joinFirstSeed(target, [], 10), true);
  const hanging = { aliveCount: () => 1, join: () => new Promise<number>(() => undefined) };
  const start = Date.now();
  t.equal(await joinFirstSeed(hanging, ['x'], 100), false);
  t.ok(Date.now() - start < 1000, 'the grace bounds a join that never returns');
  const aborted = new AbortController();
  setTimeout(() => aborted.abort(), 50);
  t.equal(
    await joinFirstSeed({ aliveCount: () => 1, join: async () => 0 }, ['x'], 10_000, aborted.signal),
    false,
  );
});

t.test('keepJoining: backs off, stops when joined, when others arrive, or when aborted', async (t) => {
  const at: number[] = [];
  const start = Date.now();
  const joined = await keepJoining(
    {
      aliveCount: () => 1,
      join: async () => {
        at.push(Date.now() - start);
        return at.length >= 3 ? 1 : 0;
      },
    },
    () => ['s'],
  );
  t.equal(joined, true);
  t.ok((at[2] ?? 0) - (at[1] ?? 0) > (at[1] ?? 0) - (at[0] ?? 0), 'the wait grows');
  t.equal(await keepJoining({ aliveCount: () => 2, join: async () => 0 }, () => ['s']), false);
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  t.equal(await keepJoining({ aliveCount: () => 1, join: async () => 0 }, () => [], abort.signal), false);
  t.same(seedCandidates(['a:1', 'b:1'], ['b:1', 'c:1'], ['a:1']), ['b:1', 'c:1']);
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
