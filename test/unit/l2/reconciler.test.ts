import t from 'tap';
import { ALL_BUCKETS } from '../../../src/l2/buckets.js';
import type { VipEntry } from '../../../src/datapath/xdp-layout.js';
import type { NodeVipAction } from '../../../src/l2/desired.js';
import { type L2Datapath, L2Reconciler, type L2VipSpec, WRITE_BATCH } from '../../../src/l2/reconciler.js';
import { TimeSlicer } from '../../../src/util/slices.js';

const MAC = Buffer.from('020000000001', 'hex');
const IFACE = { name: 'eth0', ifindex: 2, mac: MAC };

class FakeDatapath implements L2Datapath {
  readonly entries = new Map<string, VipEntry>();
  readonly batches: string[] = [];
  setVips(entries: ReadonlyArray<readonly [string, L2VipSpec]>): void {
    if (entries.length > 0) this.batches.push(`set ${entries.length}`);
    for (const [ip, spec] of entries) {
      this.entries.set(ip, {
        action: spec.action,
        mac: spec.mac ?? Buffer.alloc(6),
        ifindex: spec.ifindex ?? 0,
        vlan: 0,
        buckets: spec.buckets ?? ALL_BUCKETS,
      });
    }
  }
  deleteVips(ips: readonly string[]): void {
    if (ips.length > 0) this.batches.push(`delete ${ips.length}`);
    for (const ip of ips) this.entries.delete(ip);
  }
  vips(): Map<string, VipEntry> {
    return new Map(this.entries);
  }
  learnedClients() {
    return [];
  }
}

const answer = (): NodeVipAction => ({ action: 'answer', buckets: ALL_BUCKETS, interfaces: ['eth0'] });
const actions = (owned: string[], others: string[]) =>
  new Map<string, NodeVipAction>([
    ...owned.map((ip) => [ip, answer()] as const),
    ...others.map((ip) => [ip, { action: 'suppress' }] as const),
  ]);

function reconciler(datapath: FakeDatapath, adoptStale = false) {
  const frames: Array<{ ip: string; priority: string }> = [];
  const r = new L2Reconciler({
    datapath,
    interfaces: [IFACE],
    burstMs: [0, 50],
    refreshMs: 0,
    adoptStale,
    frames: {
      send: (_ifname, fs, priority) => {
        for (const f of fs) frames.push({ ip: [...f.subarray(28, 32)].join('.'), priority });
      },
      close: () => undefined,
    },
  });
  return { r, frames };
}

t.test('a thousand VIPs: one map batch, first frames queued urgent at once', async (t) => {
  const dp = new FakeDatapath();
  const { r, frames } = reconciler(dp);
  t.teardown(() => r.stop());
  const owned = Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const plan = r.apply(actions(owned.slice(0, 400), owned.slice(400)), new Set());
  t.same(dp.batches, ['set 600', 'set 400'], 'one batch of silences, then one of answers');
  t.equal(plan.takeovers.length, 400);
  t.equal(frames.length, 800, 'request + reply per taken VIP');
  t.ok(
    frames.every((f) => f.priority === 'urgent'),
    'burst frames are urgent',
  );
  r.apply(actions(owned.slice(0, 399), owned.slice(400)), new Set());
  t.same(dp.batches.at(-1), 'delete 1', 'a VIP gone from the config is deleted');
});

t.test('a restarted speaker announces the VIPs it keeps once it decides, not before', async (t) => {
  const dp = new FakeDatapath();
  dp.setVips([
    ['10.0.0.1', { action: 'answer', mac: MAC, ifindex: 2 }],
    ['10.0.0.2', { action: 'answer', mac: MAC, ifindex: 2 }],
    ['10.0.0.3', { action: 'suppress' }],
  ]);
  const { r, frames } = reconciler(dp);
  t.teardown(() => r.stop());
  t.equal(frames.length, 0, 'nothing announced while adopting');
  t.equal(dp.entries.get('10.0.0.1')?.action, 'answer', 'live adopted entries keep answering');
  const plan = r.apply(actions(['10.0.0.1'], ['10.0.0.2', '10.0.0.3']), new Set());
  t.same(
    plan.takeovers.map((x) => x.ip),
    ['10.0.0.1'],
    'the kept VIP counts as a takeover',
  );
  t.same(plan.released, ['10.0.0.2']);
  t.same(
    frames.map((f) => f.ip),
    ['10.0.0.1', '10.0.0.1'],
    'burst for the kept VIP only',
  );
  frames.length = 0;
  r.apply(actions(['10.0.0.1'], ['10.0.0.2', '10.0.0.3']), new Set());
  t.equal(frames.length, 0, 'the next decisions announce nothing new');
});

t.test('stale adopted entries (gate closed) are silenced at once, then taken over afresh', async (t) => {
  const dp = new FakeDatapath();
  dp.setVips([['10.0.0.1', { action: 'answer', mac: MAC, ifindex: 2 }]]);
  const { r, frames } = reconciler(dp, true);
  t.teardown(() => r.stop());
  t.equal(dp.entries.get('10.0.0.1')?.action, 'suppress', 'silenced before any decision');
  const plan = r.apply(actions(['10.0.0.1'], []), new Set());
  t.same(
    plan.takeovers.map((x) => x.ip),
    ['10.0.0.1'],
  );
  t.equal(dp.entries.get('10.0.0.1')?.action, 'answer');
  t.equal(frames.length, 2, 'burst');
});

t.test(
  'an interface recreated under its name: entries on it are written again with the new ifindex and MAC, and announced',
  async (t) => {
    const dp = new FakeDatapath();
    const sent: string[] = [];
    const forgotten: string[] = [];
    const r = new L2Reconciler({
      datapath: dp,
      interfaces: [IFACE],
      burstMs: [0],
      refreshMs: 0,
      frames: {
        send: (ifname, fs) => {
          for (const f of fs) sent.push(`${ifname} ${f.subarray(6, 12).toString('hex')}`);
        },
        forget: (ifname) => forgotten.push(ifname),
        close: () => undefined,
      },
    });
    t.teardown(() => r.stop());
    r.apply(actions(['10.0.0.1'], ['10.0.0.2']), new Set());
    t.equal(dp.entries.get('10.0.0.1')?.ifindex, 2);
    sent.length = 0;
    r.setInterfaces([IFACE]);
    r.apply(actions(['10.0.0.1'], ['10.0.0.2']), new Set());
    t.same(sent, [], 'the same interface again changes nothing');
    const mac2 = Buffer.from('020000000002', 'hex');
    r.setInterfaces([{ name: 'eth0', ifindex: 9, mac: mac2 }]);
    t.same(forgotten, ['eth0'], "the frame sender drops the old interface's socket");
    const plan = r.apply(actions(['10.0.0.1'], ['10.0.0.2']), new Set());
    t.equal(dp.entries.get('10.0.0.1')?.ifindex, 9, 'the entry carries the new ifindex');
    t.same(dp.entries.get('10.0.0.1')?.mac, mac2, 'and the new MAC');
    t.same(
      plan.takeovers.map((x) => x.ip),
      ['10.0.0.1'],
      'announced again: the segment learns the new MAC',
    );
    t.ok(sent.length > 0 && sent.every((s) => s === `eth0 ${mac2.toString('hex')}`), 'from the new MAC');
    t.equal(dp.entries.get('10.0.0.2')?.action, 'suppress', 'suppress entries untouched');
  },
);

t.test('reannounce: a burst for every VIP this node answers, none for suppressed ones', async (t) => {
  const dp = new FakeDatapath();
  const { r, frames } = reconciler(dp);
  t.teardown(() => r.stop());
  r.apply(actions(['10.0.0.1', '10.0.0.2'], ['10.0.0.3']), new Set());
  await new Promise((resolve) => setTimeout(resolve, 100)); // the first burst is over
  frames.length = 0;
  t.same(r.reannounce().sort(), ['10.0.0.1', '10.0.0.2']);
  t.same(
    frames.map((f) => f.ip).sort(),
    ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2'],
    'request + reply for each answered VIP at once',
  );
  t.ok(
    frames.every((f) => f.priority === 'urgent'),
    'as a burst',
  );
});

t.test('applySliced: batched writes, silences first, the event loop free between them', async (t) => {
  const dp = new FakeDatapath();
  const { r, frames } = reconciler(dp);
  t.teardown(() => r.stop());
  const ips = Array.from({ length: 1000 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
  // Every VIP answered here at first; then the first 600 go to other nodes, the last 400 stay.
  await r.applySliced(actions(ips, []), new Set(), new TimeSlicer());
  frames.length = 0;
  dp.batches.length = 0;
  let clock = 0;
  const slicer = new TimeSlicer({ budgetMs: 1, now: () => clock });
  const seen: string[] = [];
  const setVips = dp.setVips.bind(dp);
  dp.setVips = (entries) => {
    clock += 1; // every batch spends the whole budget: a yield before the next one
    seen.push(`${entries.length} ${entries[0]?.[1].action}`);
    setVips(entries);
  };
  let timerRan = 0;
  const timer = setInterval(() => timerRan++, 0);
  const moved = actions(ips.slice(600), ips.slice(0, 600));
  const plan = await r.applySliced(moved, new Set(), slicer);
  clearInterval(timer);
  t.same(plan.released.length, 600);
  const released = new Set(ips.slice(0, 600));
  t.same(
    frames.filter((f) => released.has(f.ip)),
    [],
    'a released VIP is never announced, not even between write batches',
  );
  t.same(
    seen,
    [`${WRITE_BATCH} suppress`, `${WRITE_BATCH} suppress`, `${600 - 2 * WRITE_BATCH} suppress`],
    'only the changed entries, in batches of WRITE_BATCH',
  );
  t.ok(slicer.yields >= 2 && timerRan > 0, `yielded ${slicer.yields} times; timers ran in between`);
  t.equal(dp.entries.get('10.2.0.0')?.action, 'suppress');
  t.equal(dp.entries.get(ips[999]!)?.action, 'answer');
});

t.test('applySliced: stops answering before it starts answering, whatever the batch order', async (t) => {
  const dp = new FakeDatapath();
  const { r } = reconciler(dp);
  t.teardown(() => r.stop());
  const ips = Array.from({ length: 2 * WRITE_BATCH }, (_, i) => `10.3.${i >> 8}.${i & 255}`);
  const first = ips.slice(0, WRITE_BATCH);
  const second = ips.slice(WRITE_BATCH);
  await r.applySliced(actions(first, second), new Set(), new TimeSlicer());
  const order: string[] = [];
  const setVips = dp.setVips.bind(dp);
  dp.setVips = (entries) => {
    order.push(...new Set(entries.map(([, s]) => s.action)));
    setVips(entries);
  };
  // The answered half is handed away and the other half taken: every silence is written first.
  await r.applySliced(actions(second, first), new Set(), new TimeSlicer({ budgetMs: 0 }));
  t.same(order, ['suppress', 'answer']);
});

t.test('an apply that fails part-way leaves no answer entry behind', async (t) => {
  for (const sliced of [false, true]) {
    const dp = new FakeDatapath();
    const { r, frames } = reconciler(dp);
    t.teardown(() => r.stop());
    const apply = async (a: Map<string, NodeVipAction>) =>
      sliced ? r.applySliced(a, new Set(), new TimeSlicer()) : r.apply(a, new Set());
    await apply(actions([], ['10.4.0.1', '10.4.0.2']));
    // The decision gives this node 10.4.0.1 and drops 10.4.0.2: the answer is written, then the delete
    // fails (a map error), so the apply throws before it commits.
    const deleteVips = dp.deleteVips.bind(dp);
    dp.deleteVips = () => {
      throw new Error('map error');
    };
    await t.rejects(apply(actions(['10.4.0.1'], [])), /map error/);
    t.equal(dp.entries.get('10.4.0.1')?.action, 'answer', 'the failed apply wrote the answer');
    dp.deleteVips = deleteVips;
    // The next decision is the state before: 10.4.0.1 suppressed, 10.4.0.2 back.
    await apply(actions([], ['10.4.0.1', '10.4.0.2']));
    t.equal(dp.entries.get('10.4.0.1')?.action, 'suppress', `${sliced ? 'sliced' : 'one go'}: written again`);
    t.same(frames, [], 'never announced');
    // A VIP only the failed apply wrote is deleted once no decision wants it.
    dp.deleteVips = () => {
      throw new Error('map error');
    };
    await t.rejects(apply(actions(['10.4.0.3'], ['10.4.0.1'])), /map error/);
    dp.deleteVips = deleteVips;
    await apply(actions([], ['10.4.0.1', '10.4.0.2']));
    t.notOk(dp.entries.has('10.4.0.3'), 'the entry only the failed apply wrote is gone');
  }
});

t.test(
  'VIPs the owner watch took on its own are written by the next apply, whatever it decides',
  async (t) => {
    const dp = new FakeDatapath();
    const { r, frames } = reconciler(dp);
    t.teardown(() => r.stop());
    const none = actions([], ['10.4.0.1', '10.4.0.2', '10.4.0.3']);
    r.apply(none, new Set());
    t.notOk(r.watchTakeoversPending());
    // The pulse thread wrote answer entries for all three (speaker/watch-takeover.ts).
    dp.setVips(['10.4.0.1', '10.4.0.2', '10.4.0.3'].map((ip) => [ip, { action: 'answer' }] as const));
    r.takenByWatch(['10.4.0.1', '10.4.0.2', '10.4.0.3']);
    t.ok(r.watchTakeoversPending());
    frames.length = 0;
    // The round hands 10.4.0.1 back (suppress), keeps 10.4.0.2, and 10.4.0.3 no longer exists.
    const plan = r.apply(new Map([...actions(['10.4.0.2'], ['10.4.0.1'])]), new Set());
    t.equal(dp.entries.get('10.4.0.1')?.action, 'suppress', 'same decision as before the takeover: written');
    t.equal(dp.entries.get('10.4.0.2')?.action, 'answer');
    t.equal(dp.entries.has('10.4.0.3'), false, 'removed');
    t.same(plan.released.sort(), ['10.4.0.1', '10.4.0.3']);
    t.same(
      plan.takeovers.map((x) => x.ip),
      ['10.4.0.2'],
      'the kept one is announced by the round too',
    );
    t.ok(frames.some((f) => f.ip === '10.4.0.2'));
    t.notOk(r.watchTakeoversPending());
  },
);

t.test('a watch takeover during a sliced apply stays pending for the next one', async (t) => {
  const dp = new FakeDatapath();
  const { r } = reconciler(dp);
  t.teardown(() => r.stop());
  const ips = Array.from({ length: 2 * WRITE_BATCH }, (_, i) => `10.5.${i >> 8}.${i & 255}`);
  await r.applySliced(actions([], ips), new Set(), new TimeSlicer());
  const setVips = dp.setVips.bind(dp);
  let once = false;
  dp.setVips = (entries) => {
    setVips(entries);
    if (once) return;
    once = true;
    // Between two batches: the pulse thread answers 10.9.0.1, which this apply does not cover.
    setVips([['10.9.0.1', { action: 'answer' }]]);
    r.takenByWatch(['10.9.0.1']);
  };
  const spread = new Set<string>();
  await r.applySliced(
    actions([], [...ips.slice(1), '10.9.0.1', ips[0]!]),
    spread,
    new TimeSlicer({ budgetMs: 0 }),
  );
  t.ok(r.watchTakeoversPending(), 'still pending after that apply');
  t.equal(dp.entries.get('10.9.0.1')?.action, 'answer', 'its batch came before the takeover');
  dp.setVips = setVips;
  await r.applySliced(actions([], [...ips, '10.9.0.1']), spread, new TimeSlicer());
  t.equal(dp.entries.get('10.9.0.1')?.action, 'suppress', 'the next apply writes it');
  t.notOk(r.watchTakeoversPending());
});
