import t, { type Test } from 'tap';
import { alonePulseMs, DEFAULT_GATE_SETTINGS, deriveGateTiming } from '../../../src/l2/gate.js';
import { OwnerWatch, type WatchScheduler, type WatchSocketFactory } from '../../../src/l2/watch/driver.js';
import type { WatchVerdict } from '../../../src/l2/watch/peer.js';
import { PROFILES } from '../../../src/membership/config.js';

const timing = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] });
const ms = (ns: bigint) => Number(ns) / 1e6;

/**
 * Simulated time: the watches' pulses, the packets between them and their judging run in time order, and
 * only while the test advances the clock. With Node's timers these tests failed in 6 of 20 runs at load
 * 18: a process that is not scheduled for a while looks like a frozen speaker to itself and its peers.
 * A stall is now something a test does on purpose (stall()).
 */
function simClock() {
  let now = 0;
  let ids = 0;
  const periodic = new Map<number, { due: number; every: number; fn: () => void }>();
  const pending: Array<() => void> = [];
  const drain = () => {
    for (let fn = pending.shift(); fn; fn = pending.shift()) fn();
  };
  const scheduler: WatchScheduler = {
    every(every, fn) {
      const id = ++ids;
      periodic.set(id, { due: now + every, every, fn });
      return () => periodic.delete(id);
    },
    afterInput: (fn) => pending.push(fn),
  };
  /** Runs everything due within the next `ms`, in time order (each pulse, then what it caused). */
  const advance = (ms: number) => {
    const end = now + ms;
    drain();
    for (;;) {
      let next: { due: number; every: number; fn: () => void } | undefined;
      for (const p of periodic.values()) if (p.due <= end && (!next || p.due < next.due)) next = p;
      if (!next) break;
      now = Math.max(now, next.due);
      // As setInterval: the next run is one period after this one, however late this one was.
      next.due = now + next.every;
      next.fn();
      drain();
    }
    now = end;
  };
  return {
    scheduler,
    clockNs: () => BigInt(Math.round(now * 1e6)),
    nowMs: () => now,
    advance,
    /** Delivers at the next step (a datagram arrives on a later turn of the loop). */
    soon: (fn: () => void) => pending.push(fn),
    /** The whole process is not scheduled for `ms`: nothing runs, then what was due runs once. */
    stall: (ms: number) => (now += ms),
    /** Advances 1 ms at a time until `check` holds (→ true) or `maxMs` passed (→ false). */
    until(maxMs: number, check: () => boolean): boolean {
      for (let waited = 0; waited < maxMs; waited++) {
        if (check()) return true;
        advance(1);
      }
      return check();
    },
  };
}
type Sim = ReturnType<typeof simClock>;

/** An in-memory LAN: datagrams are delivered on a later step, like a socket's. */
function fakeLan(sim: Sim) {
  const handlers = new Map<string, (d: Buffer, a: string, p: number, ttl: number) => void>();
  let dropFrom: string | undefined;
  let cutOff: string | undefined;
  const factory =
    (address: string): WatchSocketFactory =>
    (onMessage) => {
      handlers.set(address, onMessage);
      return {
        send: (data, to, port) => {
          if (dropFrom !== address && cutOff !== address && cutOff !== to) {
            const copy = Buffer.from(data);
            sim.soon(() => handlers.get(to)?.(copy, address, port, 255));
          }
          return data.length;
        },
        close: () => handlers.delete(address),
      };
    };
  return {
    sim,
    factory,
    silence: (address: string | undefined) => (dropFrom = address),
    /** Partitions a node: nothing from it or to it arrives. */
    cut: (address: string | undefined) => (cutOff = address),
  };
}
type Lan = ReturnType<typeof fakeLan>;

/** An owner watch on the simulated LAN at `address`, with the default timing. */
function simWatch(lan: Lan, address: string, beat: (ns: bigint) => void = () => undefined, capMs = 2000) {
  return new OwnerWatch({
    timing,
    detectMult: DEFAULT_GATE_SETTINGS.watch.detectMult,
    peerPort: () => 3784,
    socket: lan.factory(address),
    clockNs: lan.sim.clockNs,
    scheduler: lan.sim.scheduler,
    beat,
    capMs,
  });
}

function pair(lan: Lan) {
  const beats: { o: bigint[]; x: bigint[] } = { o: [], x: [] };
  const verdicts: Array<{ at: number; peer: string; verdict: WatchVerdict }> = [];
  const make = (self: 'o' | 'x', address: string) => simWatch(lan, address, (ns) => beats[self].push(ns));
  const o = make('o', '10.0.0.1');
  const x = make('x', '10.0.0.2');
  x.on('verdict', (v) => verdicts.push({ at: lan.sim.nowMs(), peer: v.peer, verdict: v.verdict }));
  // x is o's successor: x watches o, o is watched by x.
  const targets = () => {
    o.setTargets({ watching: new Set(), watchedBy: new Set(['x']) }, new Map([['x', '10.0.0.2']]));
    x.setTargets({ watching: new Set(['o']), watchedBy: new Set() }, new Map([['o', '10.0.0.1']]));
  };
  targets();
  // Ready takes effect with the next targets (the first decision after joining sets them).
  const ready = () => {
    o.setReady();
    x.setReady();
    o.applied();
    x.applied();
    targets();
  };
  return { o, x, beats, verdicts, ready };
}

/** A pair started and ready, the watch up and the owner's gate open; both stopped at the end. */
function upPair(t: Test, lan: Lan) {
  const p = pair(lan);
  t.teardown(() => (p.o.stop(), p.x.stop()));
  p.o.start();
  p.x.start();
  p.ready();
  t.ok(
    lan.sim.until(2000, () => p.x.verdict('o') === 'up' && p.o.fresh()),
    'the pair is up',
  );
  return p;
}

t.test(
  'owner goes silent: its last heartbeat + the bound is before the successor calls it down',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const { o, x, beats, verdicts, ready } = pair(lan);
    t.teardown(() => (o.stop(), x.stop()));
    o.start();
    x.start();
    t.equal(beats.o.length, 0);
    sim.advance(100);
    t.equal(beats.o.length, 0, 'no heartbeat before the speaker is ready');
    ready();
    t.ok(
      sim.until(2000, () => x.verdict('o') === 'up'),
      'the watch comes up',
    );
    t.ok(
      sim.until(2000, () => o.fresh()),
      'the owner refreshes its gate once its watcher reports it up',
    );
    const fresh = beats.o.length;
    sim.advance(200);
    t.equal(beats.o.length - fresh, 10, 'the owner beats every pulse');
    // A frozen owner: it sends and beats nothing more.
    o.stop();
    const lastBeat = ms(beats.o.at(-1) as bigint);
    t.ok(
      sim.until(2000, () => x.verdict('o') === 'down'),
      'the successor calls the owner down',
    );
    const down = verdicts.find((v) => v.verdict === 'down');
    t.ok(down, 'a down verdict was emitted');
    const gateClosedAt = lastBeat + timing.livenessBoundMs;
    t.ok(
      (down?.at ?? 0) >= gateClosedAt,
      `takeover allowed at ${(down?.at ?? 0) - lastBeat} ms after the last beat, gate closed at ${timing.livenessBoundMs} ms`,
    );
  },
);

t.test(
  'a speaker with no watch session pulses at the slow period (l2/gate.ts); a session brings the heartbeat back',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const beats: bigint[] = [];
    const lone = simWatch(lan, '10.0.0.1', (ns) => beats.push(ns));
    t.teardown(() => lone.stop());
    const alone = alonePulseMs(timing);
    t.ok(
      alone > timing.heartbeatMs && alone + timing.lateTickMs < timing.livenessBoundMs,
      `alone pulse ${alone} ms`,
    );
    lone.start();
    lone.setReady();
    lone.applied();
    lone.setTargets({ watching: new Set(), watchedBy: new Set() }, new Map());
    t.ok(
      sim.until(2000, () => lone.fresh()),
      'alone, the gate opens once ready',
    );
    t.equal(lone.pulseMs(), alone);
    const gaps = (from: number) => beats.slice(from).map((b, i, all) => (i === 0 ? 0 : ms(b - all[i - 1]!)));
    let from = beats.length;
    sim.advance(1000);
    const lonely = beats.length - from;
    t.ok(
      lonely >= Math.floor(1000 / alone) && lonely <= Math.ceil(1000 / alone),
      `one beat per alone pulse, not one per heartbeat (${lonely} in 1 s)`,
    );
    t.ok(
      gaps(from).every((g) => g < timing.livenessBoundMs),
      'every beat comes well within the liveness bound',
    );
    t.ok(lone.fresh(), 'the gate stayed open');

    // A successor appears: the pulse runs at the heartbeat again, and packets go out at once.
    const peer = simWatch(lan, '10.0.0.2');
    t.teardown(() => peer.stop());
    peer.setTargets({ watching: new Set(['o']), watchedBy: new Set() }, new Map([['o', '10.0.0.1']]));
    peer.start();
    lone.setTargets({ watching: new Set(), watchedBy: new Set(['x']) }, new Map([['x', '10.0.0.2']]));
    t.equal(lone.pulseMs(), timing.heartbeatMs, 'a session: the heartbeat period');
    t.ok(
      sim.until(2000, () => peer.verdict('o') === 'up'),
      'the new watcher sees the owner up',
    );
    from = beats.length;
    sim.advance(200);
    t.equal(beats.length - from, 200 / timing.heartbeatMs, 'one beat per heartbeat again');
    t.equal(lone.counters.lateTicks, 0, 'the change of period is not taken for a late pulse');
    t.ok(lone.fresh());

    lone.setTargets({ watching: new Set(), watchedBy: new Set() }, new Map());
    t.equal(lone.pulseMs(), alone, 'alone again: the slow pulse');
    sim.advance(500);
    t.ok(lone.fresh(), 'and the gate stays open');
  },
);

t.test(
  'a stall of the whole process: no verdict on stale silence, the owner waits for its watcher',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const { o, x, beats, verdicts, ready } = pair(lan);
    t.teardown(() => (o.stop(), x.stop()));
    o.start();
    x.start();
    ready();
    t.ok(sim.until(2000, () => x.verdict('o') === 'up' && o.fresh()));
    const stale: number[] = [];
    o.on('stale', (s) => stale.push(s.gapMs));
    // The event loop is blocked, as under CPU starvation.
    sim.stall(500);
    const resumedBeats = beats.o.length;
    sim.advance(40);
    t.equal(stale.length, 1, 'the owner noticed its gate had closed');
    t.equal(beats.o.length, resumedBeats, 'and does not beat on the pulse that noticed it');
    t.ok(
      sim.until(2000, () => o.fresh()),
      'it refreshes once the watcher reports it up again',
    );
    t.notOk(
      verdicts.some((v) => v.verdict === 'down'),
      'the successor did not call the owner down for silence that was its own stall',
    );
    t.ok(x.counters.lateTicks >= 1 && o.counters.staleEntered === 1);
  },
);

t.test(
  'one-way loss from the owner: down after the detection time, back up after a new handshake',
  async (t) => {
    const lan = fakeLan(simClock());
    const { x, verdicts } = upPair(t, lan);
    lan.silence('10.0.0.1');
    t.ok(lan.sim.until(2000, () => x.verdict('o') === 'down'));
    lan.silence(undefined);
    t.ok(
      lan.sim.until(2000, () => x.verdict('o') === 'up'),
      'the session comes back',
    );
    t.same(
      verdicts.map((v) => v.verdict),
      ['up', 'down', 'up'],
    );
  },
);

t.test('adminDown: the successor takes over at once', async (t) => {
  const lan = fakeLan(simClock());
  const { o, x } = upPair(t, lan);
  o.stop({ adminDown: true });
  lan.sim.advance(0);
  t.equal(x.verdict('o'), 'down', 'down on the packet, no time passed');
});

/** Three nodes, each the owner of some VIPs and the successor of the others' (every pair watched). */
function trio(lan: Lan, capMs: number) {
  const names = ['a', 'b', 'c'] as const;
  type Name = (typeof names)[number];
  const address: Record<Name, string> = { a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' };
  const beats: Record<Name, bigint[]> = { a: [], b: [], c: [] };
  const w = Object.fromEntries(
    names.map((n) => [n, simWatch(lan, address[n], (ns) => beats[n].push(ns), capMs)]),
  ) as Record<Name, OwnerWatch>;
  const targets = () => {
    for (const n of names) {
      const others = names.filter((o) => o !== n);
      w[n].setTargets(
        { watching: new Set(others), watchedBy: new Set(others) },
        new Map(others.map((o) => [o, address[o]])),
      );
    }
  };
  const start = () => {
    targets();
    for (const n of names) w[n].start();
    for (const n of names) w[n].setReady();
    for (const n of names) w[n].applied();
    targets();
    return lan.sim.until(3000, () => names.every((n) => w[n].fresh()));
  };
  return { names, address, beats, w, start, stop: () => names.forEach((n) => w[n].stop()) };
}

t.test(
  'a node cut off from every peer is fenced before the far side takes its VIPs, and reopens only once both sides handed back',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const { address, beats, w, start, stop } = trio(lan, 5000);
    t.teardown(stop);
    t.ok(start(), 'all gates open');
    const stale: Array<{ reason: string; at: number }> = [];
    w.a.on('stale', (s) => stale.push({ reason: s.reason, at: sim.nowMs() }));
    const downAt: number[] = [];
    for (const peer of [w.b, w.c])
      peer.on('verdict', (v) => v.peer === 'a' && v.verdict === 'down' && downAt.push(sim.nowMs()));
    lan.cut(address.a);
    t.ok(
      sim.until(2000, () => downAt.length === 2),
      'b and c call a down',
    );
    t.equal(stale[0]?.reason, 'fenced', 'a fenced itself');
    t.ok(stale[0]!.at < Math.min(...downAt), 'before either peer called it down (and took its VIPs)');
    t.equal(beats.a.at(-1), 0n, 'its gate is shut');
    t.equal(w.a.counters.fenced, 1);
    // Each side took the other's VIPs: a answers b's and c's, b and c answer a's.
    w.a.setHolding(new Set(['b', 'c']));
    w.b.setHolding(new Set(['a']));
    w.c.setHolding(new Set(['a']));
    const shutAt = beats.a.length;
    sim.advance(400);
    t.notOk(w.a.fresh(), 'alone, within the cap, a answers nothing');
    t.equal(beats.a.length, shutAt);
    lan.cut(undefined);
    sim.advance(300);
    t.equal(beats.a.length, shutAt, 'healed: no beat while b and c still hold its VIPs and it holds theirs');
    w.b.setHolding(new Set());
    w.c.setHolding(new Set());
    sim.advance(300);
    t.equal(beats.a.length, shutAt, "no beat while a's own decision still answers VIPs of b and c");
    w.a.setHolding(new Set());
    t.ok(
      sim.until(1000, () => w.a.fresh()),
      'a reopens once both sides have handed back',
    );
    t.ok(w.b.fresh() && w.c.fresh(), 'b and c, which were not cut off, never shut');
    t.equal(w.b.counters.staleEntered + w.c.counters.staleEntered, 0);
    t.same(
      stale.map((s) => s.reason),
      ['fenced'],
    );
  },
);

t.test('peers that all die at once fence the survivor for the cap, then it answers alone', async (t) => {
  const lan = fakeLan(simClock());
  const { sim } = lan;
  const capMs = 600;
  const { w, start, stop } = trio(lan, capMs);
  t.teardown(stop);
  t.ok(start(), 'all gates open');
  const refreshed: Array<{ reason: string; at: number }> = [];
  w.a.on('refreshed', (r) => refreshed.push({ reason: r.reason, at: sim.nowMs() }));
  const at = sim.nowMs();
  w.b.stop();
  w.c.stop();
  t.ok(
    sim.until(1000, () => !w.a.fresh()),
    'fenced',
  );
  t.ok(
    sim.until(3000, () => w.a.fresh()),
    'answers alone after the cap',
  );
  t.equal(refreshed[0]?.reason, 'fenced');
  t.ok(refreshed[0]!.at - at >= capMs, `not before the cap (${Math.round(refreshed[0]!.at - at)} ms)`);
});

t.test('peers that die one after the other leave the survivor answering', async (t) => {
  const lan = fakeLan(simClock());
  const { sim } = lan;
  const { w, start, stop } = trio(lan, 5000);
  t.teardown(stop);
  t.ok(start(), 'all gates open');
  w.b.stop();
  t.ok(sim.until(2000, () => w.a.verdict('b') === 'down'));
  sim.advance(100);
  w.c.stop();
  t.ok(sim.until(2000, () => w.a.verdict('c') === 'down'));
  sim.advance(100);
  t.ok(w.a.fresh(), 'never fenced: only one session was up when the last peer went');
  t.equal(w.a.counters.fenced, 0);
});

t.test(
  'a successor marks an owner it declared down until its control loop has read that verdict',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const { o, x } = upPair(t, lan);
    const read = x.verdictsSeen();
    // The owner freezes (no adminDown); the successor's watch declares it down. Its control loop, busy with
    // a round over thousands of VIPs, reads that verdict only later, then takes the owner's VIPs over.
    o.stop();
    t.ok(sim.until(2000, () => x.verdict('o') === 'down'));
    x.setHolding(new Set(), read);
    // The owner comes back (a new process at the same address: stale until its watcher reports it up).
    const back = simWatch(lan, '10.0.0.1');
    t.teardown(() => back.stop());
    const targets = () =>
      back.setTargets({ watching: new Set(), watchedBy: new Set(['x']) }, new Map([['x', '10.0.0.2']]));
    targets();
    back.start();
    back.setReady();
    back.applied();
    targets();
    t.ok(
      sim.until(2000, () => x.verdict('o') === 'up'),
      'the session is up again',
    );
    sim.advance(300);
    t.notOk(back.fresh(), "no reopening while the successor's control loop has not read the down verdict");
    // The control loop read it (and its next round, with the owner alive again, holds none of its VIPs).
    x.setHolding(new Set(), x.verdictsSeen());
    t.ok(
      sim.until(2000, () => back.fresh()),
      'reopens once the successor no longer marks it',
    );
  },
);

t.test(
  'a peer that stopped watching us answers our packets "unpaired": our down verdict falls back to gossip',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const { o, x, ready } = pair(lan);
    t.teardown(() => (o.stop(), x.stop()));
    o.start();
    x.start();
    ready();
    t.ok(sim.until(2000, () => x.verdict('o') === 'up'));
    // o goes quiet (x judges it down), and meanwhile its decisions stop pairing it with x.
    lan.silence('10.0.0.1');
    t.ok(
      sim.until(2000, () => x.verdict('o') === 'down'),
      'x: o down',
    );
    o.setTargets({ watching: new Set(), watchedBy: new Set() }, new Map());
    const before = { sent: o.counters.sent, unknown: o.counters.droppedUnknown };
    lan.silence(undefined);
    // o sends x nothing of its own now; only its answers to x's packets tell x that it runs.
    t.ok(
      sim.until(1000, () => x.verdict('o') === 'unknown'),
      'x: o unknown (gossip decides), not down for good',
    );
    sim.advance(200);
    t.equal(x.verdict('o'), 'unknown', 'and it stays so while o keeps answering unpaired');
    const answers = o.counters.sent - before.sent;
    const asked = o.counters.droppedUnknown - before.unknown;
    t.ok(
      answers > 0 && answers <= asked,
      `o answers x's packets, never more than one answer each (${answers} answers to ${asked} packets)`,
    );
  },
);

t.test(
  'a joining speaker opens on the first pulse after the last of its watchers stops marking it, without the refresh hold',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const address = { j: '10.0.0.3', a: '10.0.0.1', b: '10.0.0.2' };
    const j = simWatch(lan, address.j, () => undefined, 10_000);
    const a = simWatch(lan, address.a);
    const b = simWatch(lan, address.b);
    t.teardown(() => (j.stop(), a.stop(), b.stop()));
    // a and b hand the joiner its VIPs: they watch it and mark it holding until their rounds are applied.
    const targets = () => {
      j.setTargets(
        { watching: new Set(), watchedBy: new Set(['a', 'b']) },
        new Map([
          ['a', address.a],
          ['b', address.b],
        ]),
      );
      for (const w of [a, b])
        w.setTargets({ watching: new Set(['j']), watchedBy: new Set() }, new Map([['j', address.j]]));
    };
    a.setHolding(new Set(['j']));
    b.setHolding(new Set(['j']));
    targets();
    for (const w of [j, a, b]) w.start();
    // a and b run: their first decisions were applied long ago.
    a.applied();
    b.applied();
    j.setReady();
    j.applied();
    targets();
    t.ok(
      sim.until(2000, () => a.verdict('j') === 'up' && b.verdict('j') === 'up'),
      'both sessions up',
    );
    sim.advance(200);
    t.notOk(j.fresh(), 'both mark it: shut');
    a.setHolding(new Set());
    sim.advance(300);
    t.notOk(j.fresh(), 'b still marks it: shut');
    b.setHolding(new Set());
    const cleared = sim.nowMs();
    t.ok(
      sim.until(1000, () => j.fresh()),
      'open once b cleared',
    );
    const took = sim.nowMs() - cleared;
    // b's next pulse carries the unmarked packet, j's next pulse after it opens: two pulses at most.
    t.ok(
      took <= 2 * timing.heartbeatMs && took < timing.refreshHoldMs,
      `opened ${took} ms after the last watcher cleared (≤ ${2 * timing.heartbeatMs} ms; the refresh hold is ${timing.refreshHoldMs} ms)`,
    );
  },
);

t.test(
  'a speaker says it is starting until its first decision is applied, and opens only after that',
  async (t) => {
    const lan = fakeLan(simClock());
    const { sim } = lan;
    const j = simWatch(lan, '10.0.0.3');
    const a = simWatch(lan, '10.0.0.1');
    t.teardown(() => (j.stop(), a.stop()));
    const heard: string[] = [];
    a.on('readiness', (r) => r.peer === 'j' && heard.push(r.readiness));
    const targets = () => {
      j.setTargets({ watching: new Set(), watchedBy: new Set(['a']) }, new Map([['a', '10.0.0.1']]));
      a.setTargets({ watching: new Set(['j']), watchedBy: new Set() }, new Map([['j', '10.0.0.3']]));
    };
    targets();
    j.start();
    a.start();
    a.setReady();
    a.applied();
    j.setReady();
    targets();
    t.ok(
      sim.until(2000, () => a.verdict('j') === 'up'),
      'the session comes up',
    );
    t.equal(a.readiness('j'), 'starting', 'its packets say it is starting');
    sim.advance(500);
    t.notOk(j.fresh(), 'its watcher reports it up, unmarked: still shut, nothing applied yet');
    j.applied();
    const appliedAt = sim.nowMs();
    t.ok(
      sim.until(1000, () => a.readiness('j') === 'ready'),
      'its next packets no longer do',
    );
    t.ok(
      sim.until(1000, () => j.fresh()),
      'and it opens on its watcher’s next report',
    );
    t.ok(sim.nowMs() - appliedAt <= 3 * timing.heartbeatMs, `${sim.nowMs() - appliedAt} ms after applying`);
    t.same(heard, ['starting', 'ready'], 'the watcher heard of each change once');
  },
);
