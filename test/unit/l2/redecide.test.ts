import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import {
  decideVip,
  type L2AdvertisementView,
  type L2NodeInput,
  type L2VipInput,
} from '../../../src/l2/desired.js';
import { redecideVip } from '../../../src/l2/redecide.js';

/**
 * redecideVip against the straightforward decideVip: for any VIP, any member list and any change of some
 * members (joined, left, died, back, other interfaces, excluded, selected or not by an advertisement),
 * deciding again from the earlier decision gives exactly what deciding from nothing gives, or defers.
 */

const NAMES = ['a', 'b', 'c', 'd', 'e', 'n10', 'n2'];
const IPS = ['10.0.0.200', '10.0.1.7', 'fd00::c8', '192.168.5.5'];

const ifaceArb = fc.constantFrom(
  { name: 'eth0', cidrs: ['10.0.0.11/24', 'fd00::11/64'] },
  { name: 'eth1', cidrs: ['10.0.1.11/24'] },
  { name: 'eth0', cidrs: ['10.0.0.12/16'], mac: '02aabbccdd01' },
  { name: 'bond0', cidrs: ['192.168.5.1/24', 'fd00::1/120'] },
  { name: 'lo', cidrs: ['127.0.0.1/8'] },
);

interface NodeState {
  alive: boolean;
  excluded: boolean;
  interfaces: L2NodeInput['interfaces'];
  /** Which advertisements (by index) select it, for those with node selectors. */
  selectedBy: boolean[];
}

const stateArb: fc.Arbitrary<NodeState> = fc.record({
  alive: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  excluded: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
  interfaces: fc.uniqueArray(ifaceArb, { maxLength: 3, selector: (i) => i.name }),
  selectedBy: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
});

const adArb = fc.record({
  selects: fc.boolean(),
  interfaces: fc.oneof(fc.constant([] as string[]), fc.subarray(['eth0', 'eth1', 'bond0', 'wlan0'])),
  spread: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
  flows: fc.boolean(),
  placement: fc.constantFrom(undefined, 'hash' as const, 'bandwidth' as const),
});

const vipArb = fc.record({
  ip: fc.constantFrom(...IPS),
  local: fc.boolean(),
  ready: fc.oneof(fc.constant('undeclared' as const), fc.subarray(NAMES)),
  unhealthy: fc.subarray(NAMES, { maxLength: 2 }),
  ads: fc.array(adArb, { minLength: 1, maxLength: 3 }),
  placedOwner: fc.option(fc.constantFrom(...NAMES)),
});

const scenarioArb = fc.record({
  vip: vipArb,
  before: fc.dictionary(fc.constantFrom(...NAMES), stateArb, { minKeys: 1 }),
  /** Per member: unchanged (undefined), changed to a new state, or gone (null). */
  change: fc.dictionary(fc.constantFrom(...NAMES), fc.option(stateArb), { minKeys: 1, maxKeys: 3 }),
  order: fc.nat(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function build(s: Scenario) {
  const beforeStates = new Map(Object.entries(s.before));
  const afterStates = new Map(beforeStates);
  for (const [name, next] of Object.entries(s.change)) {
    if (next === null) afterStates.delete(name);
    else afterStates.set(name, next);
  }
  const changed = new Set(
    Object.keys(s.change).filter((name) => beforeStates.has(name) || afterStates.has(name)),
  );
  const nodesOf = (states: Map<string, NodeState>, rotate: number): L2NodeInput[] => {
    const list = [...states].map(([name, st]) => ({
      name,
      alive: st.alive,
      excluded: st.excluded,
      interfaces: st.interfaces,
    }));
    const k = list.length === 0 ? 0 : rotate % list.length;
    return [...list.slice(k), ...list.slice(0, k)];
  };
  const vipOf = (states: Map<string, NodeState>): L2VipInput => {
    const ads: L2AdvertisementView[] = s.vip.ads.map((ad, i) => ({
      name: `ad${i}`,
      ...(ad.selects
        ? { nodes: new Set([...states].filter(([, st]) => st.selectedBy[i]).map(([n]) => n)) }
        : {}),
      interfaces: ad.interfaces,
      spread: ad.spread,
      flows: ad.flows,
      ...(ad.placement ? { placement: ad.placement } : {}),
    }));
    return {
      ip: s.vip.ip,
      services: ['default/web'],
      externalTrafficPolicy: s.vip.local ? 'Local' : 'Cluster',
      readyNodes: s.vip.ready === 'undeclared' ? 'undeclared' : new Set(s.vip.ready),
      unhealthy: new Map(s.vip.unhealthy.map((n) => [n, `tcp:80 refused on ${n}`])),
      advertisements: ads,
      ...(s.vip.placedOwner === null ? {} : { placedOwner: s.vip.placedOwner }),
    };
  };
  return {
    before: { vip: vipOf(beforeStates), nodes: nodesOf(beforeStates, 0) },
    after: { vip: vipOf(afterStates), nodes: nodesOf(afterStates, s.order) },
    changed,
  };
}

t.test('equal to decideVip for any member change, or undefined (then decided in full)', async (t) => {
  let redecided = 0;
  let runs = 0;
  fc.assert(
    fc.property(scenarioArb, (s) => {
      runs++;
      const { before, after, changed } = build(s);
      const earlier = decideVip(before.vip, before.nodes);
      const byName = new Map(after.nodes.map((n) => [n.name, n]));
      const again = redecideVip(earlier, after.vip, after.nodes, byName, changed);
      if (again === undefined) return;
      redecided++;
      deepStrictEqual(again, decideVip(after.vip, after.nodes));
    }),
    { numRuns: 3000 },
  );
  t.ok(redecided > runs / 10, `${redecided} of ${runs} decided from the earlier decision`);
});

t.test('it defers where its shortcut does not hold', async (t) => {
  const node = (name: string, alive = true): L2NodeInput => ({
    name,
    alive,
    excluded: false,
    interfaces: [{ name: 'eth0', cidrs: ['10.0.0.11/24'] }],
  });
  const vip = (ad: Partial<L2AdvertisementView> = {}): L2VipInput => ({
    ip: '10.0.0.200',
    services: ['default/web'],
    externalTrafficPolicy: 'Cluster',
    readyNodes: 'undeclared',
    advertisements: [{ name: 'l2', interfaces: [], spread: false, ...ad }],
  });
  const abc = [node('a'), node('b'), node('c')];
  const byName = (nodes: L2NodeInput[]) => new Map(nodes.map((n) => [n.name, n]));
  const withoutC = [node('a'), node('b'), node('c', false)];
  const single = decideVip(vip(), abc);
  t.ok(redecideVip(single, vip(), withoutC, byName(withoutC), new Set(['c'])), 'a single-owner VIP');
  const spread = decideVip(vip({ spread: true }), abc);
  t.equal(redecideVip(spread, vip({ spread: true }), withoutC, byName(withoutC), new Set(['c'])), undefined);
  const placed = decideVip(vip({ placement: 'bandwidth' }), abc);
  t.equal(
    redecideVip(placed, vip({ placement: 'bandwidth' }), withoutC, byName(withoutC), new Set(['c'])),
    undefined,
  );
  const none = [node('a', false), node('b', false), node('c', false)];
  t.equal(
    redecideVip(single, vip(), none, byName(none), new Set(['a', 'b', 'c'])),
    undefined,
    'nobody eligible left: the reasons list every node',
  );
  const other = decideVip({ ...vip(), ip: '10.0.0.201' }, abc);
  t.equal(redecideVip(other, vip(), withoutC, byName(withoutC), new Set(['c'])), undefined, 'another VIP');
});
