import t from 'tap';
import { planL2, type AppliedVip } from '../../../src/l2/plan.js';
import { ALL_BUCKETS } from '../../../src/l2/buckets.js';

const answer = (buckets = ALL_BUCKETS, spread = false, interfaces = ['eth0']): AppliedVip => ({
  action: 'answer',
  buckets,
  interfaces,
  spread,
});
const suppress: AppliedVip = { action: 'suppress', spread: false };

t.test('takeover, release, removal, no-op', async (t) => {
  const applied = new Map<string, AppliedVip>([
    ['10.0.0.1', suppress],
    ['10.0.0.2', answer()],
    ['10.0.0.3', answer()],
    ['10.0.0.4', answer()],
  ]);
  const desired = new Map<string, AppliedVip>([
    ['10.0.0.1', answer()],
    ['10.0.0.2', suppress],
    ['10.0.0.3', answer()],
    ['10.0.0.5', suppress],
  ]);
  const plan = planL2(applied, desired);
  t.same(plan.takeovers, [{ ip: '10.0.0.1', interfaces: ['eth0'] }]);
  t.same(plan.set.map((s) => s.ip).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.5']);
  t.same(plan.remove, ['10.0.0.4']);
  t.same(plan.released.sort(), ['10.0.0.2', '10.0.0.4']);
  t.same(plan.gained, []);
  const again = planL2(desired, desired);
  t.same(
    again,
    { set: [], remove: [], takeovers: [], gained: [], released: [] },
    'applying twice is a no-op',
  );
});

t.test('spread: only gained buckets are announced, never a broadcast takeover', async (t) => {
  const applied = new Map([['10.0.0.9', answer(0b0011n, true)]]);
  const desired = new Map([['10.0.0.9', answer(0b0111n, true)]]);
  const plan = planL2(applied, desired);
  t.same(plan.takeovers, []);
  t.same(plan.gained, [{ ip: '10.0.0.9', buckets: 0b0100n, interfaces: ['eth0'] }]);
  const fresh = planL2(new Map(), desired);
  t.same(fresh.gained, [{ ip: '10.0.0.9', buckets: 0b0111n, interfaces: ['eth0'] }]);
  const shrink = planL2(desired, applied);
  t.same(shrink.gained, [], 'losing buckets announces nothing');
  t.equal(shrink.set.length, 1, 'but rewrites the bitmap');
});

t.test('moving to another interface re-announces', async (t) => {
  const plan = planL2(
    new Map([['10.0.0.1', answer(ALL_BUCKETS, false, ['eth0'])]]),
    new Map([['10.0.0.1', answer(ALL_BUCKETS, false, ['eth1'])]]),
  );
  t.same(plan.takeovers, [{ ip: '10.0.0.1', interfaces: ['eth1'] }]);
});

t.test('the same state object in the map and in the decisions: nothing to do, unless unsure', async (t) => {
  const owned = answer();
  const applied = new Map<string, AppliedVip>([
    ['10.0.0.1', owned],
    ['10.0.0.2', suppress],
  ]);
  const desired = new Map<string, AppliedVip>([
    ['10.0.0.1', owned],
    ['10.0.0.2', suppress],
  ]);
  t.same(planL2(applied, desired), { set: [], remove: [], takeovers: [], gained: [], released: [] });
  const plan = planL2(applied, desired, new Set(['10.0.0.1', '10.0.0.2']));
  t.same(
    plan.set.map((s) => s.ip),
    ['10.0.0.1', '10.0.0.2'],
    'an entry a failed apply may have written is written again, even when its state is the same object',
  );
  t.same(plan.takeovers, [], 'and is no takeover');
});
