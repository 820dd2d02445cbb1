/** How often the control loop stamps the pulse thread's clock. */
import t from 'tap';
import { stampIntervalMs } from '../../../src/speaker/watch-thread.js';

t.test('a tenth of the stall limit, never below one heartbeat', async (t) => {
  t.equal(stampIntervalMs(20, 1000), 100, 'defaults: 10 stamps per stall limit');
  t.equal(stampIntervalMs(20, 300), 30);
  t.equal(stampIntervalMs(20, 100), 20, 'a short stall limit: every heartbeat');
  // A freeze is detected once the last stamp is older than the limit: with ten stamps in it, a healthy
  // loop late by up to nine intervals still counts as alive.
  t.ok(stampIntervalMs(20, 1000) * 10 <= 1000);
});

t.test('with no watch pair, a quarter of the stall limit', async (t) => {
  t.equal(stampIntervalMs(20, 1000, false), 250, 'defaults: 4 stamps per stall limit');
  t.equal(stampIntervalMs(20, 1000, true), 100, 'a pair: a tenth again');
  t.equal(stampIntervalMs(20, 60, false), 20, 'never below one heartbeat');
  t.ok(
    stampIntervalMs(20, 1000, false) < 1000 / 2,
    'a healthy loop late by half the limit still counts as alive',
  );
});
