import t from 'tap';
import { decideL2, type L2NodeInput, type L2VipInput } from '../../../src/l2/desired.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import {
  fenced,
  isolationEnded,
  pulse,
  starting,
  type Freshness,
  type PulseInputs,
} from '../../../src/l2/watch/freshness.js';
import {
  checkSilence,
  cutOffFromAll,
  newPeerWatch,
  outgoing,
  peerPacket,
  holdsOurs,
  readiness,
  reportsUsUp,
  WATCH_DIAG_HOLDING,
  WATCH_DIAG_STARTING,
  watchMachineConfig,
  type PeerWatchState,
} from '../../../src/l2/watch/peer.js';
import { watchTargets, watchTargetsSliced } from '../../../src/l2/watch/targets.js';
import { TimeSlicer } from '../../../src/util/slices.js';
import { aliveForOwnership, GossipDeaths, joinerCounts, ownershipViews } from '../../../src/l2/watch/view.js';

const lan = [{ name: 'eth0', cidrs: ['10.0.0.11/24'] }];
const node = (name: string): L2NodeInput => ({ name, alive: true, excluded: false, interfaces: lan });
const vip = (ip: string, spread = false): L2VipInput => ({
  ip,
  services: ['d/w'],
  externalTrafficPolicy: 'Cluster',
  readyNodes: new Set(['a', 'b', 'c']),
  advertisements: [{ name: 'l2', interfaces: [], spread }],
});

t.test('targets: the second in rendezvous order watches the first, both ends agree', async (t) => {
  const ips = ['10.0.0.200', '10.0.0.201', '10.0.0.202', '10.0.0.203'];
  const decisions = decideL2(
    ips.map((ip) => vip(ip)),
    ['a', 'b', 'c'].map(node),
  );
  const all = new Map(['a', 'b', 'c'].map((n) => [n, watchTargets(decisions, n)]));
  for (const ip of ips) {
    const [first, second] = rendezvousOrder(ip, ['a', 'b', 'c']);
    t.ok(all.get(second!)?.watching.has(first!), `${second} watches ${first} for ${ip}`);
    t.ok(all.get(first!)?.watchedBy.has(second!), `${first} knows ${second} watches it`);
  }
  for (const [n, tg] of all) t.notOk(tg.watching.has(n) || tg.watchedBy.has(n), `${n} never watches itself`);
  for (const [a, tg] of all)
    for (const b of tg.watching) t.ok(all.get(b)?.watchedBy.has(a), `${a}→${b} symmetric`);
});

t.test('targets: spread VIPs pair per bucket; one node alone or none mode watches nothing', async (t) => {
  const spread = decideL2([vip('10.0.0.240', true)], ['a', 'b', 'c'].map(node));
  const a = watchTargets(spread, 'a');
  t.ok(a.watching.size > 0 && a.watchedBy.size > 0, 'spread: a watches and is watched');
  const alone = decideL2([vip('10.0.0.200')], [node('a')]);
  t.same(watchTargets(alone, 'a'), { watching: new Set(), watchedBy: new Set() });
  const none = decideL2([{ ...vip('10.0.0.200'), readyNodes: new Set() }], ['a', 'b'].map(node));
  t.same(watchTargets(none, 'a'), { watching: new Set(), watchedBy: new Set() });
});

const cfg = watchMachineConfig(20, 8);

const wire = (p: ReturnType<typeof outgoing>['packet']) => ({
  ...p,
  version: 1,
  controlPlaneIndependent: false,
  authPresent: false,
  demand: false,
  multipoint: false,
});

/** Runs a handshake between two pure sessions: returns both after they are up. */
function handshake(now: number): [PeerWatchState, PeerWatchState] {
  let x = newPeerWatch(1, now);
  let o = newPeerWatch(2, now);
  for (let i = 0; i < 3; i++) {
    const fromX = outgoing(x, cfg);
    x = fromX.next;
    o = peerPacket(o, wire(fromX.packet), now, cfg);
    const fromO = outgoing(o, cfg);
    o = fromO.next;
    x = peerPacket(x, wire(fromO.packet), now, cfg);
  }
  return [x, o];
}

t.test(
  'peer: unknown until the handshake, up after it, down after the detection time of silence',
  async (t) => {
    const fresh = newPeerWatch(1, 0);
    t.equal(fresh.verdict, 'unknown');
    t.equal(checkSilence(fresh, 10_000, 160, false).verdict, 'unknown', 'silence before up says nothing');
    const [x] = handshake(1000);
    t.equal(x.verdict, 'up');
    t.equal(checkSilence(x, 1159, 160, false).verdict, 'up', '159 ms of silence: still up');
    const down = checkSilence(x, 1160, 160, false);
    t.equal(down.verdict, 'down', '160 ms: down');
    t.equal(down.machine.state, 'down');
  },
);

t.test('peer: a stall of our own restarts the silence clock instead of a verdict', async (t) => {
  const [x] = handshake(1000);
  const stalled = checkSilence(x, 3000, 160, true);
  t.equal(stalled.verdict, 'up');
  t.equal(checkSilence(stalled, 3159, 160, false).verdict, 'up');
  t.equal(checkSilence(stalled, 3160, 160, false).verdict, 'down');
});

t.test(
  'peer: a reset session is no evidence (unknown); AdminDown is (down); back up after a new handshake',
  async (t) => {
    const [x, o] = handshake(1000);
    const reset = peerPacket(x, wire({ ...outgoing(o, cfg).packet, state: 'down' }), 1010, cfg);
    t.equal(reset.verdict, 'unknown');
    const admin = peerPacket(x, wire({ ...outgoing(o, cfg).packet, state: 'admin-down' }), 1010, cfg);
    t.equal(admin.verdict, 'down');
    // After silence-down, the owner comes back: the session goes through Init to Up.
    let xs = checkSilence(x, 2000, 160, false);
    let os = checkSilence(o, 2000, 160, true);
    for (let i = 0; i < 4 && xs.verdict !== 'up'; i++) {
      const a = outgoing(os, cfg);
      os = a.next;
      xs = peerPacket(xs, wire(a.packet), 2010 + i, cfg);
      const b = outgoing(xs, cfg);
      xs = b.next;
      os = peerPacket(os, wire(b.packet), 2010 + i, cfg);
      if (i === 0) t.equal(xs.verdict, 'down', 'still down until the handshake completes');
    }
    t.equal(xs.verdict, 'up');
  },
);

t.test(
  'peer: reportsUsUp needs Up reports received after the stall, for the hold, still arriving',
  async (t) => {
    const [, o] = handshake(1000);
    t.notOk(
      reportsUsUp(o, 1100, { fromMs: 1050, holdMs: 70, recentMs: 70 }),
      'nothing received after the stall began',
    );
    const after = peerPacket(o, wire({ ...outgoing(o, cfg).packet, state: 'up' }), 1060, cfg);
    t.notOk(
      reportsUsUp(after, 1100, { fromMs: 1050, holdMs: 70, recentMs: 70 }),
      'up only since 1050: 50 ms < hold',
    );
    const later = peerPacket(after, wire({ ...outgoing(o, cfg).packet, state: 'up' }), 1115, cfg);
    t.ok(reportsUsUp(later, 1120, { fromMs: 1050, holdMs: 70, recentMs: 70 }));
    t.notOk(
      reportsUsUp(later, 1200, { fromMs: 1050, holdMs: 70, recentMs: 70 }),
      'nothing heard for more than the hold',
    );
    const down = peerPacket(later, wire({ ...outgoing(o, cfg).packet, state: 'down' }), 1125, cfg);
    t.notOk(reportsUsUp(down, 1130, { fromMs: 1050, holdMs: 70, recentMs: 70 }), 'a Down report resets it');
  },
);

t.test('peer: Up packets of a successor still holding our VIPs do not report us up', async (t) => {
  const [x, o] = handshake(1000);
  const marked = outgoing(x, cfg, true).packet;
  t.equal(marked.diag, WATCH_DIAG_HOLDING, 'the successor marks its Up packets while it holds');
  t.equal(outgoing(x, cfg, false).packet.diag, outgoing(x, cfg).packet.diag, 'unmarked otherwise');
  let s = o;
  for (let now = 1060; now <= 1200; now += 20) s = peerPacket(s, wire(marked), now, cfg);
  t.equal(s.verdict, 'up', 'the session itself is up');
  t.notOk(
    reportsUsUp(s, 1200, { fromMs: 1050, holdMs: 70, recentMs: 70 }),
    'but it does not report us up while holding',
  );
  for (let now = 1220; now <= 1300; now += 20) s = peerPacket(s, wire(outgoing(x, cfg).packet), now, cfg);
  t.ok(
    reportsUsUp(s, 1300, { fromMs: 1050, holdMs: 70, recentMs: 70 }),
    'released: reported up after the hold',
  );
});

t.test('view: the watch wins over gossip both ways; gossip deaths wait for the hold', async (t) => {
  t.ok(aliveForOwnership('up', { alive: false, deadForMs: 5000 }, 120));
  t.notOk(aliveForOwnership('down', { alive: true, deadForMs: undefined }, 120));
  t.ok(aliveForOwnership('unknown', { alive: true, deadForMs: undefined }, 120));
  t.ok(aliveForOwnership('unknown', { alive: false, deadForMs: 119 }, 120));
  t.notOk(aliveForOwnership('unknown', { alive: false, deadForMs: 120 }, 120));
  t.notOk(aliveForOwnership('unknown', { alive: false, deadForMs: undefined }, 120));
});

const inputs = (nowMs: number, over: Partial<PulseInputs> = {}): PulseInputs => ({
  nowMs,
  ready: true,
  intervalMs: 20,
  livenessBoundMs: 110,
  lateTickMs: 20,
  capMs: 2000,
  refreshHoldMs: 70,
  watchers: () => [],
  ...over,
});

t.test('freshness: stale from the start until ready, then beats every pulse', async (t) => {
  let f: Freshness = starting();
  let s = pulse(f, inputs(0, { ready: false }));
  t.notOk(s.beat);
  f = s.next;
  s = pulse(f, inputs(20, { ready: false }));
  t.notOk(s.beat, 'not ready: no beat');
  t.equal(s.next.stale?.sinceMs, undefined, 'the stale state of a start begins once ready');
  s = pulse(s.next, inputs(40));
  t.notOk(s.beat, 'ready: the stale state begins (nothing heard since yet)');
  t.equal(s.next.stale?.sinceMs, 40);
  s = pulse(s.next, inputs(60));
  t.ok(s.beat, 'nobody watches: beat');
  t.equal(s.refreshed?.reason, 'start');
  s = pulse(s.next, inputs(80));
  t.ok(s.beat);
  t.notOk(s.stalled);
});

t.test('freshness: a late pulse within the bound beats; beyond it the speaker goes stale', async (t) => {
  let s = pulse(starting(), inputs(0));
  s = pulse(s.next, inputs(1));
  t.ok(s.beat);
  s = pulse(s.next, inputs(100));
  t.ok(s.beat, '99 ms gap < 110 ms bound: the gate never closed');
  t.ok(s.stalled, 'but it is a late tick');
  const watchers = (up: boolean) => () => [{ name: 'x', reportsUp: up }];
  s = pulse(s.next, inputs(1600, { watchers: watchers(true) }));
  t.notOk(s.beat, '1.5 s stall: the gate closed, stale');
  t.same(s.becameStale, { gapMs: 1500 });
  s = pulse(s.next, inputs(1620, { watchers: watchers(false) }));
  t.notOk(s.beat, 'watcher has not reported us up since');
  let since = -1;
  s = pulse(s.next, inputs(1700, { watchers: (x) => ((since = x), [{ name: 'x', reportsUp: true }]) }));
  t.equal(since, 1600, 'watchers are asked about reports since the stall');
  t.ok(s.beat);
  t.same(s.refreshed, { afterMs: 100, reason: 'stall', gaveUpOn: [] });
});

t.test('freshness: watchers that never answer are given up on at the cap', async (t) => {
  let s = pulse(starting(), inputs(0, { watchers: () => [{ name: 'x', reportsUp: false }] }));
  for (let now = 20; now < 2000; now += 20) {
    s = pulse(s.next, inputs(now, { watchers: () => [{ name: 'x', reportsUp: false }] }));
    t.notOk(s.beat);
  }
  s = pulse(s.next, inputs(2000, { watchers: () => [{ name: 'x', reportsUp: false }] }));
  t.ok(s.beat);
  t.same(s.refreshed?.gaveUpOn, ['x']);
});

t.test('freshness: a watcher heard saying it holds our VIPs is waited for past the cap', async (t) => {
  const holding = (h: boolean) => () => [{ name: 'x', reportsUp: false, holding: h }];
  let s = pulse(starting(), inputs(0, { watchers: holding(true) }));
  for (let now = 20; now <= 5000; now += 20) {
    s = pulse(s.next, inputs(now, { watchers: holding(true) }));
    t.notOk(s.beat, `${now} ms`);
  }
  s = pulse(s.next, inputs(5020, { watchers: holding(false) }));
  t.ok(s.beat, 'no longer heard holding (silent): given up on, the cap has passed');
  t.same(s.refreshed?.gaveUpOn, ['x']);
});

t.test(
  'freshness: a watcher heard since the stall is waited for past the cap, however silent since',
  async (t) => {
    // Starved peers: packets seconds apart, holding marks that read as stale, a watch verdict that flaps.
    const heard = (reportsUp: boolean) => () => [{ name: 'x', reportsUp, heard: true }];
    let s = pulse(starting(), inputs(0, { watchers: heard(false) }));
    const overdue: Array<{ at: number; waitingFor: string[] }> = [];
    for (let now = 20; now <= 12_000; now += 20) {
      s = pulse(s.next, inputs(now, { watchers: heard(false) }));
      t.notOk(s.beat, `${now} ms`);
      if (s.beat) break;
      if (s.overdue) overdue.push({ at: now, waitingFor: s.overdue.waitingFor });
    }
    t.same(overdue, [{ at: 2000, waitingFor: ['x'] }], 'reported overdue once, at the cap');
    s = pulse(s.next, inputs(12_020, { watchers: heard(true) }));
    t.ok(s.beat, 'reported up: open');
    t.same(s.refreshed?.gaveUpOn, [], 'nobody given up on');
  },
);

t.test('peer: holdsOurs needs a holding report received after sinceMs and still arriving', async (t) => {
  const [x, o] = handshake(1000);
  const marked = wire(outgoing(x, cfg, true).packet);
  t.notOk(holdsOurs(o, 1100, 200, 1050), 'nothing received after 1050');
  const s = peerPacket(o, marked, 1060, cfg);
  t.ok(holdsOurs(s, 1100, 200, 1050));
  t.notOk(holdsOurs(s, 1300, 200, 1050), 'not heard for longer than 200 ms');
  t.notOk(holdsOurs(s, 1100, 200, 1070), 'received before sinceMs');
  const released = peerPacket(s, wire(outgoing(x, cfg).packet), 1080, cfg);
  t.notOk(holdsOurs(released, 1100, 200, 1050), 'its last packet no longer holds');
});

t.test('freshness: a watcher gossip calls dead and the watch does not hear is not waited for', async (t) => {
  let s = pulse(starting(), inputs(0));
  s = pulse(s.next, inputs(20));
  t.ok(s.beat);
  const both = (xUp: boolean) => () => [
    { name: 'x', reportsUp: xUp },
    { name: 'dead', reportsUp: false, gone: true },
  ];
  s = pulse(s.next, inputs(300, { watchers: both(false) }));
  t.ok(s.becameStale, 'a 280 ms stall: stale');
  s = pulse(s.next, inputs(320, { watchers: both(false) }));
  t.notOk(s.beat, 'still waiting for the live watcher');
  s = pulse(s.next, inputs(340, { watchers: both(true) }));
  t.ok(s.beat, 'the live watcher reported us up: the dead one is not waited for');
  t.same(s.refreshed, { afterMs: 40, reason: 'stall', gaveUpOn: [] });
});

t.test(
  'freshness: after isolation, stale until watchers report up and nothing of an up peer is answered',
  async (t) => {
    let s = pulse(starting(), inputs(0));
    s = pulse(s.next, inputs(20));
    t.ok(s.beat);
    const f = isolationEnded(s.next, 30);
    t.same(f.stale, { reason: 'isolated', sinceMs: 30 });
    t.equal(isolationEnded(f, 35), f, 'already stale: unchanged');
    const up = () => [{ name: 'x', reportsUp: true }];
    s = pulse(f, inputs(40, { watchers: () => [{ name: 'x', reportsUp: false }] }));
    t.notOk(s.beat, 'the watcher still holds our VIPs');
    s = pulse(s.next, inputs(60, { watchers: up, stillAnswering: ['x'] }));
    t.notOk(s.beat, 'our own decision still answers some of x');
    s = pulse(s.next, inputs(80, { watchers: up, stillAnswering: [] }));
    t.ok(s.beat);
    t.same(s.refreshed, { afterMs: 50, reason: 'isolated', gaveUpOn: [] });
  },
);

t.test('ownershipViews: corrects gossip by the watch and holds fresh gossip deaths', async (t) => {
  const gossip = [
    { name: 'self', alive: true },
    { name: 'o', alive: true },
    { name: 'p', alive: false },
    { name: 'q', alive: false },
  ];
  const verdicts: Record<string, 'up' | 'down' | 'unknown'> = { o: 'down', p: 'unknown', q: 'up' };
  const r = ownershipViews(
    gossip,
    'self',
    (n) => verdicts[n] ?? 'unknown',
    (n) => (n === 'p' ? 50 : undefined),
    120,
  );
  t.ok(r.changed);
  t.same(
    r.views.map((v) => [v.name, v.alive]),
    [
      ['self', true],
      ['o', false],
      ['p', true],
      ['q', true],
    ],
  );
  t.equal(r.recheckInMs, 70, 'p is held for the rest of the 120 ms');
  const plain = ownershipViews(
    gossip.slice(0, 2),
    'self',
    () => 'unknown',
    () => undefined,
    120,
  );
  t.notOk(plain.changed);
  t.equal(plain.recheckInMs, undefined);
});

t.test('GossipDeaths: from the first dead/leave until join/alive', async (t) => {
  let now = 1000;
  const d = new GossipDeaths(() => now);
  d.note('suspect', 'a');
  t.equal(d.deadForMs('a'), undefined);
  d.note('dead', 'a');
  now = 1100;
  d.note('leave', 'a');
  t.equal(d.deadForMs('a'), 100, 'the first verdict counts');
  d.note('alive', 'a');
  t.equal(d.deadForMs('a'), undefined);
});

t.test('watchTargetsSliced gives the same pairs as watchTargets, yielding between slices', async (t) => {
  const nodes = ['a', 'b', 'c'].map(node);
  const vips: L2VipInput[] = Array.from({ length: 3000 }, (_, i) => ({
    ip: `10.0.${i >> 8}.${i & 255}`,
    services: [`default/s${i}`],
    externalTrafficPolicy: 'Cluster',
    readyNodes: 'undeclared',
    advertisements: [{ name: 'l2', interfaces: [], spread: i % 500 === 0 }],
  }));
  const decisions = decideL2(vips, nodes);
  const slicer = new TimeSlicer({ budgetMs: 0.01 });
  for (const self of ['a', 'b', 'c', 'x']) {
    t.same(await watchTargetsSliced(decisions, self, slicer), watchTargets(decisions, self), self);
  }
  t.ok(slicer.yields > 0, `${slicer.yields} yields`);
});

t.test('peer: cut off from all needs two up sessions, every one silent for the fence time', async (t) => {
  const [b] = handshake(1000);
  const [c] = handshake(1040);
  const down = checkSilence(handshake(500)[0], 900, 160, false);
  t.equal(cutOffFromAll([b, c], 1149, 110), undefined, 'c silent 109 ms only');
  t.equal(cutOffFromAll([b, c], 1150, 110), 110, 'both silent >= 110 ms: the shortest silence');
  t.equal(cutOffFromAll([b], 1500, 110), undefined, 'one session: a restart of that peer looks the same');
  t.equal(cutOffFromAll([b, down], 1500, 110), undefined, 'a peer already down does not count');
  t.equal(cutOffFromAll([b, c, newPeerWatch(9, 0)], 1150, 110), 110, 'one never up does not count');
  t.equal(
    cutOffFromAll([b, checkSilence(c, 1100, 160, true)], 1150, 110),
    undefined,
    'a stall moves the baseline',
  );
});

t.test('freshness: fenced stays shut until a peer is heard, then waits for the watchers', async (t) => {
  let s = pulse(starting(), inputs(0));
  s = pulse(s.next, inputs(20));
  t.ok(s.beat);
  let f = fenced(s.next, 30);
  const gone = () => [{ name: 'x', reportsUp: false, gone: true }];
  for (let now = 40; now < 2030; now += 20) {
    const step = pulse(f, inputs(now, { watchers: gone, heardSince: () => false }));
    t.notOk(step.beat, `${now} ms: nobody heard, within the cap`);
    f = step.next;
  }
  const heard = pulse(
    f,
    inputs(1000, { watchers: () => [{ name: 'x', reportsUp: false }], heardSince: () => true }),
  );
  t.notOk(heard.beat, 'heard, but the watcher has not reported it up');
  const up = pulse(
    f,
    inputs(1000, { watchers: () => [{ name: 'x', reportsUp: true }], heardSince: () => true }),
  );
  t.ok(up.beat, 'heard and reported up');
  t.equal(up.refreshed?.reason, 'fenced');
  const alone = pulse(f, inputs(2030, { watchers: gone, heardSince: () => false }));
  t.ok(alone.beat, 'the cap passed: alone');
});

t.test('peer: a successor holding our VIPs says so in Down and Init packets too', async (t) => {
  const [x, o] = handshake(1000);
  // The successor declared us down (we were silent) and took our VIPs over: its session is Down.
  const down = checkSilence(x, 2000, 200, false);
  t.equal(down.machine.state, 'down');
  const marked = outgoing(down, cfg, true).packet;
  t.equal(marked.state, 'down');
  t.equal(marked.diag, WATCH_DIAG_HOLDING, 'marked in the Down state');
  const s = peerPacket(o, wire(marked), 2010, cfg);
  t.ok(holdsOurs(s, 2020, 200, 1900), 'the owner hears that it still holds its VIPs');
  t.notOk(reportsUsUp(s, 2100, { fromMs: 1900, holdMs: 70, recentMs: 70 }));
  const unmarked = peerPacket(o, wire(outgoing(down, cfg).packet), 2010, cfg);
  t.notOk(holdsOurs(unmarked, 2020, 200, 1900), 'unmarked when it holds nothing');
});

t.test('freshness: a late pulse past the cap gives up on nobody (the watchers are unread)', async (t) => {
  const holding = (h: boolean) => () => [{ name: 'x', reportsUp: false, holding: h }];
  let s = pulse(starting(), inputs(0, { watchers: holding(true) }));
  for (let now = 20; now <= 3000; now += 20) s = pulse(s.next, inputs(now, { watchers: holding(true) }));
  t.notOk(s.beat, 'past the cap, waiting for the watcher heard holding');
  // 300 ms not scheduled: the watcher's last packet read is older than its silence limit.
  s = pulse(s.next, inputs(3300, { watchers: holding(false) }));
  t.ok(s.stalled);
  t.notOk(s.beat, 'no giving up on the pulse that came late');
  s = pulse(s.next, inputs(3320, { watchers: holding(true) }));
  t.notOk(s.beat, 'read again: it still holds');
  s = pulse(s.next, inputs(3340, { watchers: () => [{ name: 'x', reportsUp: true }] }));
  t.ok(s.beat, 'handed back and reported up: open');
  t.same(s.refreshed?.gaveUpOn, []);
});

t.test('freshness: our own decision still answering a peer the watch hears has no cap', async (t) => {
  // A joining speaker's first round counted a member out (its gossip had it dead); the member's watch
  // session is up, and the round that counts it alive takes longer than the cap at 10,000 VIPs.
  const over = (answering: string[]) => ({ watchers: () => [], stillAnswering: answering });
  let s = pulse(starting(), inputs(0, over(['x'])));
  for (let now = 20; now <= 5000; now += 20) {
    s = pulse(s.next, inputs(now, over(['x'])));
    t.notOk(s.beat, `${now} ms`);
  }
  s = pulse(s.next, inputs(5020, over([])));
  t.ok(s.beat, 'the control loop caught up: open');
  t.same(s.refreshed, { afterMs: 5020, reason: 'start', gaveUpOn: [] });
});

/** A watcher that has not reported us up (heard since the stale state began, or not), and what it was asked. */
function askedAbout(heard: boolean) {
  const asked: Array<{ sinceMs: number; fromMs: number; holdMs: number }> = [];
  const watchers: PulseInputs['watchers'] = (sinceMs, r) => {
    asked.push({ sinceMs, ...r });
    return [{ name: 'x', reportsUp: false, heard }];
  };
  return { asked, watchers };
}

t.test(
  'freshness: a start counts each watcher from its first unmarked Up report; a stall needs the hold',
  async (t) => {
    const { asked, watchers } = askedAbout(false);
    let s = pulse(starting(), inputs(0, { watchers }));
    s = pulse(s.next, inputs(20, { watchers }));
    t.same(asked.at(-1), { sinceMs: 0, fromMs: 0, holdMs: 0 }, 'a start: no hold (never silent before)');
    s = pulse(s.next, inputs(40, { watchers: () => [{ name: 'x', reportsUp: true }] }));
    t.ok(s.beat, 'open');
    s = pulse(s.next, inputs(60, { watchers }));
    s = pulse(s.next, inputs(400, { watchers }));
    t.ok(s.becameStale, 'a 340 ms stall');
    s = pulse(s.next, inputs(420, { watchers }));
    t.same(asked.at(-1), { sinceMs: 400, fromMs: 400, holdMs: 70 }, 'after a stall: the hold');
  },
);

t.test(
  'freshness: a late pulse while stale starts the reports over, with the hold, at a start too',
  async (t) => {
    const { asked, watchers } = askedAbout(true);
    let s = pulse(starting(), inputs(0, { watchers }));
    for (let now = 20; now <= 100; now += 20) s = pulse(s.next, inputs(now, { watchers }));
    t.same(asked.at(-1), { sinceMs: 0, fromMs: 0, holdMs: 0 });
    // Not scheduled for 200 ms: a watcher may have declared this process down meanwhile, its last unmarked
    // packets from before that verdict may still be read: only what arrives after this pulse counts.
    s = pulse(s.next, inputs(300, { watchers }));
    t.ok(s.stalled);
    t.same(asked.at(-1), { sinceMs: 0, fromMs: 300, holdMs: 70 }, 'on the late pulse itself');
    t.notOk(s.beat);
    s = pulse(s.next, inputs(320, { watchers }));
    t.same(asked.at(-1), { sinceMs: 0, fromMs: 300, holdMs: 70 }, 'and on the pulses after it');
    s = pulse(s.next, inputs(340, { watchers: () => [{ name: 'x', reportsUp: true }] }));
    t.ok(s.beat, 'opens once the watcher reports it up in those terms');
    t.equal(s.refreshed?.afterMs, 340, 'the stale time counts from the start (the cap too)');
  },
);

t.test('peer: with no hold, the first unmarked Up packet received after fromMs reports us up', async (t) => {
  const [x, o] = handshake(1000);
  const r = { fromMs: 1050, holdMs: 0, recentMs: 70 };
  t.notOk(reportsUsUp(o, 1060, r), 'nothing received after fromMs');
  const marked = peerPacket(o, wire(outgoing(x, cfg, true).packet), 1060, cfg);
  t.notOk(reportsUsUp(marked, 1061, r), 'a marked packet does not');
  const up = peerPacket(marked, wire(outgoing(x, cfg).packet), 1080, cfg);
  t.ok(reportsUsUp(up, 1080, r), 'the first unmarked one does');
  t.notOk(reportsUsUp(up, 1151, r), 'not once it is older than recentMs');
  t.notOk(reportsUsUp(up, 1080, { ...r, holdMs: 70 }), 'with the hold it would not yet');
});

t.test('peer: a starting peer says so until its first decision is applied, holding or not', async (t) => {
  const [x, o] = handshake(1000);
  t.equal(readiness(undefined), 'unheard');
  t.equal(readiness(newPeerWatch(7, 1000)), 'unheard', 'no packet yet');
  const starting = outgoing(x, cfg, false, true).packet;
  t.equal(starting.diag, WATCH_DIAG_STARTING);
  t.equal(outgoing(x, cfg, true, true).packet.diag, WATCH_DIAG_STARTING, 'starting wins (its gate is shut)');
  let s = peerPacket(o, wire(starting), 1100, cfg);
  t.equal(readiness(s), 'starting');
  t.equal(s.verdict, 'up', 'the session is up all the same');
  s = peerPacket(s, wire(outgoing(x, cfg).packet), 1120, cfg);
  t.equal(readiness(s), 'ready', 'applied: no flag');
});

t.test('view: a joiner counts once ready, not while starting, and after the wait when unheard', async (t) => {
  t.same(joinerCounts({ readiness: 'ready', joinedForMs: 0 }, 180), { counts: true });
  t.same(joinerCounts({ readiness: 'starting', joinedForMs: 60_000 }, 180), { counts: false });
  t.same(joinerCounts({ readiness: 'unheard', joinedForMs: 50 }, 180), { counts: false, recheckInMs: 130 });
  t.same(joinerCounts({ readiness: 'unheard', joinedForMs: 180 }, 180), { counts: true });
  const gossip = [
    { name: 'self', alive: true },
    { name: 'j', alive: true },
    { name: 'k', alive: true },
    { name: 'gone', alive: false },
  ];
  const joiners = {
    of: (name: string) =>
      name === 'j'
        ? { readiness: 'starting' as const, joinedForMs: 10 }
        : name === 'k' || name === 'gone'
          ? { readiness: 'unheard' as const, joinedForMs: 100 }
          : undefined,
    waitMs: 180,
  };
  const v = ownershipViews(
    gossip,
    'self',
    () => 'unknown',
    () => undefined,
    140,
    joiners,
  );
  t.same(
    v.views.map((m) => [m.name, m.alive]),
    [
      ['self', true],
      ['j', false],
      ['k', false],
      ['gone', false],
    ],
  );
  t.ok(v.changed);
  t.equal(v.recheckInMs, 80, 'decided again when the wait for k runs out');
});

t.test(
  'peer: readiness is unknown again once the peer is down (its next process may be starting)',
  async (t) => {
    const [x, o] = handshake(1000);
    let s = peerPacket(o, wire(outgoing(x, cfg).packet), 1100, cfg);
    t.equal(readiness(s), 'ready');
    s = peerPacket(s, wire({ ...outgoing(x, cfg).packet, state: 'admin-down' }), 1120, cfg);
    t.equal(readiness(s), 'unheard', 'it stopped on purpose');
    s = peerPacket(s, wire(outgoing(x, cfg, false, true).packet), 1500, cfg);
    t.equal(readiness(s), 'starting', 'its next process says so');
    const [y, p] = handshake(3000);
    let q = peerPacket(p, wire(outgoing(y, cfg).packet), 3100, cfg);
    t.equal(readiness(q), 'ready');
    q = checkSilence(q, 3400, 180, false);
    t.equal(q.verdict, 'down');
    t.equal(readiness(q), 'unheard', 'silent for the detection time');
  },
);
