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
