import t from 'tap';
import { type FsmConfig, type FsmEvent, type FsmState, step } from '../../../src/bgp/fsm.js';
import { BgpError } from '../../../src/bgp/wire/errors.js';
import { makeOpen } from '../../../src/bgp/wire/open.js';

const cfg: FsmConfig = {
  localAsn: 65001,
  peerAsn: 65000,
  holdTimeSec: 9,
  connectRetrySec: 5,
  passive: false,
};
const open = makeOpen({ asn: 65000, holdTime: 30, routerId: '10.0.0.9' });

function run(events: FsmEvent[], c = cfg): { state: FsmState; kinds: string[] } {
  let state: FsmState = 'idle';
  let negotiated;
  const kinds: string[] = [];
  for (const e of events) {
    const r = step(state, e, c, negotiated);
    state = r.state;
    negotiated = r.negotiated ?? negotiated;
    for (const a of r.actions)
      kinds.push(
        a.type === 'send-notification'
          ? `notify ${a.code}/${a.subcode}`
          : a.type === 'set-timer'
            ? `set ${a.timer} ${a.seconds}`
            : a.type,
      );
  }
  return { state, kinds };
}

t.test('active open reaches Established with negotiated timers', async (t) => {
  const r = run([
    { type: 'start' },
    { type: 'tcp-connected' },
    { type: 'open', open },
    { type: 'keepalive' },
  ]);
  t.equal(r.state, 'established');
  t.same(r.kinds, [
    'connect',
    'set connectRetry 5',
    'clear-timer',
    'send-open',
    'set hold 240',
    'send-keepalive',
    'set hold 9',
    'set keepalive 3',
    'set hold 9',
    'established',
  ]);
});

t.test('passive start waits in Active without connecting', async (t) => {
  const r = run([{ type: 'start' }], { ...cfg, passive: true });
  t.same(r, { state: 'active', kinds: [] });
  t.equal(run([{ type: 'start' }, { type: 'tcp-connected' }], { ...cfg, passive: true }).state, 'opensent');
});

t.test('connect failures retry', async (t) => {
  const r = run([{ type: 'start' }, { type: 'tcp-failed' }, { type: 'timer', timer: 'connectRetry' }]);
  t.equal(r.state, 'connect');
  t.same(r.kinds.slice(-3), ['close', 'connect', 'set connectRetry 5']);
});

const table: Array<[string, FsmEvent[], string]> = [
  [
    'wrong peer AS',
    [{ type: 'open', open: makeOpen({ asn: 65002, holdTime: 9, routerId: '1.1.1.1' }) }],
    'notify 2/2',
  ],
  ['hold expires in OpenSent', [{ type: 'timer', timer: 'hold' }], 'notify 4/0'],
  ['UPDATE in OpenSent', [{ type: 'update' }], 'notify 5/1'],
  ['UPDATE in OpenConfirm', [{ type: 'open', open }, { type: 'update' }], 'notify 5/2'],
  [
    'OPEN in Established',
    [{ type: 'open', open }, { type: 'keepalive' }, { type: 'open', open }],
    'notify 5/3',
  ],
  [
    'hold expires in Established',
    [{ type: 'open', open }, { type: 'keepalive' }, { type: 'timer', timer: 'hold' }],
    'notify 4/0',
  ],
  [
    'decode error',
    [
      { type: 'open', open },
      { type: 'decode-error', error: new BgpError(3, 1, 'x') },
    ],
    'notify 3/1',
  ],
  ['admin stop', [{ type: 'open', open }, { type: 'keepalive' }, { type: 'stop' }], 'notify 6/2'],
  ['BFD down', [{ type: 'open', open }, { type: 'keepalive' }, { type: 'stop', subcode: 10 }], 'notify 6/10'],
];
for (const [name, events, notify] of table) {
  t.test(`${name} → ${notify}, back to Idle`, async (t) => {
    const r = run([{ type: 'start' }, { type: 'tcp-connected' }, ...events]);
    t.equal(r.state, 'idle');
    t.ok(r.kinds.includes(notify), r.kinds.join(', '));
    t.ok(r.kinds.includes('close'));
    t.equal(r.kinds.at(-1), 'down');
  });
}

t.test('peer NOTIFICATION and TCP loss reset without sending one', async (t) => {
  for (const e of [{ type: 'notification', code: 6, subcode: 2 }, { type: 'tcp-closed' }] as FsmEvent[]) {
    const r = run([
      { type: 'start' },
      { type: 'tcp-connected' },
      { type: 'open', open },
      { type: 'keepalive' },
      e,
    ]);
    t.equal(r.state, 'idle');
    t.notOk(r.kinds.some((k) => k.startsWith('notify')));
  }
});

t.test('hold time 0 disables keepalives; keepalive timer re-arms', async (t) => {
  const zero = makeOpen({ asn: 65000, holdTime: 0, routerId: '10.0.0.9' });
  const r = run([
    { type: 'start' },
    { type: 'tcp-connected' },
    { type: 'open', open: zero },
    { type: 'keepalive' },
  ]);
  t.notOk(r.kinds.some((k) => k.startsWith('set keepalive')));
  const k = run([
    { type: 'start' },
    { type: 'tcp-connected' },
    { type: 'open', open },
    { type: 'keepalive' },
    { type: 'timer', timer: 'keepalive' },
  ]);
  t.same(k.kinds.slice(-2), ['send-keepalive', 'set keepalive 3']);
});
