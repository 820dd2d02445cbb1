import t from 'tap';
import { DEFAULT_HEALTH_TIMING, type HealthCheck, type HealthProbe } from '../../../src/config/index.js';
import { HealthMonitor } from '../../../src/health/monitor.js';
import type { ProbeResult } from '../../../src/health/state.js';
import { waitFor } from '../../../src/util/wait.js';

const check = (text: string, timing = {}): HealthCheck => ({
  probe: { kind: 'tcp', port: 80 },
  timing: { ...DEFAULT_HEALTH_TIMING, intervalMs: 100, timeoutMs: 50, ...timing },
  text,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('verdicts follow the scripted results with rise/fall', async (t) => {
  let next: ProbeResult = { ok: false, detail: 'connect refused' };
  const seen: HealthProbe[] = [];
  let passes = 0;
  const monitor = new HealthMonitor({
    node: 'n1',
    prober: async (probe) => {
      seen.push(probe);
      if (next.ok) passes++;
      return next;
    },
  });
  t.teardown(() => monitor.stop());
  const changes: Array<{ service: string; passing: boolean; passes: number }> = [];
  monitor.on('change', ({ service, passing }) => changes.push({ service, passing, passes }));
  monitor.setTargets([{ service: 'default/web', check: check('a') }]);
  await sleep(30);
  t.same([...monitor.failing()], [['default/web', 'connect refused']], 'first failure counts at once');
  next = { ok: true, detail: 'connected' };
  // Probes are 100 ms apart, each timed from the last; a loaded machine stretches them.
  await waitFor('the check to rise', 10_000, () => monitor.failing().size === 0, 10);
  t.same(
    changes,
    [
      { service: 'default/web', passing: false, passes: 0 },
      { service: 'default/web', passing: true, passes: 2 },
    ],
    'rose after two passes',
  );
  monitor.setTargets([]);
  t.same([...monitor.verdicts()], [], 'removed');
  const count = seen.length;
  await sleep(250);
  t.equal(seen.length, count, 'no probe after removal');
});

t.test('a flapping check never changes the verdict faster than rise/fall allow', async (t) => {
  let n = 0;
  const monitor = new HealthMonitor({
    node: 'n1',
    prober: async () => ({ ok: n++ % 2 === 0, detail: 'flap' }),
  });
  t.teardown(() => monitor.stop());
  let changes = 0;
  monitor.on('change', () => changes++);
  monitor.setTargets([{ service: 'default/web', check: check('a') }]);
  await waitFor('six probes', 10_000, () => n >= 6, 10);
  t.equal(changes, 1, 'only the first verdict; alternating results never reach fall=2 or rise=2');
});

t.test('a removed failing check releases its service; a changed check starts over', async (t) => {
  const monitor = new HealthMonitor({ node: 'n1', prober: async () => ({ ok: false, detail: 'exit 1' }) });
  t.teardown(() => monitor.stop());
  const changes: boolean[] = [];
  monitor.on('change', ({ passing }) => changes.push(passing));
  monitor.setTargets([{ service: 'default/web', check: check('a') }]);
  await sleep(30);
  monitor.setTargets([{ service: 'default/web', check: check('b') }]);
  t.same([...monitor.verdicts()], [['default/web', true]], 'new check unknown until its first result');
  await sleep(30);
  t.same(changes, [false, true, false]);
});
