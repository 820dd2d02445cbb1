import { RateTracker } from './rates.js';
import type { CounterSample, TrafficSource, VipRate } from './traffic.js';

export interface TrafficMonitorOptions {
  /** Rate window (default 10 s). */
  windowMs?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/**
 * Reads a TrafficSource (one batch read per call) and keeps per-VIP rates over a window. With
 * `start(intervalMs)` it samples on a timer (rates stay fresh for gossip and `herald top`) and a scrape
 * reuses that sample while it is younger than the interval: one batch read per window, not per scrape
 * plus per window. Without the timer, every scrape reads once. A throwing source keeps the previous
 * sample and counts the error.
 */
export class TrafficMonitor {
  readonly windowMs: number;
  private readonly tracker: RateTracker;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs: number | undefined;
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

  /** What a scrape uses: the timer's sample while younger than its interval, else a fresh read. */
  forScrape(): CounterSample | undefined {
    const latest = this.tracker.latest();
    if (
      this.intervalMs !== undefined &&
      latest &&
      this.now() - latest.atMs < this.intervalMs &&
      !this.lastError
    ) {
      return latest;
    }
    return this.sample();
  }

  rates(): ReadonlyMap<string, VipRate> {
    return this.tracker.rates();
  }

  /**
   * Samples on an unref'd timer and calls `onSample` after each (e.g. to gossip). The interval is fixed
   * or follows the number of VIPs in the latest sample (see `sampleIntervalForVips`).
   */
  start(interval: number | ((vips: number) => number), onSample?: () => void): void {
    this.stop();
    const intervalFor = typeof interval === 'number' ? () => interval : interval;
    const next = () => {
      this.intervalMs = intervalFor(this.tracker.latest()?.counters.size ?? 0);
      this.timer = setTimeout(() => {
        this.sample();
        onSample?.();
        if (this.timer) next();
      }, this.intervalMs);
      this.timer.unref();
    };
    next();
  }

  /** Whether it samples on its timer (start() until stop()). */
  running(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.intervalMs = undefined;
  }
}

/**
 * One read of every VIP's counters each second up to 2,000 VIPs, then a second more per further 2,000,
 * at most 5 s: at 10,000 VIPs a read and its rates cost tens of ms of CPU, which an idle speaker would
 * otherwise spend every second. Rates stay exact (they span the samples in the window); they are only
 * refreshed less often.
 */
export function sampleIntervalForVips(vips: number): number {
  return Math.min(5000, 1000 * Math.max(1, Math.ceil(vips / 2000)));
}
