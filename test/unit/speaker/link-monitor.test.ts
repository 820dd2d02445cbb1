import t from 'tap';
import { changeMatters, LinkMonitor } from '../../../src/speaker/link-monitor.js';

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
  const script = `printf '%s\\n' ${vips.map((l) => `'${l}'`).join(' ')}; sleep 0.3; echo '2: eth0    inet 10.0.0.2/24 scope global eth0'; sleep 30`;
  const monitor = new LinkMonitor({ onChange: () => calls++, debounceMs: 50, command: ['sh', '-c', script] });
  monitor.start();
  t.teardown(() => monitor.stop());
  await settle(250);
  t.equal(calls, 0, '300 host-prefix lines on lo: no rescan');
  await settle(400);
  t.equal(calls, 1, 'an interface address: one rescan');
});
