import t from 'tap';
import type { VipDecision } from '../../../src/l2/desired.js';
import { withGossipFlowSets } from '../../../src/l2/flow-liveness.js';

function flows(ip: string, owner: string, nodes: string[]): VipDecision {
  return {
    ip,
    services: ['lab/web'],
    mode: 'flows',
    owner,
    shares: new Map([[owner, 0xffffffffffffffffn]]),
    eligible: nodes,
    interfaces: new Map([[owner, ['eth0']]]),
    reason: 'test',
    flowSet: new Map(nodes.map((n) => [n, ['eth0']])),
  };
}

t.test('a node the watch counts out but gossip holds alive stays in the flow set', async (t) => {
  // c owns by gossip; the watch says c is down: b takes over, and c's flows still go to c.
  const byGossip = [flows('10.0.0.1', 'c', ['a', 'b', 'c'])];
  const corrected = [flows('10.0.0.1', 'b', ['a', 'b'])];
  const [d] = withGossipFlowSets(corrected, byGossip);
  t.equal(d?.owner, 'b', 'the owner is the corrected one');
  t.same([...(d?.interfaces.keys() ?? [])], ['b'], 'and so is the answering interface');
  t.same([...(d?.flowSet?.keys() ?? [])].sort(), ['a', 'b', 'c'], 'the flow set is the union');
  t.same(d?.eligible, ['a', 'b'], 'eligibility (for ownership) is unchanged');
});

t.test('a node gossip counts out but the watch holds alive stays too (the union)', async (t) => {
  const byGossip = [flows('10.0.0.1', 'a', ['a', 'b'])];
  const corrected = [flows('10.0.0.1', 'a', ['a', 'b', 'c'])];
  t.same([...(withGossipFlowSets(corrected, byGossip)[0]?.flowSet?.keys() ?? [])].sort(), ['a', 'b', 'c']);
});

t.test('nothing to add: the same array; other modes untouched', async (t) => {
  const single: VipDecision = { ...flows('10.0.0.2', 'a', ['a']), mode: 'single' };
  delete single.flowSet;
  const corrected = [flows('10.0.0.1', 'a', ['a', 'b']), single];
  t.equal(withGossipFlowSets(corrected, [flows('10.0.0.1', 'a', ['a'])]), corrected, 'same array');
  const gossipSingle: VipDecision = { ...flows('10.0.0.2', 'b', ['a', 'b']), mode: 'single' };
  const out = withGossipFlowSets(corrected, [gossipSingle]);
  t.equal(out, corrected, 'a single-mode VIP gets no flow set');
  t.equal(withGossipFlowSets(corrected, [])[0], corrected[0], 'a VIP gossip does not decide stays as is');
});
