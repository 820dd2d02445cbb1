/**
 * Whether the control loop keeps the liveness gate fed, in /metrics: the age of the XDP heartbeat and the
 * longest gap between two heartbeats since the last scrape (a gap above the liveness bound closed the
 * gate), and how long decision rounds take. Event-loop delay itself is prom-client's
 * `nodejs_eventloop_lag_*`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface GateHeartbeat {
  /** Age of the heartbeat the XDP gate reads now; undefined before the first one. */
  ageMs: number | undefined;
  /** Longest interval between two heartbeats since the previous read (reading resets it). */
  maxGapMs: number;
}

export interface RoundMetrics {
  /** One decision round ended: how long it took and whether it computed the decisions again. */
  round(durationMs: number, computed: boolean): void;
  /** The owner watch shut the gate: not scheduled ('stall'), heard a peer after losing all ('isolated'), or every peer fell silent at once ('fenced'). */
  gateClosed(reason: 'stall' | 'isolated' | 'fenced'): void;
}

export function registerGateHealth(registry: Registry, read: () => GateHeartbeat | undefined): RoundMetrics {
  const registers = [registry];
  let lastGapMs = 0;
  new Gauge({
    name: 'herald_gate_heartbeat_age_seconds',
    help: 'Age of the control-plane heartbeat the XDP liveness gate reads (the gate closes beyond its bound).',
    registers,
    collect() {
      const h = read();
      if (h?.ageMs !== undefined) this.set(h.ageMs / 1000);
      if (h) lastGapMs = h.maxGapMs;
    },
  });
  new Gauge({
    name: 'herald_gate_heartbeat_gap_max_seconds',
    help: 'Longest interval between two heartbeats since the previous scrape (the event loop held it back).',
    registers,
    collect() {
      this.set(lastGapMs / 1000);
    },
  });
  const rounds = new Histogram({
    name: 'herald_decision_round_seconds',
    help: 'Wall time of a decision round (decide in time slices, program the datapath), by whether the decisions were computed again or reused.',
    labelNames: ['computed'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const closures = new Counter({
    name: 'herald_gate_closures_total',
    help: 'Times the owner watch shut the liveness gate: stall (this speaker was not scheduled), isolated (a peer heard again after all were lost), fenced (every watched peer fell silent at once).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of ['stall', 'isolated', 'fenced']) closures.inc({ reason }, 0);
  return {
    round(durationMs, computed) {
      rounds.observe({ computed: computed ? 'true' : 'false' }, durationMs / 1000);
    },
    gateClosed(reason) {
      closures.inc({ reason });
    },
  };
}
