import t from 'tap';
import { decideL2, type L2NodeInput, type L2VipInput } from '../../../src/l2/desired.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import { servedVips } from '../../../src/speaker/served-vips.js';

const lan = [{ name: 'eth0', cidrs: ['10.0.0.11/24', 'fd00::11/64'] }];
const nodes: L2NodeInput[] = ['a', 'b', 'c'].map((name) => ({
  name,
  alive: true,
  excluded: false,
  interfaces: lan,
}));
const vip = (ip: string, ad: Partial<L2VipInput['advertisements'][number]> = {}): L2VipInput => ({
  ip,
  services: ['default/web'],
  externalTrafficPolicy: 'Cluster',
  readyNodes: 'undeclared',
  advertisements: [{ name: 'l2', interfaces: [], spread: false, ...ad }],
});

t.test('single mode: the owner and its successor hold the VIP, the third node does not', async (t) => {
  const [first, second, third] = rendezvousOrder('10.0.0.200', ['a', 'b', 'c']) as [string, string, string];
  const decisions = decideL2([vip('10.0.0.200')], nodes);
  t.same([...servedVips(decisions, first, new Set())], ['10.0.0.200'], 'owner');
  t.same([...servedVips(decisions, second, new Set())], ['10.0.0.200'], 'successor, ahead of a takeover');
  t.same([...servedVips(decisions, third, new Set())], [], 'third in line');
});

t.test('flow mode: every node of the flow set; BGP: what is advertised', async (t) => {
  const decisions = decideL2([vip('10.0.0.201', { spread: true, flows: true })], nodes);
  for (const n of ['a', 'b', 'c']) t.same([...servedVips(decisions, n, new Set())], ['10.0.0.201'], n);
  t.same([...servedVips([], 'a', new Set(['10.0.0.9']))], ['10.0.0.9']);
});
