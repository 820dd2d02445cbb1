import t from 'tap';
import { ALL_BUCKETS } from '../../../src/l2/buckets.js';
import type { VipDecision } from '../../../src/l2/desired.js';
import { armTakeovers, sameArming } from '../../../src/l2/watch/takeover.js';

const IFS = new Map([
  ['eth0', { ifindex: 2, mac: '020000000001' }],
  ['eth1', { ifindex: 3, mac: '020000000002' }],
]);
const iface = (name: string) => IFS.get(name);

function single(ip: string, owner: string, successor: string, succIfs = ['eth0']): VipDecision {
  return {
    ip,
    services: ['x/y'],
    mode: 'single',
    owner,
    successor,
    successorInterfaces: succIfs,
    shares: new Map([[owner, ALL_BUCKETS]]),
    eligible: [owner, successor].sort(),
    interfaces: new Map([[owner, ['eth0']]]),
    reason: '',
  };
}

t.test('arms the single-mode VIPs this node would take over, per owner', async (t) => {
  const decisions = [
    single('10.0.0.1', 'b', 'a'),
    single('10.0.0.2', 'c', 'a', ['eth1']),
    single('fd00::1', 'b', 'a'),
    single('10.0.0.3', 'b', 'c'), // another node's successor
    single('10.0.0.4', 'a', 'b'), // this node owns it
  ];
  t.same(armTakeovers(decisions, 'a', iface), [
    [
      'b',
      [
        { ip: '10.0.0.1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
        { ip: 'fd00::1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
      ],
    ],
    ['c', [{ ip: '10.0.0.2', ifname: 'eth1', ifindex: 3, mac: '020000000002' }]],
  ]);
});

t.test('arms flow-mode VIPs too, marked so that their steering is taken with the answer', async (t) => {
  const flows = (ip: string, owner: string, successor: string): VipDecision => ({
    ...single(ip, owner, successor),
    mode: 'flows',
    flowSet: new Map([
      [owner, ['eth0']],
      [successor, ['eth0']],
    ]),
  });
  const decisions = [flows('10.0.0.6', 'b', 'a'), single('10.0.0.1', 'b', 'a'), flows('fd00::6', 'b', 'c')];
  t.same(armTakeovers(decisions, 'a', iface), [
    [
      'b',
      [
        { ip: '10.0.0.6', ifname: 'eth0', ifindex: 2, mac: '020000000001', flows: true },
        { ip: '10.0.0.1', ifname: 'eth0', ifindex: 2, mac: '020000000001' },
      ],
    ],
  ]);
});

t.test('leaves to the decision round what it cannot do alone', async (t) => {
  const spread: VipDecision = { ...single('10.0.0.5', 'b', 'a'), mode: 'spread' };
  const placed: VipDecision = {
    ...single('10.0.0.7', 'b', 'a'),
    placement: { hashedOwner: 'a', placed: true },
  };
  const placedFlows: VipDecision = { ...placed, ip: '10.0.0.6', mode: 'flows' };
  const decisions = [
    spread,
    placed,
    placedFlows,
    single('10.0.0.8', 'b', 'a', ['eth0', 'eth1']), // two interfaces
    single('10.0.0.9', 'b', 'a', ['eth9']), // an interface this node does not announce on
    single('10.0.0.10', 'b', 'a', []),
  ];
  t.same(armTakeovers(decisions, 'a', iface), []);
});

t.test('at most `limit` VIPs are armed', async (t) => {
  const decisions = Array.from({ length: 10 }, (_, i) => single(`10.0.1.${i}`, 'b', 'a'));
  const armed = armTakeovers(decisions, 'a', iface, 4);
  t.equal(armed[0]?.[1].length, 4);
  t.ok(sameArming(armed, armTakeovers(decisions, 'a', iface, 4)));
  t.notOk(sameArming(armed, armTakeovers(decisions, 'a', iface, 5)));
});
