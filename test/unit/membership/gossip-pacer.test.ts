/** GossipPacer: rounds run only while something is queued; news re-arms them. */
import t from 'tap';
import { GossipPacer } from '../../../src/membership/gossip-pacer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a quiet pacer has no timer; news runs a round at once and rounds until drained', async (t) => {
  let queued = 0;
  let rounds = 0;
  const p = new GossipPacer(
    10,
    () => {
      rounds++;
      if (queued > 0) queued--;
    },
    () => queued > 0,
  );
  t.teardown(() => p.stop());
  p.start();
  t.notOk(p.armed(), 'nothing queued at start: no timer');
  p.nudge();
  t.notOk(p.armed(), 'a nudge with nothing queued arms nothing');

  queued = 3;
  p.nudge();
  p.nudge();
  t.ok(p.armed(), 'news arms the rounds');
  await new Promise((r) => setImmediate(r));
  t.equal(rounds, 1, 'the first round runs at once (no interval wait), once for two nudges');
  for (let i = 0; i < 100 && p.armed(); i++) await sleep(5);
  t.equal(rounds, 3, 'one round per interval until the queue drained');
  t.notOk(p.armed(), 'disarmed once the queue drained');

  queued = 1;
  p.nudge();
  t.ok(p.armed(), 're-armed by new news');
  await new Promise((r) => setImmediate(r));
  t.equal(rounds, 4);
  t.notOk(p.armed(), 'a round that drains the queue leaves no timer behind');
});

t.test('a stopped pacer runs no round', async (t) => {
  let rounds = 0;
  const p = new GossipPacer(
    5,
    () => rounds++,
    () => true,
  );
  p.nudge();
  t.notOk(p.armed(), 'not started: nudges are ignored');
  p.start();
  t.ok(p.armed());
  p.stop();
  t.notOk(p.armed());
  await sleep(30);
  t.equal(rounds, 0, 'stop() cancelled the pending round');
});
