import fc from 'fast-check';
import t from 'tap';
import {
  alonePulseMs,
  checkLivenessBound,
  DEFAULT_GATE_SETTINGS,
  deriveGateTiming,
  invariantHolds,
} from '../../../src/l2/gate.js';
import { PROFILES } from '../../../src/membership/config.js';

t.test('defaults: the gate closes before the earliest takeover for every gossip profile', async (t) => {
  for (const [name, swim] of Object.entries(PROFILES)) {
    const g = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim });
    t.equal(g.watchDetectMs, 180, name);
    t.equal(g.livenessBoundMs, 130, name);
    t.equal(g.earliestTakeoverMs, 140, name);
    t.equal(g.partitionTakeoverMs, 120, name);
    t.equal(g.isolationFenceMs, 90, name);
    t.ok(g.isolationFenceMs! + g.heartbeatMs + DEFAULT_GATE_SETTINGS.marginMs <= g.partitionTakeoverMs, name);
    t.ok(g.livenessBoundMs + DEFAULT_GATE_SETTINGS.marginMs <= g.earliestTakeoverMs, name);
    t.ok(g.swimEarliestDeadMs + g.swimTakeoverHoldMs > g.livenessBoundMs, name);
    t.ok(invariantHolds(g, DEFAULT_GATE_SETTINGS.marginMs), name);
  }
  const fast = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] });
  t.equal(fast.swimEarliestDeadMs, 440);
  t.equal(fast.swimTakeoverHoldMs, 140);
});

t.test('the invariant holds for any valid timers (property)', async () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 200 }),
      fc.record({
        probeIntervalMs: fc.integer({ min: 10, max: 5000 }),
        probeTimeoutMs: fc.integer({ min: 1, max: 4000 }),
        suspicionMult: fc.integer({ min: 1, max: 10 }),
      }),
      (intervalMs, detectMult, lossSlack, marginMs, swim) => {
        let g;
        try {
          g = deriveGateTiming({ watch: { intervalMs, detectMult }, lossSlack, marginMs, swim });
        } catch {
          // Refused settings are fine; accepted ones must keep the invariant.
          return (detectMult - lossSlack) * intervalMs - marginMs < 2 * intervalMs;
        }
        return invariantHolds(g, marginMs) && g.livenessBoundMs >= 2 * g.heartbeatMs;
      },
    ),
  );
});

t.test('a speaker with no watch session pulses as slowly as a late pulse still beats inside L', async (t) => {
  const g = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES.lan });
  t.equal(alonePulseMs(g), 80, 'defaults: 130 − 40 (late tick) − 10 (margin)');
  t.equal(alonePulseMs({ ...g, livenessBoundMs: 60 }), 20, 'a short explicit bound: the heartbeat');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 200 }),
      (intervalMs, detectMult, marginMs) => {
        let timing;
        try {
          timing = deriveGateTiming({
            ...DEFAULT_GATE_SETTINGS,
            watch: { intervalMs, detectMult },
            marginMs,
            swim: PROFILES.lan,
          });
        } catch {
          return true;
        }
        const p = alonePulseMs(timing, marginMs);
        const roomy = timing.livenessBoundMs >= timing.heartbeatMs + timing.lateTickMs + marginMs;
        return (
          p >= timing.heartbeatMs && (!roomy || p + timing.lateTickMs + marginMs <= timing.livenessBoundMs)
        );
      },
    ),
  );
});

t.test('no isolation fence where it would fire on two lost packets', async (t) => {
  const g = (detectMult: number) =>
    deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, watch: { intervalMs: 20, detectMult }, swim: PROFILES.lan });
  t.equal(g(7).isolationFenceMs, 50);
  t.equal(g(6).isolationFenceMs, undefined, 'F would be 30 ms, under two heartbeats');
  t.ok(invariantHolds(g(6), DEFAULT_GATE_SETTINGS.marginMs));
  const broken = { ...g(10), isolationFenceMs: 130 };
  t.notOk(
    invariantHolds(broken, DEFAULT_GATE_SETTINGS.marginMs),
    'a fence later than F breaks the invariant',
  );
});

t.test('settings that leave no room for a gate are refused with the reason', async (t) => {
  t.throws(
    () =>
      deriveGateTiming({
        ...DEFAULT_GATE_SETTINGS,
        watch: { intervalMs: 20, detectMult: 3 },
        swim: PROFILES.lan,
      }),
    /raise the detect multiplier/,
  );
  t.throws(
    () =>
      deriveGateTiming({
        ...DEFAULT_GATE_SETTINGS,
        watch: { intervalMs: 0, detectMult: 1.5 },
        swim: PROFILES.lan,
      }),
    /interval must be > 0.*integer ≥ 1/,
  );
});

t.test('an explicit liveness bound may be shorter, never longer', async (t) => {
  const g = deriveGateTiming({ ...DEFAULT_GATE_SETTINGS, swim: PROFILES['fast-lan'] });
  t.equal(checkLivenessBound(130, g), undefined);
  t.equal(checkLivenessBound(60, g), undefined);
  t.match(checkLivenessBound(2000, g), /would outlive the earliest takeover .*at most 130 ms/);
  t.match(checkLivenessBound(30, g), /below two heartbeats/);
  t.match(checkLivenessBound(0, g), /> 0/);
});
