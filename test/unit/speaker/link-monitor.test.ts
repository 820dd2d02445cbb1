import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { changeMatters, LinkMonitor } from '../../../src/speaker/link-monitor.js';
import { waitFor } from '../../../src/util/wait.js';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A scripted `ip monitor` goes on only when the test says so (`go()`), not after a sleep: on a loaded host
 * the shell starts and runs late, by hundreds of milliseconds.
 */
function steps(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-linkmon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return {
    /** Shell that waits for the test's go. */
    wait: `while [ ! -e ${dir}/go ]; do sleep 0.02; done`,
    /** Shell that tells the test it got here. */
    mark: `touch ${dir}/here`,
    reached: () => existsSync(join(dir, 'here')),
    go: () => writeFileSync(join(dir, 'go'), ''),
  };
}

t.test('a burst of kernel lines is one call; stop kills the monitor', async (t) => {
  let calls = 0;
  const s = steps(t);
  const debounceMs = 1000;
  const monitor = new LinkMonitor({
    onChange: () => calls++,
    debounceMs,
    command: ['sh', '-c', `echo link; echo addr; sleep 0.02; echo up; ${s.wait}; echo later; sleep 30`],
  });
  t.teardown(() => monitor.stop());
  monitor.start();
  await waitFor('the call after the burst', 30_000, () => calls > 0, 10);
  await settle(2 * debounceMs);
  t.equal(calls, 1, 'three lines within the debounce: one call');
  s.go();
  await waitFor('the call after the later line', 30_000, () => calls > 1, 10);
  await settle(2 * debounceMs);
  t.equal(calls, 2, 'a later line: another call');
  t.ok(monitor.running());
  monitor.stop();
  await waitFor('the monitor to stop', 30_000, () => !monitor.running(), 10);
  t.notOk(monitor.running(), 'stopped');
});

t.test('a missing command is not fatal (the resync still runs)', async (t) => {
  const monitor = new LinkMonitor({ onChange: () => undefined, command: ['/nonexistent/ip'] });
  monitor.start();
  await waitFor('the spawn to fail', 30_000, () => !monitor.running(), 10);
  t.notOk(monitor.running());
  monitor.stop();
});

t.test('host-prefix addresses and loopback lines change nothing the speaker scans', async (t) => {
  const lines: Array<[string, boolean]> = [
    ['1: lo    inet 10.80.0.1/32 scope global lo\\       valid_lft forever preferred_lft forever', false],
    ['Deleted 1: lo    inet 10.80.0.1/32 scope global lo\\       valid_lft forever', false],
    ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default', false],
    ['1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever', false],
    ['4: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\\       valid_lft forever', false],
    ['4: kube-ipvs0    inet6 fd00::1/128 scope global \\       valid_lft forever', false],
    ['3: hrl-sx    inet 10.9.0.1/24 scope global hrl-sx\\       valid_lft forever', true],
    ['Deleted 3: hrl-sx    inet6 fd00:9::1/64 scope global \\       valid_lft forever', true],
    ['3: hrl-sx@hrl-sy: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN', true],
    ['2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default', true],
    ['Deleted 2: eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN', true],
    ['something ip printed that we do not know', true],
    ['', false],
  ];
  for (const [line, matters] of lines) t.equal(changeMatters(line), matters, line || '(empty)');
});

t.test('a burst of VIPs added on lo calls nothing; a LAN address among them does', async (t) => {
  let calls = 0;
  const vips = Array.from(
    { length: 300 },
    (_, i) => `1: lo    inet 10.80.${i >> 8}.${i & 255}/32 scope global lo`,
  );
  const s = steps(t);
  const script = `printf '%s\\n' ${vips.map((l) => `'${l}'`).join(' ')}; ${s.mark}; ${s.wait}; echo '2: eth0    inet 10.0.0.2/24 scope global eth0'; sleep 30`;
  const monitor = new LinkMonitor({ onChange: () => calls++, debounceMs: 50, command: ['sh', '-c', script] });
  monitor.start();
  t.teardown(() => monitor.stop());
  await waitFor('the lines on lo printed', 30_000, s.reached, 10);
  await settle(500);
  t.equal(calls, 0, '300 host-prefix lines on lo: no rescan');
  s.go();
  await waitFor('the rescan', 30_000, () => calls > 0, 10);
  await settle(500);
  t.equal(calls, 1, 'an interface address: one rescan');
});
