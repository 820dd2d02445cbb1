import t, { type Test } from 'tap';
import { DEFAULT_GATE_SETTINGS, deriveGateTiming } from '../../../src/l2/gate.js';
import type { VipDecision } from '../../../src/l2/desired.js';
import { rendezvousOrder } from '../../../src/l2/rendezvous.js';
import { PROFILES } from '../../../src/membership/config.js';
import { OwnershipLiveness } from '../../../src/speaker/ownership.js';
import { TimeSlicer } from '../../../src/util/slices.js';
import { waitFor } from '../../../src/util/wait.js';
import { parseModel, rig, sixServices } from './fakes.js';

const yaml = sixServices(['a', 'b']);
const model = parseModel(yaml);

async function twoNodes(t: Test) {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.membership.set('b', 'alive');
  r.speaker.start();
  await waitFor('decisions with a and b', 2000, () => r.speaker.decisions().some((d) => d.owner === 'b'));
  const ofB = r.speaker
    .decisions()
    .filter((d) => d.owner === 'b')
    .map((d) => d.ip);
  return { r, ofB };
}

t.test(
  'the successor watches the owner; the watch saying down moves the VIPs, up hands them back',
  async (t) => {
    const { r, ofB } = await twoNodes(t);
    t.ok(r.watch.targets.watching.has('b'), 'a watches b (a is second for b’s VIPs)');
    t.ok(r.watch.targets.watchedBy.has('b'), 'and b watches a for a’s');
    t.ok(ofB.every((ip) => r.datapath.action(ip) === 'suppress'));
    r.watch.set('b', 'down');
    await waitFor('a answers b’s VIPs although gossip says b is alive', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'answer'),
    );
    t.ok(r.watch.targets.watching.has('b'), 'a keeps watching b after taking over');
    t.ok(r.watch.holding.has('b'), 'a marks its watch packets to b: it holds b’s VIPs');
    r.watch.set('b', 'up');
    await waitFor('b’s VIPs handed back', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    );
    t.notOk(r.watch.holding.has('b'), 'handed back: the mark is gone');
  },
);

t.test('a gossip death alone waits for the hold; a watch still up vetoes it', async (t) => {
  const { r, ofB } = await twoNodes(t);
  const takeovers: number[] = [];
  r.speaker.on('takeover', () => takeovers.push(performance.now()));
  r.watch.set('b', 'up');
  r.membership.set('b', 'dead');
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.same(takeovers, [], 'b is dead in gossip but its watch packets arrive: no takeover');
  const deadAt = performance.now();
  r.watch.verdicts.delete('b');
  r.membership.set('b', 'alive');
  r.membership.set('b', 'dead');
  await waitFor('takeover after the hold', 2000, () => ofB.every((ip) => r.datapath.action(ip) === 'answer'));
  const hold = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] }).swimTakeoverHoldMs;
  t.ok(
    (takeovers[0] ?? 0) - deadAt >= hold - 2,
    `took over ${Math.round((takeovers[0] ?? 0) - deadAt)} ms after the gossip death (hold ${hold} ms)`,
  );
});

t.test(
  'a successor keeps watching an owner gossip calls dead (to report it up when it returns)',
  async (t) => {
    const { r, ofB } = await twoNodes(t);
    r.membership.set('b', 'dead');
    await waitFor('a answers b’s VIPs after the hold', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'answer'),
    );
    t.ok(r.watch.targets.watching.has('b'), 'a still watches b');
    r.watch.set('b', 'up');
    await waitFor('b heard again: its VIPs handed back before gossip agrees', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    );
  },
);

t.test('the gate stays shut until joined; stop shuts it and tells the watchers', async (t) => {
  const r = rig('a', model, { join: ['10.0.0.2:7946'], startupGraceMs: 300 });
  r.speaker.start();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(r.datapath.heartbeats, 0, 'no heartbeat before the speaker is ready');
  await waitFor('heartbeats once ready', 3000, () => r.datapath.heartbeats > 2);
  await r.speaker.stop();
  t.equal(r.datapath.lastBeat, 0n, 'the gate was shut on stop');
  t.same(r.watch.stopped, { adminDown: true });
});

t.test('watch pairs follow rendezvous order', async (t) => {
  const { r } = await twoNodes(t);
  const ips = r.speaker.decisions().map((d) => d.ip);
  const aFirst = ips.filter((ip) => rendezvousOrder(ip, ['a', 'b'])[0] === 'a');
  t.equal(r.watch.targets.watchedBy.has('b'), aFirst.length > 0);
});

/** Speaker a started alone and answering every VIP; `ofB`: the VIPs that move to b when b joins. */
async function aloneAnswering(t: Test) {
  const r = rig('a', model);
  t.teardown(() => r.speaker.stop());
  r.speaker.start();
  await waitFor(
    'a alone answers every VIP',
    2000,
    () => r.speaker.decisions().length > 0 && r.speaker.decisions().every((d) => d.owner === 'a'),
  );
  const ofB = r.speaker
    .decisions()
    .map((d) => d.ip)
    .filter((ip) => rendezvousOrder(ip, ['a', 'b'])[0] === 'b');
  t.ok(ofB.length > 0, 'some VIPs move to b');
  return { r, ofB };
}

t.test(
  'a member that joins is marked holding until the round that hands it its VIPs is in the datapath',
  async (t) => {
    const { r, ofB } = await aloneAnswering(t);
    // Every mark a posts, with what a's datapath answered of b's future VIPs at that moment.
    const posted: Array<{ holdsB: boolean; answersB: number }> = [];
    const setHolding = r.watch.setHolding.bind(r.watch);
    r.watch.setHolding = (peers) => {
      posted.push({
        holdsB: peers.has('b'),
        answersB: ofB.filter((ip) => r.datapath.action(ip) === 'answer').length,
      });
      setHolding(peers);
    };
    posted.length = 0;
    r.membership.set('b', 'alive');
    await waitFor('b’s VIPs handed to it', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    );
    await waitFor('the mark is gone', 2000, () => !r.watch.holding.has('b'));
    t.ok(
      posted.some((p) => p.holdsB && p.answersB > 0),
      'b was marked while a answered its VIPs',
    );
    t.same(
      posted.filter((p) => p.answersB > 0 && !p.holdsB),
      [],
      'never unmarked while a still answered one of b’s VIPs',
    );
  },
);

const NONE: VipDecision[] = [];

/** Node a's liveness after a first round, with a alone, decided and applied. */
async function aloneApplied(t: Test) {
  const r = rig('a', model);
  const gate = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] });
  const liveness = new OwnershipLiveness({ watch: r.watch, gate }, 'a', () => undefined);
  t.teardown(() => liveness.stop());
  const slicer = new TimeSlicer();
  await liveness.decide(r.membership.members(), () => Promise.resolve(NONE), slicer);
  liveness.applied();
  return { r, liveness, slicer };
}

/** Decisions that arrive only when released: a round still deciding. */
function slowDecisions() {
  let release: () => void = () => undefined;
  const slow = new Promise<VipDecision[]>((resolve) => (release = () => resolve(NONE)));
  return { slow, release };
}

t.test('a member that joins is watched and marked holding before the round decides', async (t) => {
  const { r, liveness, slicer } = await aloneApplied(t);
  t.notOk(r.watch.targets.watchedBy.has('b'));
  r.membership.set('b', 'alive');
  const { slow, release } = slowDecisions();
  const round = liveness.decide(r.membership.members(), () => slow, slicer);
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(r.watch.targets.watchedBy.has('b'), 'b is watched while the decisions are still being computed');
  t.ok(r.watch.targets.watching.has('b'));
  t.ok(r.watch.holding.has('b'), 'and marked holding: a still answers what it will hand to b');
  release();
  await round;
  liveness.applied();
  t.notOk(r.watch.holding.has('b'), 'the round is applied: unmarked');
  // b is no watch pair of a (a's decisions hold no VIP): once a round counting b is applied, neither
  // waits for the other, so a stale a or b is not held up by a non-pair until the cap.
  t.notOk(r.watch.targets.watchedBy.has('b'), 'not a pair: b no longer counts as a watcher of a');
  t.notOk(r.watch.targets.watching.has('b'), 'nor is it watched');
});

t.test(
  'a member that joins during a round is watched at once and stays marked through that round',
  async (t) => {
    const { r, liveness, slicer } = await aloneApplied(t);
    // A round begins with a alone; b joins while it decides.
    const { slow, release } = slowDecisions();
    const before = liveness.decide(r.membership.members(), () => slow, slicer);
    r.membership.set('b', 'alive');
    const b = r.membership.members().find((m) => m.name === 'b')!;
    liveness.noteMember('join', b);
    t.ok(r.watch.targets.watchedBy.has('b'), 'watched from the gossip event');
    t.ok(r.watch.holding.has('b'), 'and marked holding');
    release();
    await before;
    liveness.applied();
    t.ok(r.watch.targets.watchedBy.has('b'), 'the round begun without b does not drop its watch');
    t.ok(r.watch.holding.has('b'), 'nor its mark: its decisions were made without b');
    await liveness.decide(r.membership.members(), () => Promise.resolve(NONE), slicer);
    t.ok(r.watch.holding.has('b'), 'a round with b, not applied yet: still marked');
    liveness.applied();
    t.notOk(r.watch.holding.has('b'), 'applied with b alive: unmarked');
    liveness.noteMember('dead', { ...b, state: 'dead' });
    t.notOk(r.watch.targets.watchedBy.has('b'), 'dead: no longer watched as a joining member');
  },
);

t.test('a member that joins is marked holding before its watch session is asked for', async (t) => {
  const { r, liveness } = await aloneApplied(t);
  const calls: string[] = [];
  const setTargets = r.watch.setTargets.bind(r.watch);
  r.watch.setTargets = (targets) => {
    if (targets.watchedBy.has('b')) calls.push('session');
    setTargets(targets);
  };
  const setHolding = r.watch.setHolding.bind(r.watch);
  r.watch.setHolding = (peers, seen) => {
    if (peers.has('b')) calls.push('marked');
    setHolding(peers, seen);
  };
  r.membership.set('b', 'alive');
  liveness.noteMember(
    'join',
    r.membership.members().find((m) => m.name === 'b')!,
  );
  // The pulse thread reads these in order: no packet of the new session goes out unmarked.
  t.same(calls.slice(0, 2), ['marked', 'session']);
});

t.test('the marks of an applied round account only for the verdicts that round read', async (t) => {
  const { r, liveness, slicer } = await aloneApplied(t);
  r.membership.set('b', 'alive');
  await liveness.decide(r.membership.members(), () => Promise.resolve(NONE), slicer);
  const read = r.watch.verdictsSeen();
  t.equal(r.watch.holdingSeen, read, 'the round posts its marks with the verdicts it read');
  // The watch declares b down while the round is being applied: this decision did not count b out.
  r.watch.set('b', 'down');
  liveness.applied();
  t.equal(r.watch.holdingSeen, read, 'applied: still the verdicts it read, not the later down');
  t.ok(r.watch.holdingSeen < r.watch.verdictsSeen(), 'so the watch keeps marking b until a round reads it');
  await liveness.decide(r.membership.members(), () => Promise.resolve(NONE), slicer);
  t.equal(r.watch.holdingSeen, r.watch.verdictsSeen(), 'the next round read it');
});

t.test(
  'the watch takes armed VIPs over on its own; the rounds after it write what they decide',
  async (t) => {
    const { r, ofB } = await twoNodes(t);
    const single = r.speaker.decisions().filter((d) => d.owner === 'b' && d.mode === 'single');
    t.ok(single.length > 0, 'b owns single-mode VIPs');
    await waitFor('a armed for b', 2000, () => r.watch.armed.some(([owner]) => owner === 'b'));
    const armed = r.watch.armed.find(([owner]) => owner === 'b')?.[1].map((v) => v.ip) ?? [];
    t.same(armed.sort(), single.map((d) => d.ip).sort(), 'every single-mode VIP of b, a being its successor');
    const took = r.watch.takeOver('b');
    t.ok(
      took.every((ip) => r.datapath.action(ip) === 'answer'),
      'answered before any round ran',
    );
    const writes = r.datapath.writes;
    await waitFor('the round after the verdict wrote them again', 2000, () => r.datapath.writes > writes);
    t.ok(
      ofB.every((ip) => r.datapath.action(ip) === 'answer'),
      'a answers all of b’s VIPs',
    );
    await waitFor('b marked as held', 2000, () => r.watch.holding.has('b'));
    r.watch.set('b', 'up');
    await waitFor('b’s VIPs handed back', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    );
    await waitFor('unmarked', 2000, () => !r.watch.holding.has('b'));
    await waitFor('re-armed for b', 2000, () => r.watch.armed.some(([owner]) => owner === 'b'));
  },
);

t.test(
  'the owner back before any round: marked until a round has taken back what the watch wrote',
  async (t) => {
    const { r, ofB } = await twoNodes(t);
    await waitFor('a armed for b', 2000, () => r.watch.armed.some(([owner]) => owner === 'b'));
    const decisions = r.speaker.decisions();
    const early: string[] = [];
    let took: string[] = [];
    const setHolding = r.watch.setHolding.bind(r.watch);
    r.watch.setHolding = (peers, seen) => {
      // An unmarked packet to b while an entry the watch wrote still answers would let b reopen next to it.
      const answering = took.filter((ip) => r.datapath.action(ip) === 'answer');
      if (!peers.has('b') && answering.length > 0) early.push(answering.join(','));
      setHolding(peers, seen);
    };
    // The verdict flips back before the control loop runs: its round decides exactly as before (the same
    // decisions) and must still overwrite what the pulse thread wrote, keeping b marked until then.
    took = r.watch.takeOver('b');
    r.watch.set('b', 'up');
    t.ok(took.length > 0 && took.every((ip) => r.datapath.action(ip) === 'answer'));
    await waitFor('the takeover undone', 2000, () => ofB.every((ip) => r.datapath.action(ip) === 'suppress'));
    t.equal(r.speaker.decisions(), decisions, 'with the same decisions as before');
    await waitFor('unmarked', 2000, () => !r.watch.holding.has('b'));
    t.same(early, [], 'b never unmarked while an entry the watch wrote answered');
  },
);

t.test(
  'a member that joins is handed its VIPs only once its packets say its first decision is applied',
  async (t) => {
    const { r, ofB } = await aloneAnswering(t);
    t.ok(r.watch.appliedOnce, 'a told its watch its first decision is applied');
    r.watch.setReadiness('b', 'starting');
    r.membership.set('b', 'alive');
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.ok(
      ofB.every((ip) => r.datapath.action(ip) === 'answer'),
      'b starting (longer than the wait): a keeps answering its VIPs',
    );
    t.ok(r.watch.holding.has('b'), 'and marks its packets to b holding (b’s gate waits for it)');
    r.watch.setReadiness('b', 'ready');
    await waitFor('b’s VIPs handed to it', 2000, () =>
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
    );
    await waitFor('the mark is gone', 2000, () => !r.watch.holding.has('b'));
    // A 'starting' read after the hand-back (a packet that came late) takes nothing back.
    r.watch.setReadiness('b', 'starting');
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.ok(
      ofB.every((ip) => r.datapath.action(ip) === 'suppress'),
      'b counted once applied: never taken back for a starting flag',
    );
    t.notOk(r.watch.holding.has('b'));
  },
);

t.test('a member that joins and sends nothing is handed its VIPs after the wait', async (t) => {
  const { r, ofB } = await aloneAnswering(t);
  r.watch.setReadiness('b', 'unheard');
  const joinedAt = performance.now();
  r.membership.set('b', 'alive');
  await waitFor('b’s VIPs handed to it', 3000, () => ofB.every((ip) => r.datapath.action(ip) === 'suppress'));
  const waitMs = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] }).joinerWaitMs;
  const tookMs = performance.now() - joinedAt;
  t.ok(tookMs >= waitMs - 2, `handed over ${Math.round(tookMs)} ms after b joined (wait ${waitMs} ms)`);
});
