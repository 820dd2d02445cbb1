/**
 * Health checks in /metrics: this node's verdict per Service (after rise/fall), every probe by result
 * with its latency, and how many nodes the gossip says fail each Service's check.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface HealthReadings {
  /** This node's verdict per checked Service (`namespace/name`). */
  verdicts(): ReadonlyMap<string, boolean>;
  /** Per checked Service, how many alive nodes gossip a failing verdict (this one included). */
  failingNodes(): ReadonlyMap<string, number>;
}

export interface HealthMetrics {
  /** One probe of a Service's check on this node finished. */
  probe(service: string, ok: boolean, durationMs: number): void;
}

export function registerHealthMetrics(registry: Registry, read: HealthReadings): HealthMetrics {
  const registers = [registry];
  new Gauge({
    name: 'herald_health_check_passing',
    help: "This node's verdict on a Service's health check after rise/fall (1 passing, 0 failing: not eligible for its VIPs).",
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const [service, passing] of read.verdicts()) this.set({ service }, passing ? 1 : 0);
    },
  });
  new Gauge({
    name: 'herald_health_check_failing_nodes',
    help: "Alive nodes whose health check of a Service fails, as gossiped (they do not serve the Service's VIPs).",
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const [service, n] of read.failingNodes()) this.set({ service }, n);
    },
  });
  const probes = new Counter({
    name: 'herald_health_check_probes_total',
    help: 'Health check probes this node ran, by Service and result (pass, fail).',
    labelNames: ['service', 'result'],
    registers,
  });
  const duration = new Histogram({
    name: 'herald_health_check_probe_duration_seconds',
    help: 'Time a health check probe took on this node, until it passed, failed or timed out.',
    labelNames: ['service'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  return {
    probe(service, ok, durationMs) {
      probes.inc({ service, result: ok ? 'pass' : 'fail' });
      duration.observe({ service }, durationMs / 1000);
    },
  };
}
