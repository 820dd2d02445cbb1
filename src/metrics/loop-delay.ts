/**
 * The control loop's delay behind prom-client's `nodejs_eventloop_lag_*`. prom-client reads it from a
 * `monitorEventLoopDelay` histogram whose own timer wakes the loop every precision interval (20 times a
 * second at 50 ms: most of an idle speaker's wake-ups, each costing CPU for nothing). Herald hands it this
 * histogram instead, recorded by a timer the speaker runs anyway (the pulse thread's control-loop stamp,
 * every 100 ms): each value is how much later than due that timer ran.
 */
import perfHooks, { createHistogram, type ELDHistogram } from 'node:perf_hooks';

const delays = createHistogram();

/** One timer of the control loop ran `delayMs` later than due (0 when on time). */
export function recordLoopDelay(delayMs: number): void {
  // A histogram records integers ≥ 1 (ns, as monitorEventLoopDelay does).
  delays.record(Math.max(1, Math.round(delayMs * 1e6)));
}

/** Runs `collect` (prom-client's collectDefaultMetrics) with this histogram as its event-loop monitor. */
export function withLoopDelayMonitor<T>(collect: () => T): T {
  const original = perfHooks.monitorEventLoopDelay;
  const monitor: ELDHistogram = Object.assign(delays, {
    enable: () => true,
    disable: () => true,
    [Symbol.dispose]: () => undefined,
  });
  perfHooks.monitorEventLoopDelay = () => monitor;
  try {
    return collect();
  } finally {
    perfHooks.monitorEventLoopDelay = original;
  }
}
