import t from 'tap';
import { RoundDecider, type RoundInputs } from '../../../src/speaker/decider.js';
import { groupVips, type MemberView } from '../../../src/speaker/l2-inputs.js';
import { decideVips } from '../../../src/speaker/l2-part.js';
import { serviceAllocations } from '../../../src/speaker/model-source.js';
import { TimeSlicer } from '../../../src/util/slices.js';
import { scaleConfig } from '../../helpers/scale.js';
import { IFACE, parseModel } from './fakes.js';

const model = parseModel(scaleConfig(200, ['a', 'b', 'c']));
const { allocations } = serviceAllocations(model, 'compute');
const view = (name: string, alive = true, failing?: Record<string, string>): MemberView => ({
  name,
  alive,
  meta: { interfaces: [IFACE], labels: {}, ...(failing ? { failing } : {}) },
});
const inputs = (members: MemberView[], placement: object = {}): RoundInputs => ({
  model,
  allocations,
  members,
  semantics: 'standalone',
  placement,
  placedOwners: () => new Map(),
});
const fresh = () => new TimeSlicer({ budgetMs: 1000 });

t.test('the decisions of decideVips; the same array again while the inputs are the same', async (t) => {
  const d = new RoundDecider();
  const members = [view('a'), view('b'), view('c')];
  const placement = {};
  const groups = await d.groups(inputs(members, placement), fresh());
  t.same(groups, groupVips(model, allocations, members, 'standalone'));
  const first = await d.decide(inputs(members, placement), groups, fresh());
  t.same(first, decideVips(model, allocations, members, groups));
  t.equal(first.length, 200);
  // A new snapshot of the same view (a resync, a gossip update that changes nothing decided on).
  const again = [view('a'), view('b'), view('c')];
  t.equal(await d.groups(inputs(again, placement), fresh()), groups, 'groups reused');
  t.equal(await d.decide(inputs(again, placement), groups, fresh()), first, 'decisions reused');
  t.same(d.stats, { hits: 1, computed: 1, reused: 0, redecided: 0 });
});

t.test('a change the decision reads computes again; a few recent views are kept', async (t) => {
  const d = new RoundDecider();
  const all = [view('a'), view('b'), view('c')];
  const bDead = [view('a'), view('b', false), view('c')];
  const placement = {};
  const groups = await d.groups(inputs(all, placement), fresh());
  const withAll = await d.decide(inputs(all, placement), groups, fresh());
  const withoutB = await d.decide(inputs(bDead, placement), groups, fresh());
  t.same(withoutB, decideVips(model, allocations, bDead, groups));
  t.notOk(
    withoutB.some((x) => x.owner === 'b'),
    'b owns nothing once dead',
  );
  t.equal(await d.decide(inputs(all, placement), groups, fresh()), withAll, 'the earlier view is still kept');
  t.not(await d.decide(inputs(all, {}), groups, fresh()), withAll, 'a new placement map computes again');
  const failing = [view('a'), view('b', true, { 'scale/s1': 'down' }), view('c')];
  t.not(await d.groups(inputs(failing, placement), fresh()), groups, 'a failing check regroups');
});

t.test(
  'a membership change decides every VIP again from the last round, asking only who changed',
  async (t) => {
    const four = parseModel(scaleConfig(200, ['a', 'b', 'c', 'd', 'e']));
    const { allocations: allocated } = serviceAllocations(four, 'compute');
    const placement = {};
    const on = (members: MemberView[]): RoundInputs => ({
      ...inputs(members, placement),
      model: four,
      allocations: allocated,
    });
    const d = new RoundDecider();
    const eth1 = { name: 'eth1', cidrs: ['10.1.0.2/24'] };
    const steps: Array<[string, MemberView[]]> = [
      ['start', [view('a'), view('b'), view('c'), view('d')]],
      ['d dies', [view('a'), view('b'), view('c'), view('d', false)]],
      ['d gone', [view('a'), view('b'), view('c')]],
      ['e joins, in another order', [view('e'), view('c'), view('a'), view('b')]],
      [
        'b loses eth0',
        [
          view('e'),
          view('c'),
          view('a'),
          { name: 'b', alive: true, meta: { interfaces: [eth1], labels: {} } },
        ],
      ],
      ['b without metadata', [view('e'), view('c'), view('a'), { name: 'b', alive: true }]],
    ];
    const groups = await d.groups(on(steps[0]?.[1] ?? []), fresh());
    for (const [what, members] of steps) {
      const decided = await d.decide(on(members), groups, fresh());
      t.same(decided, decideVips(four, allocated, members, groups), what);
    }
    t.same(d.stats, { hits: 0, computed: 6, reused: 0, redecided: 5 * 200 });
    const last = await d.decide(on(steps[5]?.[1] ?? []), groups, fresh());
    t.ok(
      last.every((x) => x.owner !== 'b') && last.some((x) => x.owner === 'e'),
      'b, without an announcing interface, owns nothing; e owns some',
    );
  },
);

t.test('many VIPs: computed in slices, the event loop given back between them', async (t) => {
  let clock = 0;
  const slicer = new TimeSlicer({
    budgetMs: 5,
    now: () => (clock += 0.1), // every clock read costs 0.1 ms
  });
  const d = new RoundDecider();
  const members = [view('a'), view('b'), view('c')];
  const groups = await d.groups(inputs(members), slicer);
  const decisions = await d.decide(inputs(members), groups, slicer);
  t.equal(decisions.length, 200);
  t.ok(slicer.yields >= 5, `yielded ${slicer.yields} times`);
});
