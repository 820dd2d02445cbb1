import { Registry } from 'prom-client';
import t from 'tap';
import {
  nonzeroTransmitErrors,
  registerTransmitErrors,
  type TransmitErrorSample,
} from '../../../src/metrics/transmit-errors.js';

t.test('transmit errors: the kernel totals per interface and action, read at scrape time', async (t) => {
  const registry = new Registry();
  let samples: TransmitErrorSample[] = [];
  registerTransmitErrors(registry, () => samples);
  t.match(await registry.metrics(), /^# TYPE herald_xdp_transmit_errors_total counter$/m);
  t.notMatch(await registry.metrics(), /^herald_xdp_transmit_errors_total\{/m, 'nothing counted: no series');
  samples = [
    { interface: 'eth0', action: 'tx', frames: 50n },
    { interface: 'eth1', action: 'aborted', frames: 2n },
  ];
  const first = await registry.metrics();
  t.match(
    first,
    /^herald_xdp_transmit_errors_total\{interface="eth0",action="tx"\} 50$/m,
    'a pinned total at start',
  );
  t.match(first, /^herald_xdp_transmit_errors_total\{interface="eth1",action="aborted"\} 2$/m);
  samples = [
    { interface: 'eth0', action: 'tx', frames: 55n },
    { interface: 'eth1', action: 'aborted', frames: 2n },
  ];
  t.match(await registry.metrics(), /^herald_xdp_transmit_errors_total\{interface="eth0",action="tx"\} 55$/m);
  samples = [{ interface: 'eth0', action: 'tx', frames: 3n }]; // the pins were removed and recreated
  t.match(await registry.metrics(), /^herald_xdp_transmit_errors_total\{interface="eth0",action="tx"\} 55$/m);
  samples = [{ interface: 'eth0', action: 'tx', frames: 4n }];
  t.match(
    await registry.metrics(),
    /^herald_xdp_transmit_errors_total\{interface="eth0",action="tx"\} 56$/m,
    'a reset source counts on from its new base',
  );
});

t.test('herald status shows the nonzero counts, sorted', async (t) => {
  t.same(
    nonzeroTransmitErrors([
      { interface: 'eth1', action: 'tx', frames: 1n },
      { interface: 'eth0', action: 'tx', frames: 0n },
      { interface: 'eth0', action: 'aborted', frames: 9n },
    ]),
    [
      { interface: 'eth0', action: 'aborted', frames: 9 },
      { interface: 'eth1', action: 'tx', frames: 1 },
    ],
  );
});
