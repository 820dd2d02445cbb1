import fc from 'fast-check';
import t from 'tap';
import { computeRates, counterIncrease, RateTracker, totalRate } from '../../../src/metrics/rates.js';
import { type CounterSample, trafficOnly } from '../../../src/metrics/traffic.js';

const s = (atMs: number, entries: Record<string, [number, number]>): CounterSample => ({
  atMs,
  counters: new Map(Object.entries(entries).map(([ip, [p, b]]) => [ip, trafficOnly(BigInt(p), BigInt(b))])),
});

t.test('counterIncrease treats a lower reading as a reset', async (t) => {
  t.equal(counterIncrease(10n, 15n), 5n);
  t.equal(counterIncrease(10n, 3n), 3n);
  t.equal(counterIncrease(0n, 0n), 0n);
});

t.test('rate over the window uses the base sample before the window start', async (t) => {
  const samples = [0, 1000, 2000, 3000, 4000].map((ms, i) => s(ms, { a: [i * 10, i * 1000] }));
  const r = computeRates(samples, 2000).get('a')!;
  // window 2 s ending at 4000: base sample at 2000 → 2000 bytes in 2 s
  t.equal(r.bitsPerSecond, 8000);
  t.equal(r.packetsPerSecond, 10);
  t.equal(computeRates(samples, 10_000).get('a')!.bitsPerSecond, 8000, 'whole history when window is longer');
});

t.test('resets, removals, additions and gaps', async (t) => {
  const samples = [
    s(0, { a: [0, 1000], gone: [1, 1], gap: [0, 0] }),
    s(1000, { a: [0, 2000], gone: [2, 2] }),
    s(2000, { a: [0, 500], gap: [0, 100], fresh: [0, 50] }), // a was reset: +500
    s(3000, { a: [0, 1500], gap: [0, 300], fresh: [0, 150] }),
  ];
  const r = computeRates(samples, 10_000);
  t.equal(r.get('a')!.bitsPerSecond, ((1000 + 500 + 1000) * 8) / 3, 'reset counts from zero');
  t.notOk(r.has('gone'), 'VIP removed from the datapath has no rate');
  t.equal(r.get('gap')!.bitsPerSecond, 200 * 8, 'measured only since it re-appeared');
  t.equal(r.get('fresh')!.bitsPerSecond, 100 * 8);
  t.same(computeRates([s(0, { a: [5, 5] })], 1000).get('a'), { bitsPerSecond: 0, packetsPerSecond: 0 });
  t.equal(computeRates([], 1000).size, 0);
});

t.test('property: steady traffic gives its rate whatever the sampling', async () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 1000, max: 60_000 }),
      (steps, bytesPerMs, windowMs) => {
        const bytesPerSecond = bytesPerMs * 1000;
        let at = 0;
        const samples = [s(0, { v: [0, 0] })];
        for (const step of steps) {
          at += step;
          samples.push(s(at, { v: [0, at * bytesPerMs] }));
        }
        const got = computeRates(samples, windowMs).get('v')!.bitsPerSecond;
        return Math.abs(got - bytesPerSecond * 8) <= bytesPerSecond * 8 * 1e-9;
      },
    ),
  );
});

t.test('RateTracker keeps only what the window needs and rejects time going back', async (t) => {
  const tracker = new RateTracker(2000);
  for (let i = 0; i <= 10; i++) tracker.observe(s(i * 1000, { a: [i, i * 100] }));
  t.equal(tracker.rates().get('a')!.bitsPerSecond, 800);
  t.equal(tracker.latest()!.atMs, 10_000);
  t.equal(tracker.observe(s(5000, {})), false, 'a sample from the past is ignored');
  t.equal(tracker.rates().get('a')!.bitsPerSecond, 800);
  t.throws(() => new RateTracker(0), /window must be > 0/);
  t.same(
    totalRate(
      new Map([
        ['a', { bitsPerSecond: 1, packetsPerSecond: 2 }],
        ['b', { bitsPerSecond: 3, packetsPerSecond: 4 }],
      ]),
    ),
    {
      bitsPerSecond: 4,
      packetsPerSecond: 6,
    },
  );
});

t.test('property: RateTracker (incremental) agrees with computeRates (reference)', async () => {
  const reading = fc.option(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e9 })), {
    freq: 5,
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.tuple(reading, reading)), {
        minLength: 1,
        maxLength: 25,
      }),
      fc.integer({ min: 1, max: 10_000 }),
      (steps, windowMs) => {
        const tracker = new RateTracker(windowMs);
        const all: CounterSample[] = [];
        let at = 0;
        for (const [step, [a, b]] of steps) {
          at += step;
          const entries: Record<string, [number, number]> = {};
          if (a) entries.a = a;
          if (b) entries.b = b;
          const sample = s(at, entries);
          const fresh = all.length === 0 || all[all.length - 1]!.atMs < at;
          if (fresh) all.push(sample); // the tracker ignores a sample that is not newer
          if (tracker.observe(sample) !== fresh) return false;
          const want = computeRates(all, windowMs);
          const got = tracker.rates();
          if (got.size !== want.size) return false;
          for (const [ip, w] of want) {
            const g = got.get(ip);
            if (!g) return false;
            const close = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y));
            if (!close(g.bitsPerSecond, w.bitsPerSecond) || !close(g.packetsPerSecond, w.packetsPerSecond))
              return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
});
