import { RateTracker } from './rates.js';
import type { CounterSample, TrafficSource, VipRate } from './traffic.js';

export interface TrafficMonitorOptions {
  /** Rate window (default 10 s). */
  windowMs?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/**
 * Reads a TrafficSource (one batch read per call) and keeps per-VIP rates over a window. `sample()` is
 * called on each scrape and, with `start(intervalMs)`, on a timer so rates stay fresh between scrapes
 * (for gossip and `herald top`). A throwing source keeps the previous sample and reports the error.
 */
export class TrafficMonitor {
  readonly windowMs: number;
  private readonly tracker: RateTracker;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  lastError: Error | undefined;
  /** Failed reads since start. */
  errors = 0;

  constructor(
    private readonly source: TrafficSource,
    opts: TrafficMonitorOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.tracker = new RateTracker(this.windowMs);
    this.now = opts.now ?? (() => performance.now());
  }

  sample(): CounterSample | undefined {
    try {
      const sample = { atMs: this.now(), counters: this.source() };
      this.tracker.observe(sample);
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error instanceof Error ? error : new Error(String(error));
      this.errors++;
    }
    return this.tracker.latest();
  }

  latest(): CounterSample | undefined {
    return this.tracker.latest();
  }

  rates(): ReadonlyMap<string, VipRate> {
    return this.tracker.rates();
  }

  /** Samples every `intervalMs` (unref'd timer) and calls `onSample` after each (e.g. to gossip). */
  start(intervalMs: number, onSample?: () => void): void {
    this.stop();
    this.timer = setInterval(() => {
      this.sample();
      onSample?.();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
