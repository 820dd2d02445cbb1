import t from 'tap';
import { Announcer } from '../../../src/l2/announcer.js';
import { waitFor } from '../../../src/util/wait.js';

t.test('burst then refresh, and cancel stops everything', async (t) => {
  const sent: Array<{ ip: string; at: number }> = [];
  const start = Date.now();
  const a = new Announcer({
    burstMs: [0, 20, 40],
    refreshMs: 50,
    send: (ip) => sent.push({ ip, at: Date.now() - start }),
  });
  a.announce('10.0.0.1', ['eth0']);
  t.equal(sent.length, 1, 'first frame goes out synchronously');
  // A loaded machine runs the ticks late (a late tick sends one frame, not every step it missed): wait for
  // the frames instead of counting them after a fixed sleep.
  await waitFor('the burst of 3 and two refreshes', 10_000, () => sent.length >= 5, 5);
  const count = sent.length;
  t.same(a.announcing(), ['10.0.0.1']);
  a.cancel('10.0.0.1');
  await new Promise((r) => setTimeout(r, 120));
  t.equal(sent.length, count, 'nothing after cancel');
  t.same(a.announcing(), []);
});

t.test('a failing send is reported and does not stop the schedule', async (t) => {
  const errors: unknown[] = [];
  let calls = 0;
  const a = new Announcer({
    burstMs: [0, 10],
    refreshMs: 0,
    send: () => {
      calls++;
      throw new Error('ENETDOWN');
    },
    onError: (_ip, e) => errors.push(e),
  });
  a.announce('fd00::1', ['eth0']);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(calls, 2);
  t.equal(errors.length, 2);
  a.stop();
});

t.test('refreshOnly: no burst, periodic frames, cancelled like any schedule', async (t) => {
  const phases: string[] = [];
  const a = new Announcer({
    burstMs: [0, 10],
    refreshMs: 30,
    send: (_ip, _ifs, phase) => phases.push(phase),
  });
  a.refreshOnly('10.0.0.1', ['eth0']);
  t.same(phases, [], 'nothing sent at once');
  t.ok(a.has('10.0.0.1'));
  await waitFor('two refreshes', 10_000, () => phases.length >= 2, 5);
  t.ok(
    phases.every((p) => p === 'refresh'),
    `refreshes only (${phases.join(',')})`,
  );
  a.stop();
  t.notOk(a.has('10.0.0.1'));
});
