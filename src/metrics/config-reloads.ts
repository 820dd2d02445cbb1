/**
 * Configuration reloads in /metrics, so a refused configuration can be alerted on (the speaker keeps
 * running on the last good one and only its log says why): reloads by result, and whether the last one
 * was applied (as Prometheus's own `prometheus_config_last_reload_successful`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export const RELOAD_RESULTS = ['applied', 'rejected'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

export interface ConfigReloadMetrics {
  reloaded(result: ReloadResult): void;
}

export function registerConfigReloads(registry: Registry): ConfigReloadMetrics {
  const registers = [registry];
  const reloads = new Counter({
    name: 'herald_config_reloads_total',
    help: 'Configuration reloads by result: applied, or rejected (invalid or refused; the last good configuration stays in force).',
    labelNames: ['result'],
    registers,
  });
  for (const result of RELOAD_RESULTS) reloads.inc({ result }, 0);
  const lastOk = new Gauge({
    name: 'herald_config_last_reload_successful',
    help: 'Whether the last configuration reload was applied (1) or rejected (0); 1 before any reload.',
    registers,
  });
  lastOk.set(1);
  return {
    reloaded(result) {
      reloads.inc({ result });
      lastOk.set(result === 'applied' ? 1 : 0);
    },
  };
}
