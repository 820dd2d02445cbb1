import t from 'tap';
import { FAST_LAN_PROFILE, LAN_PROFILE } from '../../../src/membership/config.js';
import { Suspicion, suspicionBounds, suspicionTimeout } from '../../../src/membership/suspicion.js';

t.test(
  'bounds follow memberlist: min = mult × max(1, log10 n) × interval, max = maxMult × min',
  async (t) => {
    t.same(suspicionBounds(3, LAN_PROFILE), { k: 0, minMs: 4000, maxMs: 24000 }, 'n - 2 < k → k = 0');
    t.same(suspicionBounds(10, LAN_PROFILE), { k: 2, minMs: 4000, maxMs: 24000 });
    const b100 = suspicionBounds(100, LAN_PROFILE);
    t.equal(b100.minMs, 8000, 'log10(100) = 2 doubles the minimum');
    t.equal(b100.maxMs, 48000);
    const fast = suspicionBounds(50, FAST_LAN_PROFILE);
    t.equal(fast.minMs, Math.floor(4 * Math.log10(50) * 100));
    t.equal(suspicionBounds(1, LAN_PROFILE).minMs, 4000, 'a lone member still gets the base minimum');
  },
);

t.test('timeout shrinks logarithmically with confirmations and never below min', async (t) => {
  const b = { k: 3, minMs: 1000, maxMs: 6000 };
  t.equal(suspicionTimeout(0, b), 6000);
  t.equal(suspicionTimeout(1, b), Math.floor(6000 - (Math.log(2) / Math.log(4)) * 5000));
  t.equal(suspicionTimeout(3, b), 1000);
  t.equal(suspicionTimeout(10, b), 1000);
  t.equal(suspicionTimeout(0, { k: 0, minMs: 700, maxMs: 4200 }), 700, 'k = 0 → min at once');
  let prev = Infinity;
  for (let c = 0; c <= 3; c++) {
    const v = suspicionTimeout(c, b);
    t.ok(v < prev, `strictly decreasing at c=${c}`);
    prev = v;
  }
});

t.test('Suspicion fires at max, earlier after confirmations, ignores repeats and the accuser', async (t) => {
  let now = 0;
  const fired: number[] = [];
  const b = { k: 2, minMs: 40, maxMs: 400 };
  const s = new Suspicion(
    'a',
    b,
    (c) => fired.push(c),
    () => now,
  );
  t.notOk(s.confirm('a'), 'the accuser is not a confirmation');
  t.ok(s.confirm('b'));
  t.notOk(s.confirm('b'), 'same confirmer twice counts once');
  t.equal(s.confirmations(), 1);
  t.ok(s.confirm('c'));
  t.notOk(s.confirm('d'), 'beyond k confirmations nothing changes');
  now = 10;
  t.equal(s.remainingMs(), 30);
  await new Promise((r) => setTimeout(r, 120));
  t.same(fired, [2], 'fired once with two confirmations (well before max)');
  t.notOk(s.confirm('e'), 'no confirmations after firing');
  const s2 = new Suspicion('a', b, (c) => fired.push(c + 100));
  s2.cancel();
  await new Promise((r) => setTimeout(r, 60));
  t.same(fired, [2], 'a cancelled suspicion never fires');
});
