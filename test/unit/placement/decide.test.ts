import fc from 'fast-check';
import t from 'tap';
import {
  decidePlacement,
  DEFAULT_PLACEMENT_KNOBS,
  placedOwner,
  type PlacedVipInput,
  type PlacementEntry,
  type PlacementInput,
} from '../../../src/placement/decide.js';
import { nodeLoads, utilization, vipLoadOn } from '../../../src/placement/load.js';

const MB = 1_000_000;
const nodes3 = ['n1', 'n2', 'n3'];
const capacity100 = new Map(nodes3.map((n) => [n, 12.5 * MB])); // 100 Mbit/s

const vip = (
  ip: string,
  rx: number,
  hashedOwner: string,
  extra: Partial<PlacedVipInput> = {},
): PlacedVipInput => ({
  ip,
  mode: 'single',
  eligible: nodes3,
  hashedOwner,
  rxBytesPerSecond: rx,
  txBytesPerSecond: 0,
  ...extra,
});

function round(input: Omit<PlacementInput, 'entries' | 'hotSinceMs'> & Partial<PlacementInput>) {
  return decidePlacement({ entries: new Map(), hotSinceMs: new Map(), ...input });
}

t.test('two heavy VIPs hashed onto one node: one of them moves once the overload lasted', async (t) => {
  const vips = [vip('10.0.0.1', 6 * MB, 'n1'), vip('10.0.0.2', 5 * MB, 'n1'), vip('10.0.0.3', 1 * MB, 'n2')];
  const first = round({ vips, capacities: capacity100, nowMs: 0 });
  t.same(first.moves, [], 'not before the sustain time');
  t.equal(first.hotSinceMs.get('n1'), 0, 'n1 is hot (88%) since now');
  const later = round({ vips, capacities: capacity100, nowMs: 30_000, hotSinceMs: first.hotSinceMs });
  t.equal(later.moves.length, 1);
  const [move] = later.moves;
  t.equal(move?.from, 'n1');
  t.equal(move?.to, 'n3', 'the idle node, not n2 which carries 1 MB/s');
  t.equal(move?.ip, '10.0.0.2', 'the smaller VIP is enough and leaves both links least loaded');
  t.match(move?.reason, /^moved 10\.0\.0\.2 n1 → n3: n1 link 88% → 48%, n3 0% → 40%$/);
  t.same(later.entries.get('10.0.0.2'), { node: 'n3', movedAtMs: 30_000 });
  t.ok((later.utilization.get('n1') ?? 1) < DEFAULT_PLACEMENT_KNOBS.thresholdRatio);
});

t.test(
  "each VIP's own threshold and sustain (spec.placement) decide when its node gives it up",
  async (t) => {
    const quick = { ...DEFAULT_PLACEMENT_KNOBS, sustainMs: 5_000 };
    const vips = [
      vip('10.0.0.1', 6 * MB, 'n1', { knobs: quick }),
      vip('10.0.0.2', 5 * MB, 'n1', { knobs: quick }),
    ];
    const first = round({ vips, capacities: capacity100, nowMs: 0 });
    t.same(first.moves, [], 'hot since now');
    const d = round({ vips, capacities: capacity100, nowMs: 5_000, hotSinceMs: first.hotSinceMs });
    t.equal(d.moves.length, 1, 'moved after the 5 s the advertisement asks for, not the 30 s default');
    const lax = { ...DEFAULT_PLACEMENT_KNOBS, thresholdRatio: 0.9 };
    const mixed = [vip('10.0.0.1', 6 * MB, 'n1', { knobs: lax }), vip('10.0.0.2', 5 * MB, 'n1')];
    const m = round({
      vips: mixed,
      capacities: capacity100,
      nowMs: 60_000,
      hotSinceMs: new Map([['n1', 0]]),
    });
    t.same(
      m.moves.map((x) => x.ip),
      ['10.0.0.2'],
      'n1 at 88%: only the VIP whose threshold is 70% moves; the one that tolerates 90% stays',
    );
  },
);

t.test('a move must keep the target under the threshold and gain the minimum', async (t) => {
  // One VIP carries 90%: wherever it goes, that node is over the threshold: no move.
  const vips = [vip('10.0.0.1', 11.25 * MB, 'n1')];
  const d = round({ vips, capacities: capacity100, nowMs: 60_000, hotSinceMs: new Map([['n1', 0]]) });
  t.same(d.moves, []);
  // A tiny VIP would gain less than the minimum: not moved.
  const small = [vip('10.0.0.1', 9 * MB, 'n1'), vip('10.0.0.2', 0.1 * MB, 'n1')];
  const d2 = round({ vips: small, capacities: capacity100, nowMs: 60_000, hotSinceMs: new Map([['n1', 0]]) });
  t.same(d2.moves, []);
});

t.test('only eligible nodes with a known capacity are targets', async (t) => {
  const vips = [vip('10.0.0.1', 6 * MB, 'n1'), vip('10.0.0.2', 5 * MB, 'n1', { eligible: ['n1', 'n2'] })];
  const capacities = new Map([
    ['n1', 12.5 * MB],
    ['n2', 12.5 * MB],
  ]);
  const d = round({ vips, capacities, nowMs: 40_000, hotSinceMs: new Map([['n1', 0]]) });
  t.equal(d.moves.length, 1);
  t.equal(d.moves[0]?.to, 'n2', 'n3 has no known capacity');
  const none = round({
    vips: [
      vip('10.0.0.1', 6 * MB, 'n1', { eligible: ['n1'] }),
      vip('10.0.0.2', 5 * MB, 'n1', { eligible: ['n1'] }),
    ],
    capacities,
    nowMs: 40_000,
    hotSinceMs: new Map([['n1', 0]]),
  });
  t.same(none.moves, [], 'a VIP whose only eligible node is the hot one stays');
});

t.test('a VIP moves at most once per interval; entries fall back to the hash when stale', async (t) => {
  const vips = [vip('10.0.0.1', 6 * MB, 'n1'), vip('10.0.0.2', 5 * MB, 'n1')];
  const entries = new Map<string, PlacementEntry>([['10.0.0.2', { node: 'n1', movedAtMs: 20_000 }]]);
  const d = round({
    vips,
    capacities: capacity100,
    nowMs: 40_000,
    hotSinceMs: new Map([['n1', 0]]),
    entries,
  });
  t.equal(d.moves[0]?.ip, '10.0.0.1', 'the recently moved VIP is held; the other one moves');
  const gone = round({
    vips: [vip('10.0.0.2', 5 * MB, 'n2', { eligible: ['n1', 'n2'] })],
    capacities: capacity100,
    nowMs: 50_000,
    entries: new Map([['10.0.0.2', { node: 'n3', movedAtMs: 0 }]]),
  });
  t.notOk(
    gone.entries.has('10.0.0.2'),
    'placed on a node that is no longer eligible: the hash owner takes over',
  );
  const settled = round({
    vips: [vip('10.0.0.2', 1 * MB, 'n2')],
    capacities: capacity100,
    nowMs: 10 * 60_000,
    entries: new Map([['10.0.0.2', { node: 'n2', movedAtMs: 0 }]]),
  });
  t.notOk(settled.entries.has('10.0.0.2'), 'an entry equal to the hash owner drops once its interval passed');
  t.equal(
    placedOwner(vips[0]!, { node: 'n9', movedAtMs: 0 }),
    'n1',
    'a placed node outside eligible is ignored',
  );
});

t.test('flow mode: moving the owner moves only the ingress and the steered share', async (t) => {
  const flows = vip('10.0.0.9', 3 * MB, 'n1', { mode: 'flows', txBytesPerSecond: 9 * MB });
  t.same(vipLoadOn(flows, 'n1', 'n1'), { rx: 3 * MB, tx: 2 * MB + 3 * MB });
  t.same(vipLoadOn(flows, 'n1', 'n2'), { rx: 1 * MB, tx: 3 * MB });
  const loads = nodeLoads([flows], new Map([['10.0.0.9', 'n1']]), nodes3);
  const totalTx = [...loads.values()].reduce((a, l) => a + l.tx, 0);
  t.equal(totalTx, 9 * MB + 2 * MB, 'replies once, plus the two thirds of ingress the owner steers out');
  t.equal(utilization({ rx: 1, tx: 3 }, 4), 0.75, 'the busier direction counts');
});

const nodeNames = ['a', 'b', 'c', 'd', 'e'];
const arbInput = fc
  .record({
    capacities: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 5, maxLength: 5 }),
    vips: fc.array(
      fc.record({
        rx: fc.integer({ min: 0, max: 60 }),
        tx: fc.integer({ min: 0, max: 60 }),
        flows: fc.boolean(),
        eligibleMask: fc.integer({ min: 1, max: 31 }),
        ownerPick: fc.nat(),
      }),
      { minLength: 1, maxLength: 25 },
    ),
  })
  .map(({ capacities, vips }) => ({
    capacities: new Map(nodeNames.map((n, i) => [n, capacities[i] as number])),
    vips: vips.map((v, i): PlacedVipInput => {
      const eligible = nodeNames.filter((_, bit) => (v.eligibleMask >> bit) & 1);
      return {
        ip: `10.0.0.${i + 1}`,
        mode: v.flows ? 'flows' : 'single',
        eligible,
        hashedOwner: eligible[v.ownerPick % eligible.length] as string,
        rxBytesPerSecond: v.rx,
        txBytesPerSecond: v.tx,
      };
    }),
  }));

function maxUtil(
  input: { vips: readonly PlacedVipInput[]; capacities: ReadonlyMap<string, number> },
  owners: Map<string, string>,
) {
  const loads = nodeLoads(input.vips, owners, input.capacities.keys());
  return Math.max(...[...loads].map(([n, l]) => utilization(l, input.capacities.get(n) as number)));
}

t.test(
  'property: no move raises the maximum utilization; every VIP has exactly one eligible owner',
  async (t) => {
    fc.assert(
      fc.property(arbInput, ({ vips, capacities }) => {
        const hot = new Map(nodeNames.map((n) => [n, 0]));
        const before = new Map(vips.map((v) => [v.ip, v.hashedOwner]));
        const d = decidePlacement({ vips, capacities, entries: new Map(), hotSinceMs: hot, nowMs: 60_000 });
        const after = new Map(vips.map((v) => [v.ip, placedOwner(v, d.entries.get(v.ip))]));
        for (const v of vips) {
          if (!v.eligible.includes(after.get(v.ip) as string)) return false;
        }
        if (after.size !== vips.length) return false;
        return maxUtil({ vips, capacities }, after) <= maxUtil({ vips, capacities }, before) + 1e-9;
      }),
      { numRuns: 500 },
    );
    t.pass('500 random clusters');
  },
);

t.test('property: constant rates settle — moves stop and no VIP returns to a node it left', async (t) => {
  fc.assert(
    fc.property(arbInput, ({ vips, capacities }) => {
      let entries = new Map<string, PlacementEntry>();
      let hot = new Map<string, number>();
      const left = new Map<string, Set<string>>();
      let quietRounds = 0;
      for (let r = 0; r < 60; r++) {
        const nowMs = r * 31_000;
        const d = decidePlacement({ vips, capacities, entries, hotSinceMs: hot, nowMs });
        for (const m of d.moves) {
          if (left.get(m.ip)?.has(m.to)) return false;
          left.set(m.ip, (left.get(m.ip) ?? new Set()).add(m.from));
        }
        quietRounds = d.moves.length === 0 ? quietRounds + 1 : 0;
        entries = d.entries;
        hot = d.hotSinceMs;
      }
      return quietRounds >= 10;
    }),
    { numRuns: 200 },
  );
  t.pass('200 random clusters settle within 50 rounds');
});
