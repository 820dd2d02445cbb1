import t from 'tap';
import { LinkMonitor } from '../../../src/speaker/link-monitor.js';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a burst of kernel lines is one call; stop kills the monitor', async (t) => {
  let calls = 0;
  const monitor = new LinkMonitor({
    onChange: () => calls++,
    debounceMs: 100,
    command: ['sh', '-c', 'echo link; echo addr; sleep 0.02; echo up; sleep 0.5; echo later; sleep 30'],
  });
  monitor.start();
  await settle(300);
  t.equal(calls, 1, 'three lines within the debounce: one call');
  await settle(600);
  t.equal(calls, 2, 'a later line: another call');
  t.ok(monitor.running());
  monitor.stop();
  await settle(100);
  t.notOk(monitor.running(), 'stopped');
});

t.test('a missing command is not fatal (the resync still runs)', async (t) => {
  const monitor = new LinkMonitor({ onChange: () => undefined, command: ['/nonexistent/ip'] });
  monitor.start();
  await settle(100);
  t.notOk(monitor.running());
  monitor.stop();
});
