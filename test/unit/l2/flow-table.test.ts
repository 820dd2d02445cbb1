import t from 'tap';
import {
  decodeFlow,
  encodeFlow,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  memberAsOwner,
  type FlowEntry,
} from '../../../src/datapath/flow-layout.js';
import { withGossipFlowSets } from '../../../src/l2/flow-liveness.js';
import { decideL2, nodeActions, type L2NodeInput, type L2VipInput } from '../../../src/l2/desired.js';
import { FlowReconciler, type FlowDatapath } from '../../../src/l2/flow-reconciler.js';
import { buildFlowEntry, slotOwners, slotShares, stableIndices } from '../../../src/l2/flow-table.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';

const lan = [{ name: 'eth0', cidrs: ['10.0.0.11/24'] }];
const node = (name: string, extra: Partial<L2NodeInput> = {}): L2NodeInput => ({
  name,
  alive: true,
  excluded: false,
  interfaces: lan,
  ...extra,
});
const flowsVip = (ip: string, extra: Partial<L2VipInput> = {}): L2VipInput => ({
  ip,
  services: ['default/web'],
  externalTrafficPolicy: 'Cluster',
  readyNodes: new Set(['a', 'b', 'c', 'd']),
  advertisements: [{ name: 'l2', interfaces: [], spread: true, flows: true }],
  ...extra,
});
const macs = new Map([
  ['a', '0200000000a1'],
  ['b', '0200000000b1'],
  ['c', '0200000000c1'],
  ['d', '0200000000d1'],
]);

/** The flow maps in memory: entries, writes, node MACs and counters (stats[index]). */
function fakeDatapath() {
  const entries = new Map<string, FlowEntry>();
  const stats = new Map<number, { packets: bigint; bytes: bigint }>();
  const fake = { entries, stats, writes: 0, nodeMacs: [] as string[] };
  const dp: FlowDatapath = {
    set: (ip, e) => {
      fake.writes++;
      entries.set(ip, e);
    },
    get: (ip) => entries.get(ip),
    delete: (ip) => entries.delete(ip),
    vips: () => [...entries.keys()],
    setNodeMacs: (m) => {
      fake.nodeMacs = m.map((b) => b.toString('hex'));
    },
    resetStat: (n) => stats.delete(n),
    stat: (n) => stats.get(n) ?? { packets: 0n, bytes: 0n },
    guards: () => ({
      not_owner: { packets: 0n, bytes: 0n },
      gate_closed: { packets: 0n, bytes: 0n },
      loop_guard: { packets: 0n, bytes: 0n },
    }),
  };
  return Object.assign(fake, { dp });
}

t.test('flows mode: one answerer (the rendezvous owner), every eligible node in the flow set', async (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  const [d] = decideL2([flowsVip('10.0.0.200')], nodes);
  t.equal(d?.mode, 'flows');
  t.equal(d?.owner, rendezvousOrder('10.0.0.200', ['a', 'b', 'c'])[0]);
  t.same([...(d?.flowSet?.keys() ?? [])].sort(), ['a', 'b', 'c']);
  const answering = ['a', 'b', 'c'].filter(
    (n) => nodeActions([d!], n).get('10.0.0.200')?.action === 'answer',
  );
  t.same(answering, [d?.owner], 'exactly one node answers ARP');
  t.equal(d?.successor, rendezvousOrder('10.0.0.200', ['a', 'b', 'c'])[1], 'the next one takes it over');
  t.same(d?.successorInterfaces, ['eth0'], 'on its interface for the VIP (the owner watch arms it)');
  const local = decideL2(
    [flowsVip('10.0.0.200', { externalTrafficPolicy: 'Local', readyNodes: new Set(['b', 'c']) })],
    nodes,
  )[0];
  t.same([...(local?.flowSet?.keys() ?? [])].sort(), ['b', 'c'], 'Local policy: nodes with a ready endpoint');
  const clients = decideL2(
    [flowsVip('10.0.0.200', { advertisements: [{ name: 'x', interfaces: [], spread: true }] })],
    nodes,
  )[0];
  t.equal(clients?.mode, 'spread', 'spread without by: flows stays by clients');
});

t.test('slot table: balanced, identical everywhere, minimal movement', async (t) => {
  const ip = '10.0.0.200';
  const three = slotOwners(ip, ['c', 'a', 'b']);
  t.same(three, slotOwners(ip, ['a', 'b', 'c']), 'input order does not matter');
  t.equal(three.length, FLOW_SLOTS);
  for (const [n, count] of slotShares(ip, ['a', 'b', 'c']))
    t.ok(Math.abs(count / FLOW_SLOTS - 1 / 3) < 0.03, `${n} holds ${count} slots (~1/3)`);
  const four = slotOwners(ip, ['a', 'b', 'c', 'd']);
  const moved = three.filter((n, s) => four[s] !== n);
  t.ok(moved.length > 0);
  t.ok(
    four.every((n, s) => n === three[s] || n === 'd'),
    'a joining node only takes slots; nothing moves between the others',
  );
  const two = slotOwners(ip, ['a', 'c']);
  t.ok(
    two.every((n, s) => three[s] === 'b' || n === three[s]),
    'a leaving node: only its slots move',
  );
  t.notSame(slotOwners('10.0.0.201', ['a', 'b', 'c']), three, 'each VIP has its own table');
});

t.test('stable target indices', async (t) => {
  const prev = [
    { mac: Buffer.from('0200000000c1', 'hex'), local: false, stat: 1 },
    undefined,
    { mac: Buffer.from('0200000000a1', 'hex'), local: true, stat: 2 },
  ];
  const idx = stableIndices(prev, ['0200000000a1', '0200000000b1', '0200000000c1']);
  t.equal(idx.get('0200000000c1'), 0);
  t.equal(idx.get('0200000000a1'), 2);
  t.equal(idx.get('0200000000b1'), 1, 'new MACs take free indices');
});

t.test('flow entry: role, targets, slots', async (t) => {
  const three = new Map([...macs].filter(([n]) => n !== 'd'));
  let stat = 0;
  const allocStat = () => ++stat;
  const e = buildFlowEntry({ ip: '10.0.0.200', self: 'a', owner: 'a', macs: three, allocStat });
  t.same(e.ownMac.toString('hex'), '0200000000a1');
  t.equal(e.role, 'owner');
  t.same(
    e.targets.map((x) => [x?.mac.toString('hex'), x?.local]),
    [
      ['0200000000a1', true],
      ['0200000000b1', false],
      ['0200000000c1', false],
    ],
  );
  const owners = slotOwners('10.0.0.200', ['a', 'b', 'c']);
  t.ok(owners.every((n, s) => e.targets[e.slots[s] ?? FLOW_NO_TARGET]?.mac.toString('hex') === three.get(n)));
  const member = buildFlowEntry({ ip: '10.0.0.200', self: 'b', owner: 'a', macs: three, allocStat });
  t.equal(member.role, 'member');
  const grown = buildFlowEntry({ ip: '10.0.0.200', self: 'a', owner: 'a', macs, previous: e, allocStat });
  t.same(grown.targets.slice(0, 3), e.targets, 'existing targets keep their index and counter when d joins');
  t.equal(grown.inStat, e.inStat);
});

t.test('reconciler: owner / member / none, writes only on change, node MACs', async (t) => {
  const fake = fakeDatapath();
  const { dp, entries } = fake;
  const nodes = [node('a'), node('b'), node('c')];
  const gossip = new Map([...macs].map(([n, m]) => [n, new Map([['eth0', m]])]));
  const decisions = decideL2([flowsVip('10.0.0.200'), flowsVip('10.0.0.201', { advertisements: [] })], nodes);
  const owner = decisions[0]?.owner ?? '';
  const other = ['a', 'b', 'c'].find((n) => n !== owner) ?? '';
  const ro = new FlowReconciler(dp, owner);
  t.same(ro.apply(decisions, gossip).set, ['10.0.0.200']);
  t.equal(entries.get('10.0.0.200')?.role, 'owner');
  t.same(fake.nodeMacs.sort(), [...macs.values()].sort(), 'every known node MAC guards against loops');
  ro.apply(decisions, gossip);
  t.equal(fake.writes, 1, 'unchanged inputs: no write');
  entries.clear();
  const rm = new FlowReconciler(dp, other);
  rm.apply(decisions, gossip);
  t.equal(entries.get('10.0.0.200')?.role, 'member');
  const without = decideL2(
    [flowsVip('10.0.0.200')],
    [node('a'), node('b'), node('c'), node(other, { alive: false })].filter((n, i) =>
      i < 3 ? n.name !== other : true,
    ),
  );
  t.same(rm.apply(without, gossip).removed, ['10.0.0.200'], 'out of the flow set: entry removed');
  const noMac = new Map([...gossip].filter(([n]) => n !== other));
  t.same(rm.apply(decisions, noMac).set, [], 'no own MAC in gossip yet: no entry');
});

t.test(
  "the owner watch's takeover writes the entry the round writes next, and the round rewrites it",
  async (t) => {
    const fake = fakeDatapath();
    const gossip = new Map([...macs].map(([n, m]) => [n, new Map([['eth0', m]])]));
    const nodes = [node('a'), node('b'), node('c')];
    const [d] = decideL2([flowsVip('10.0.0.200')], nodes);
    const owner = d?.owner ?? '';
    const successor = d?.successor ?? '';
    const r = new FlowReconciler(fake.dp, successor);
    r.apply(d ? [d] : [], gossip);
    const member = fake.entries.get('10.0.0.200');
    t.equal(member?.role, 'member');
    // The pulse thread's write (speaker/watch-takeover.ts), on the encoded map value.
    const taken = memberAsOwner(encodeFlow(member as FlowEntry));
    t.ok(taken, 'a member entry turns into an owner one');
    t.equal(memberAsOwner(taken ?? Buffer.alloc(0)), undefined, 'an owner entry is left alone');
    // The round after the down verdict: the watch counts the owner out, gossip still holds it alive.
    const byGossip = decideL2([flowsVip('10.0.0.200')], nodes);
    const byWatch = decideL2(
      [flowsVip('10.0.0.200')],
      nodes.map((n) => (n.name === owner ? { ...n, alive: false } : n)),
    );
    t.equal(byWatch[0]?.owner, successor, 'the successor owns it by the watch');
    const round = withGossipFlowSets(byWatch, byGossip);
    fake.entries.set('10.0.0.200', decodeFlow(taken ?? Buffer.alloc(0)));
    const writes = fake.writes;
    r.rewrite(['10.0.0.200']);
    r.apply(round, gossip);
    t.equal(fake.writes, writes + 1, 'the round writes the entry again');
    t.same(
      fake.entries.get('10.0.0.200'),
      decodeFlow(taken ?? Buffer.alloc(0)),
      'and it is what the watch wrote',
    );
    r.rewrite(['10.0.0.200']);
    r.apply(byGossip, gossip);
    t.equal(
      fake.entries.get('10.0.0.200')?.role,
      'member',
      'an owner back in time: the round makes it a member again',
    );
  },
);

t.test(
  'reconciler: a node leaving the flow set drains (keeps its pinned flows, no slots) until drainMs',
  async (t) => {
    const { dp, entries } = fakeDatapath();
    const ip = '10.0.0.200';
    const all = [node('a'), node('b'), node('c')];
    const full = decideL2([flowsVip(ip)], all);
    const owner = full[0]?.owner ?? '';
    const leaver = ['a', 'b', 'c'].find((n) => n !== owner) ?? '';
    const leaverMac = macs.get(leaver) ?? '';
    const without = decideL2(
      [flowsVip(ip)],
      all.map((n) => (n.name === leaver ? node(leaver, { alive: false }) : n)),
    );
    const gossip = new Map([...macs].map(([n, m]) => [n, new Map([['eth0', m]])]));
    let now = 1000;
    const r = new FlowReconciler(dp, owner, { drainMs: 5000, now: () => now });
    r.apply(full, gossip);
    const index = entries.get(ip)?.targets.findIndex((x) => x?.mac.toString('hex') === leaverMac) ?? -1;
    t.ok(index >= 0);
    const slotsOf = (e: FlowEntry | undefined) => [...(e?.slots ?? [])].filter((s) => s === index).length;
    t.ok(slotsOf(entries.get(ip)) > 0);

    now += 100;
    t.same(r.apply(without, gossip).set, [ip]);
    t.equal(entries.get(ip)?.targets[index]?.mac.toString('hex'), leaverMac, 'the leaver keeps its index');
    t.equal(slotsOf(entries.get(ip)), 0, 'new flows avoid it at once');

    now += 400;
    t.same(r.apply(full, gossip).set, [ip], 'back within the drain time');
    t.equal(entries.get(ip)?.targets[index]?.mac.toString('hex'), leaverMac, 'same index: pins stay valid');
    t.ok(slotsOf(entries.get(ip)) > 0, 'its slots are back');

    now += 100;
    r.apply(without, gossip);
    now += 4999;
    t.same(r.apply(without, gossip).set, [], 'still draining: nothing to write');
    now += 1;
    t.same(r.apply(without, gossip).set, [ip], 'drain over: rewritten');
    t.notOk(
      entries.get(ip)?.targets.some((x) => x?.mac.toString('hex') === leaverMac),
      'the leaver is gone from the targets',
    );
  },
);

t.test('reconciler traffic: counters per VIP and target node, slots per target', async (t) => {
  const fake = fakeDatapath();
  const ip = '10.0.0.200';
  const decisions = decideL2([flowsVip(ip)], [node('a'), node('b'), node('c')]);
  const owner = decisions[0]?.owner ?? '';
  const gossip = new Map([...macs].map(([n, m]) => [n, new Map([['eth0', m]])]));
  const r = new FlowReconciler(fake.dp, owner);
  t.same(r.traffic(), [], 'nothing written yet');
  r.apply(decisions, gossip);
  const entry = fake.entries.get(ip);
  const other = ['a', 'b', 'c'].find((n) => n !== owner) ?? '';
  const otherStat = entry?.targets.find((x) => x?.mac.toString('hex') === macs.get(other))?.stat ?? 0;
  fake.stats.set(otherStat, { packets: 5n, bytes: 640n });
  fake.stats.set(entry?.inStat ?? 0, { packets: 1n, bytes: 60n });
  const [v] = r.traffic();
  t.equal(v?.ip, ip);
  t.equal(v?.role, 'owner');
  t.same(v?.steeredIn, { packets: 1n, bytes: 60n });
  const byNode = new Map(v?.targets.map((x) => [x.node, x]));
  t.same([...byNode.keys()].sort(), ['a', 'b', 'c'], 'targets named by node');
  t.same(byNode.get(other)?.packets, 5n);
  t.same(byNode.get(other)?.bytes, 640n);
  t.equal(byNode.get(owner)?.local, true);
  t.same(
    new Map([...byNode].map(([n, x]) => [n, x.slots])),
    slotShares(ip, ['a', 'b', 'c']),
    'slots per target match the table',
  );
});
