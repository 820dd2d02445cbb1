import t from 'tap';
import { JoinError, type SeedOutcome, type SeedResult } from '../../../src/membership/index.js';
import {
  joinFirstSeed,
  keepJoining,
  nextStanding,
  seedCandidates,
  seedResult,
  type SeedTarget,
  type Standing,
  standingOf,
} from '../../../src/speaker/seeds.js';

/** A target whose seeds answer `outcome(seed, attempt)` after `afterMs`; counts the attempts per seed. */
function target(
  outcome: (seed: string, attempt: number) => SeedOutcome,
  opts: { afterMs?: number; alive?: () => number } = {},
): SeedTarget & { attempts: Map<string, number[]> } {
  const attempts = new Map<string, number[]>();
  const start = Date.now();
  return {
    attempts,
    aliveCount: opts.alive ?? (() => 1),
    contact: async (seed) => {
      const mine = attempts.get(seed) ?? [];
      attempts.set(seed, [...mine, Date.now() - start]);
      if (opts.afterMs) await new Promise((r) => setTimeout(r, opts.afterMs));
      return { seed, outcome: outcome(seed, mine.length) };
    },
  };
}

t.test('standingOf: joined wins, then refused, then waiting (busy or unfinished), else alone', async (t) => {
  const cases: Array<[Array<SeedOutcome | undefined>, Standing]> = [
    [['unreachable', 'rejected', 'joined'], 'joined'],
    [['busy', 'rejected'], 'refused'],
    [['unreachable', 'conflict'], 'refused'],
    [['unreachable', 'busy'], 'waiting'],
    [['unreachable', undefined], 'waiting'],
    [['unreachable', 'unreachable'], 'alone'],
    [[], 'alone'],
  ];
  for (const [outcomes, want] of cases) t.equal(standingOf(outcomes), want, outcomes.join(','));
});

t.test(
  'nextStanding: joined is final; refusal silences; only all-unreachable frees a waiting node',
  async (t) => {
    const cases: Array<[Standing, Standing, Standing]> = [
      ['joined', 'refused', 'joined'],
      ['refused', 'joined', 'joined'],
      ['alone', 'refused', 'refused'],
      ['alone', 'waiting', 'alone'],
      ['waiting', 'alone', 'alone'],
      ['waiting', 'refused', 'refused'],
      ['refused', 'alone', 'refused'],
      ['refused', 'waiting', 'refused'],
    ];
    for (const [current, observed, want] of cases)
      t.equal(nextStanding(current, observed), want, `${current} + ${observed}`);
  },
);

t.test('seedResult: what a JoinError says of the seed, anything else is unreachable', async (t) => {
  const err = new JoinError([
    { seed: 's', outcome: 'busy', error: 's took the connection but sent no state' },
  ]);
  t.equal(seedResult('s', err).outcome, 'busy');
  t.equal(seedResult('s', new Error('ECONNREFUSED')).outcome, 'unreachable');
});

t.test('joinFirstSeed: first answer wins; grace bounds hanging contacts; no seeds is joined', async (t) => {
  const good = target((seed, n) => (seed === 'good' && n >= 1 ? 'joined' : 'unreachable'));
  t.equal((await joinFirstSeed(good, ['bad', 'good'], 2000)).standing, 'joined');
  t.ok(good.attempts.has('bad'), 'every seed is tried at once');
  t.equal((await joinFirstSeed(good, [], 10)).standing, 'joined');
  const hanging: SeedTarget = {
    aliveCount: () => 1,
    contact: () => new Promise<SeedResult>(() => undefined),
  };
  const start = Date.now();
  t.equal((await joinFirstSeed(hanging, ['x'], 100)).standing, 'waiting', 'an unfinished first try waits');
  t.ok(Date.now() - start < 1000, 'the grace bounds a contact that never returns');
  const aborted = new AbortController();
  setTimeout(() => aborted.abort(), 50);
  const none = target(() => 'unreachable');
  t.equal((await joinFirstSeed(none, ['x'], 10_000, aborted.signal)).standing, 'alone');
});

t.test('joinFirstSeed: a busy seed (timeout) is retried with backoff and is no refusal', async (t) => {
  // The failure of the 10-node start: the seed answered every push-pull after the deadline.
  const busy = target(() => 'busy');
  const got = await joinFirstSeed(busy, ['s1', 's2'], 1500);
  t.equal(got.standing, 'waiting', 'slow seeds keep this node waiting, not refused');
  t.same(
    got.results.map((r) => r.outcome),
    ['busy', 'busy'],
  );
  const at = busy.attempts.get('s1') ?? [];
  t.ok(at.length >= 3, `retried (${at.join(', ')} ms)`);
  const gaps = at.slice(1).map((x, i) => x - (at[i] ?? 0));
  t.ok((gaps.at(-1) ?? 0) > (gaps[0] ?? 0), `the wait grows (${gaps.join(', ')} ms)`);
  // A seed that is busy first and answers later lets this node in within the grace.
  const later = target((_, n) => (n >= 2 ? 'joined' : 'busy'));
  t.equal((await joinFirstSeed(later, ['s'], 3000)).standing, 'joined');
  // Every seed unreachable: a cold start, this node may serve alone.
  t.equal(
    (
      await joinFirstSeed(
        target(() => 'unreachable'),
        ['a', 'b'],
        300,
      )
    ).standing,
    'alone',
  );
  // A seed that closes on us (another key) refuses, even next to busy ones.
  const mixed = target((seed) => (seed === 'k' ? 'rejected' : 'busy'));
  t.equal((await joinFirstSeed(mixed, ['k', 'b'], 300)).standing, 'refused');
});

t.test('joinFirstSeed: a seed not listening yet is asked again at the first retry interval', async (t) => {
  // Speakers started together: a seed binds its gossip port a few seconds into its own start.
  const waits = (outcome: (n: number) => SeedOutcome) => {
    const asked: number[] = [];
    const run = joinFirstSeed(
      target((_, n) => outcome(n)),
      ['s'],
      60_000,
      undefined,
      (ms) => {
        asked.push(ms);
        return new Promise((resolve) => setImmediate(resolve));
      },
    );
    return run.then((got) => ({ standing: got.standing, asked }));
  };
  t.same(await waits((n) => (n >= 5 ? 'joined' : 'unreachable')), {
    standing: 'joined',
    asked: [200, 200, 200, 200, 200],
  });
  t.same(
    await waits((n) => (n >= 5 ? 'joined' : 'busy')),
    { standing: 'joined', asked: [200, 400, 800, 1600, 1600] },
    'a busy seed (took the connection, said nothing) is still given more time at each attempt',
  );
  t.same(await waits((n) => (n >= 4 ? 'joined' : n % 2 === 0 ? 'busy' : 'unreachable')), {
    standing: 'joined',
    asked: [200, 200, 400, 200],
  });
});

t.test('joinFirstSeed: a refusal arriving after another seed let this node in changes nothing', async (t) => {
  const slowRefusal: SeedTarget = {
    aliveCount: () => 1,
    contact: async (seed) => {
      if (seed === 'ok') return { seed, outcome: 'joined' };
      await new Promise((r) => setTimeout(r, 100));
      return { seed, outcome: 'rejected' };
    },
  };
  const got = await joinFirstSeed(slowRefusal, ['late', 'ok'], 2000);
  t.equal(got.standing, 'joined');
  await new Promise((r) => setTimeout(r, 150));
  t.same(
    got.results.map((r) => r.outcome),
    ['joined'],
    'the late refusal is not recorded',
  );
});

t.test('keepJoining: backs off, stops when joined, when others arrive, or when aborted', async (t) => {
  const rounds: Standing[] = [];
  const joining = target((_, n) => (n >= 2 ? 'joined' : 'busy'));
  const how = await keepJoining(
    joining,
    () => ['s'],
    (s) => rounds.push(s),
  );
  t.equal(how, 'seeds');
  t.same(rounds, ['waiting', 'waiting'], 'each unsuccessful round reports its standing');
  const at = joining.attempts.get('s') ?? [];
  t.ok((at[2] ?? 0) - (at[1] ?? 0) > (at[1] ?? 0) - (at[0] ?? 0), `the wait grows (${at.join(', ')})`);
  let alive = 1;
  setTimeout(() => (alive = 2), 300);
  const start = Date.now();
  const member = await keepJoining(
    target(() => 'busy', { alive: () => alive }),
    () => ['s'],
    () => undefined,
  );
  t.equal(member, 'member', 'another member reaching this node ends the wait');
  t.ok(Date.now() - start < 1500, 'noticed between knocks, not at the next one');
  alive = 1;
  setTimeout(() => (alive = 2), 300);
  const during = Date.now();
  t.equal(
    await keepJoining(
      target(() => 'busy', { alive: () => alive, afterMs: 2500 }),
      () => ['s'],
      () => undefined,
    ),
    'member',
  );
  t.ok(Date.now() - during < 1500, 'and while a knock is still waiting for its seeds');
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  t.equal(
    await keepJoining(
      target(() => 'unreachable'),
      () => [],
      () => undefined,
      abort.signal,
    ),
    'aborted',
  );
  t.same(seedCandidates(['a:1', 'b:1'], ['b:1', 'c:1'], ['a:1']), ['b:1', 'c:1']);
});
