import fc from 'fast-check';
import t from 'tap';
import { decideL2, nodeActions, type L2NodeInput, type L2VipInput } from '../../../src/l2/desired.js';
import { interfacesForVip } from '../../../src/l2/interfaces.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import { ALL_BUCKETS, bucketCount, SPREAD_BUCKETS } from '../../../src/l2/buckets.js';
import { assignSpreadBuckets } from '../../../src/l2/spread.js';

const lan = [{ name: 'eth0', cidrs: ['10.0.0.11/24', 'fd00::11/64'] }];
const node = (name: string, extra: Partial<L2NodeInput> = {}): L2NodeInput => ({
  name,
  alive: true,
  excluded: false,
  interfaces: lan,
  ...extra,
});
const vip = (ip: string, extra: Partial<L2VipInput> = {}): L2VipInput => ({
  ip,
  services: ['default/web'],
  externalTrafficPolicy: 'Cluster',
  readyNodes: new Set(['a', 'b', 'c']),
  advertisements: [{ name: 'l2', interfaces: [], spread: false }],
  ...extra,
});
const three = [node('a'), node('b'), node('c')];

t.test('single owner is the first rendezvous node and everyone else suppresses', async (t) => {
  const [d] = decideL2([vip('10.0.0.200')], three);
  t.equal(d?.mode, 'single');
  t.equal(d?.owner, rendezvousOrder('10.0.0.200', ['a', 'b', 'c'])[0]);
  t.same(d?.shares.get(d.owner ?? ''), ALL_BUCKETS);
  const answering = ['a', 'b', 'c'].filter(
    (n) => nodeActions([d!], n).get('10.0.0.200')?.action === 'answer',
  );
  t.same(answering, [d?.owner]);
  t.same(d?.interfaces.get(d.owner ?? ''), ['eth0']);
});

t.test('the successor is the next rendezvous node: the owner once the owner is gone', async (t) => {
  const order = rendezvousOrder('10.0.0.200', ['a', 'b', 'c']);
  const [d] = decideL2([vip('10.0.0.200')], three);
  t.equal(d?.successor, order[1]);
  const [after] = decideL2(
    [vip('10.0.0.200')],
    three.map((n) => (n.name === order[0] ? { ...n, alive: false } : n)),
  );
  t.equal(after?.owner, order[1], 'the successor took over');
  t.equal(after?.successor, order[2], 'and the third node is next');
  const [alone] = decideL2([vip('10.0.0.200')], [node('a')]);
  t.equal(alone?.owner, 'a');
  t.equal(alone?.successor, undefined, 'a lone node has no successor');
});

t.test('eligibility rules', async (t) => {
  const cases: Array<{
    name: string;
    vip: L2VipInput;
    nodes: L2NodeInput[];
    eligible: string[];
    reason?: RegExp;
  }> = [
    { name: 'all eligible', vip: vip('10.0.0.200'), nodes: three, eligible: ['a', 'b', 'c'] },
    {
      name: 'dead node out',
      vip: vip('10.0.0.200'),
      nodes: [node('a', { alive: false }), node('b')],
      eligible: ['b'],
    },
    {
      name: 'excluded node out',
      vip: vip('10.0.0.200'),
      nodes: [node('a', { excluded: true }), node('b')],
      eligible: ['b'],
    },
    {
      name: 'node selector',
      vip: vip('10.0.0.200', {
        advertisements: [{ name: 'x', nodes: new Set(['c']), interfaces: [], spread: false }],
      }),
      nodes: three,
      eligible: ['c'],
    },
    {
      name: 'Local policy: only nodes with ready endpoints',
      vip: vip('10.0.0.200', { externalTrafficPolicy: 'Local', readyNodes: new Set(['b']) }),
      nodes: three,
      eligible: ['b'],
    },
    {
      name: 'no ready endpoint anywhere: nobody',
      vip: vip('10.0.0.200', { readyNodes: new Set() }),
      nodes: three,
      eligible: [],
      reason: /no ready endpoint/,
    },
    {
      name: 'no EndpointSlice in standalone mode: every node serves',
      vip: vip('10.0.0.200', { readyNodes: 'undeclared' }),
      nodes: three,
      eligible: ['a', 'b', 'c'],
    },
    {
      name: 'no EndpointSlice, Local policy: every node serves',
      vip: vip('10.0.0.200', { readyNodes: 'undeclared', externalTrafficPolicy: 'Local' }),
      nodes: three,
      eligible: ['a', 'b', 'c'],
      reason: /^first of 3 eligible nodes by rendezvous hash of the IP$/,
    },
    {
      name: 'failing health check: node out, reason says where and why',
      vip: vip('10.0.0.200', { unhealthy: new Map([['b', 'connect refused']]) }),
      nodes: three,
      eligible: ['a', 'c'],
      reason: /; health check failed on b: connect refused$/,
    },
    {
      name: 'health check of a dead node is not mentioned',
      vip: vip('10.0.0.200', { unhealthy: new Map([['a', 'timeout']]) }),
      nodes: [node('a', { alive: false }), node('b')],
      eligible: ['b'],
      reason: /^first of 1 eligible nodes by rendezvous hash of the IP$/,
    },
    {
      name: 'every check failing: nobody, with each reason',
      vip: vip('10.0.0.200', {
        unhealthy: new Map([
          ['a', 'timeout'],
          ['b', 'connect refused'],
        ]),
      }),
      nodes: [node('a'), node('b')],
      eligible: [],
      reason:
        /^no eligible node \(health check failed on a: timeout; health check failed on b: connect refused\)$/,
    },
    {
      name: 'unhealthy in spread mode: out of the spread',
      vip: vip('10.0.0.200', {
        unhealthy: new Map([['c', 'http 503']]),
        advertisements: [{ name: 'l2', interfaces: [], spread: true }],
      }),
      nodes: three,
      eligible: ['a', 'b'],
      reason: /^spread over 2 eligible nodes by client buckets; health check failed on c: http 503$/,
    },
    {
      name: 'no advertisement: nobody',
      vip: vip('10.0.0.200', { advertisements: [] }),
      nodes: three,
      eligible: [],
      reason: /no L2Advertisement/,
    },
    {
      name: 'VIP outside every on-link prefix: nobody',
      vip: vip('192.168.9.9'),
      nodes: three,
      eligible: [],
      reason: /no announcing interface/,
    },
    {
      name: 'explicit interface the node lacks',
      vip: vip('10.0.0.200', { advertisements: [{ name: 'x', interfaces: ['bond0'], spread: false }] }),
      nodes: three,
      eligible: [],
    },
  ];
  for (const c of cases) {
    const [d] = decideL2([c.vip], c.nodes);
    t.same(d?.eligible, c.eligible, c.name);
    if (c.eligible.length === 0) t.equal(d?.mode, 'none', `${c.name}: mode none`);
    else t.ok(c.eligible.includes(d?.owner ?? ''), `${c.name}: owner is eligible`);
    if (c.reason) t.match(d?.reason, c.reason, `${c.name}: reason`);
  }
});

t.test('services sharing an IP elect the same owner; owner moves only when it dies', async (t) => {
  const nodes = ['a', 'b', 'c', 'd', 'e'].map((n) => node(n));
  const ips = Array.from({ length: 200 }, (_, i) => `10.0.0.${(i % 250) + 1}`);
  const before = decideL2(
    ips.map((ip) => vip(ip, { readyNodes: new Set(['a', 'b', 'c', 'd', 'e']) })),
    nodes,
  );
  const after = decideL2(
    ips.map((ip) => vip(ip, { readyNodes: new Set(['a', 'b', 'c', 'd', 'e']) })),
    nodes.map((n) => (n.name === 'c' ? { ...n, alive: false } : n)),
  );
  for (let i = 0; i < ips.length; i++) {
    const was = before[i]?.owner;
    const now = after[i]?.owner;
    if (was !== 'c') t.equal(now, was, `${ips[i]} keeps ${was}`);
    else t.not(now, 'c');
  }
  const owners = new Set(before.map((d) => d.owner));
  t.equal(owners.size, 5, 'ownership spreads over all nodes');
});

t.test("spread buckets are disjoint, complete, and only a leaving node's buckets move", async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.ipV4(), (n, ip) => {
      const nodes = Array.from({ length: n }, (_, i) => `node-${i}`);
      const shares = assignSpreadBuckets(ip, nodes);
      let union = 0n;
      let total = 0;
      for (const bits of shares.values()) {
        if ((union & bits) !== 0n) return false;
        union |= bits;
        total += bucketCount(bits);
      }
      return union === ALL_BUCKETS && total === SPREAD_BUCKETS;
    }),
  );
  const before = assignSpreadBuckets('10.0.0.200', ['a', 'b', 'c']);
  const after = assignSpreadBuckets('10.0.0.200', ['a', 'b']);
  t.equal(after.get('a')! | after.get('b')!, ALL_BUCKETS, 'survivors take over every bucket');
  const kept = (n: string) => bucketCount((before.get(n) ?? 0n) & (after.get(n) ?? 0n));
  t.equal(kept('a'), bucketCount(before.get('a') ?? 0n), 'a keeps all its buckets when c leaves');
  t.equal(kept('b'), bucketCount(before.get('b') ?? 0n), 'b keeps all its buckets when c leaves');
  // Balance over many VIPs: the mean share is 1/n and no node is starved.
  const counts = [0, 0, 0];
  for (let i = 0; i < 300; i++) {
    const s = assignSpreadBuckets(`10.1.${i >> 8}.${i & 255}`, ['a', 'b', 'c']);
    ['a', 'b', 'c'].forEach((n, k) => (counts[k]! += bucketCount(s.get(n) ?? 0n)));
  }
  for (const c of counts)
    t.ok(Math.abs(c / (300 * SPREAD_BUCKETS) - 1 / 3) < 0.02, `mean share ${c / 19200}`);
});

t.test('spread mode decision', async (t) => {
  const [d] = decideL2(
    [vip('10.0.0.200', { advertisements: [{ name: 's', interfaces: [], spread: true }] })],
    three,
  );
  t.equal(d?.mode, 'spread');
  t.equal(d?.shares.size, 3);
  for (const n of ['a', 'b', 'c']) {
    const action = nodeActions([d!], n).get('10.0.0.200');
    t.equal(action?.action, 'answer', `${n} answers its buckets`);
  }
  const lopsided = assignSpreadBuckets(
    '10.0.0.200',
    Array.from({ length: 200 }, (_, i) => `n${i}`),
  );
  t.ok(
    [...lopsided.values()].every((b) => b !== 0n),
    'nodes without a bucket are not listed as answering',
  );
  const [single] = decideL2(
    [vip('10.0.0.200', { advertisements: [{ name: 's', interfaces: [], spread: true }] })],
    [node('a')],
  );
  t.equal(single?.mode, 'single', 'spread with one eligible node is a single owner');
});

t.test('interface selection', async (t) => {
  const ifaces = [
    { name: 'eth0', cidrs: ['10.0.0.11/16'] },
    { name: 'eth1', cidrs: ['10.0.5.11/24', 'fd00:1::1/64'] },
  ];
  t.same(interfacesForVip('10.0.5.7', ifaces, []), ['eth1'], 'longest prefix wins');
  t.same(interfacesForVip('10.0.9.7', ifaces, []), ['eth0']);
  t.same(interfacesForVip('fd00:1::99', ifaces, []), ['eth1']);
  t.same(interfacesForVip('172.16.0.1', ifaces, []), []);
  t.same(interfacesForVip('172.16.0.1', ifaces, ['eth0', 'bond0']), ['eth0'], 'explicit names win');
  const ipvs = [...ifaces, { name: 'kube-ipvs0', cidrs: ['10.0.5.7/32', 'not-a-prefix', 'fd00:1::99/128'] }];
  t.same(
    interfacesForVip('10.0.5.7', ipvs, []),
    ['eth1'],
    'a host prefix (kube-ipvs0) never wins the subnet',
  );
  t.same(interfacesForVip('fd00:1::99', ipvs, []), ['eth1'], 'same for IPv6; a bad prefix is ignored');
});
