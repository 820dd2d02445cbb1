import t from 'tap';
import { Announcer, DEFAULT_REFRESH_MS, nextRefreshAt, REFRESH_PHASE_MS } from '../../../src/l2/announcer.js';
import { DueQueue } from '../../../src/l2/due-queue.js';
import { waitFor } from '../../../src/util/wait.js';

t.test('DueQueue: time order, bounded takes', async (t) => {
  const q = new DueQueue<string>(10);
  q.add(35, 'c');
  q.add(5, 'a');
  q.add(12, 'b1');
  q.add(18, 'b2');
  t.equal(q.nextAt(), 10);
  t.same(q.takeDue(20, 10), ['a', 'b1', 'b2']);
  t.same(q.takeDue(39, 10), [], 'c is due at 40 (rounded up)');
  t.same(q.takeDue(40, 10), ['c']);
  for (let i = 0; i < 5; i++) q.add(100, `x${i}`);
  t.same(q.takeDue(100, 2), ['x0', 'x1']);
  t.equal(q.length, 3);
});

t.test('Announcer: 10,000 VIPs share one timer and fire in bounded ticks', async (t) => {
  let total = 0;
  let measuring = false;
  let inTick = 0;
  let maxInTick = 0;
  let ticks = 0;
  const a = new Announcer({
    burstMs: [0, 20],
    refreshMs: 0,
    maxPerTick: 500,
    send: () => {
      total++;
      if (!measuring) return;
      if (inTick === 0) {
        ticks++;
        setImmediate(() => (inTick = 0));
      }
      inTick++;
      maxInTick = Math.max(maxInTick, inTick);
    },
  });
  t.teardown(() => a.stop());
  for (let i = 0; i < 10_000; i++) a.announce(`10.0.${i >> 8}.${i & 255}`, ['eth0']);
  t.equal(total, 500, 'the first 500 first frames at once, the rest on the next ticks');
  measuring = true;
  // 40 ticks at least; on a loaded machine they may take far longer than the 20 ms burst step.
  await waitFor('every first frame and second burst step', 30_000, () => total >= 20_000, 10);
  t.equal(total, 20_000, `first frame and second burst step for every VIP (${total})`);
  t.ok(maxInTick <= 500, `at most 500 per tick (max ${maxInTick})`);
  t.ok(ticks >= 20, `${ticks} ticks`);
});

t.test('Announcer: a late tick sends one frame, not every missed step', async (t) => {
  const sent: string[] = [];
  const a = new Announcer({ burstMs: [0, 10, 20, 30], refreshMs: 0, send: (_ip, _i, p) => sent.push(p) });
  t.teardown(() => a.stop());
  a.announce('10.0.0.1', ['eth0']);
  const until = Date.now() + 45;
  while (Date.now() < until) {
    // hold the event loop past every step
  }
  await new Promise((r) => setTimeout(r, 30));
  t.equal(sent.length, 2, 'the first frame and one catch-up frame');
});

t.test('Announcer: the first-frame budget comes back on the next turn of the event loop', async (t) => {
  const sent: string[] = [];
  const a = new Announcer({ burstMs: [0], refreshMs: 0, maxPerTick: 3, send: (ip) => sent.push(ip) });
  t.teardown(() => a.stop());
  for (const ip of ['a', 'b', 'c', 'd']) a.announce(ip, ['eth0']);
  t.same(sent, ['a', 'b', 'c'], 'three at once, the fourth queued');
  await new Promise((r) => setImmediate(r));
  // The queued 'd' may or may not have gone out by now (its slot is rounded up to 10 ms).
  const before = sent.length;
  a.announce('e', ['eth0']);
  t.same(sent.slice(before), ['e'], 'a new turn: at once again');
  await new Promise((r) => setTimeout(r, 20));
  t.same([...sent].sort(), ['a', 'b', 'c', 'd', 'e'], 'the queued one went out on a tick');
});

t.test('refreshes spread over the period by phase, one tick per phase', async (t) => {
  const period = DEFAULT_REFRESH_MS;
  const phases = period / REFRESH_PHASE_MS;
  const after = 1_795_850_000_123; // a wall-clock time, as Date.now() gives
  const perTime = new Map<number, number>();
  const wrong: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const ip = `10.90.${i >> 8}.${i & 255}`;
    const first = nextRefreshAt(after, period, ip);
    if (!(first > after && first <= after + period)) wrong.push(`${ip}: first refresh not within one period`);
    if (first % REFRESH_PHASE_MS !== 0) wrong.push(`${ip}: not on a phase boundary`);
    if (nextRefreshAt(first + 3, period, ip) !== first + period)
      wrong.push(`${ip}: a late tick moved the phase`);
    perTime.set(first, (perTime.get(first) ?? 0) + 1);
  }
  t.same(wrong, [], 'each VIP: first refresh within a period, on its phase, kept by a late tick');
  t.equal(perTime.size, phases, `every one of the ${phases} phases used, no more ticks than phases`);
  const mean = 10_000 / phases;
  const counts = [...perTime.values()];
  t.ok(
    counts.every((n) => n > mean / 2 && n < mean * 1.5),
    `even spread: ${Math.min(...counts)}-${Math.max(...counts)} VIPs per phase (mean ${mean.toFixed(0)})`,
  );
  t.equal(nextRefreshAt(100, 30, '10.0.0.1'), 120, 'a period under one phase step: one phase');
  t.equal(nextRefreshAt(120, 30, '10.0.0.1'), 150, 'never at the time it is asked at');
});
