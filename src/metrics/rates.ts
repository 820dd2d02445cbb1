import type { CounterSample, TrafficCounters, VipRate } from './traffic.js';

/** Increase of a counter between two readings; a lower reading means the counter was reset (re-created). */
export function counterIncrease(previous: bigint, current: bigint): bigint {
  return current >= previous ? current - previous : current;
}

/**
 * Per-VIP rates over `windowMs` ending at the newest sample. Pure. Uses the newest sample, every sample
 * inside the window, and the last sample at or before the window start (so a 10 s window sampled every
 * second spans 10 s, not 9). Counter resets count from zero (like Prometheus' rate()). A VIP absent from
 * the newest sample is gone and has no rate; a VIP that appeared (or re-appeared after a gap) is measured
 * only over the samples where it is continuously present. With a single usable sample the rate is 0.
 */
export function computeRates(samples: readonly CounterSample[], windowMs: number): Map<string, VipRate> {
  const rates = new Map<string, VipRate>();
  const newest = samples[samples.length - 1];
  if (!newest) return rates;
  let first = samples.length - 1;
  while (first > 0 && samples[first]!.atMs > newest.atMs - windowMs) first--;
  for (const [ip, latest] of newest.counters) {
    let bytes = 0n;
    let packets = 0n;
    let later: TrafficCounters = latest;
    let startMs = newest.atMs;
    for (let i = samples.length - 2; i >= first; i--) {
      const earlier = samples[i]!.counters.get(ip);
      if (!earlier) break;
      bytes += counterIncrease(earlier.rxBytes, later.rxBytes);
      packets += counterIncrease(earlier.rxPackets, later.rxPackets);
      startMs = samples[i]!.atMs;
      later = earlier;
    }
    const seconds = (newest.atMs - startMs) / 1000;
    rates.set(
      ip,
      seconds > 0
        ? { bitsPerSecond: (Number(bytes) * 8) / seconds, packetsPerSecond: Number(packets) / seconds }
        : { bitsPerSecond: 0, packetsPerSecond: 0 },
    );
  }
  return rates;
}

/** Sum of per-VIP rates. */
export function totalRate(rates: ReadonlyMap<string, VipRate>): VipRate {
  let bitsPerSecond = 0;
  let packetsPerSecond = 0;
  for (const r of rates.values()) {
    bitsPerSecond += r.bitsPerSecond;
    packetsPerSecond += r.packetsPerSecond;
  }
  return { bitsPerSecond, packetsPerSecond };
}

/**
 * Keeps the samples a window needs and the rates computed from them. State only; the arithmetic is
 * computeRates(). Samples older than the window (except the one base sample before it) are dropped.
 */
export class RateTracker {
  private samples: CounterSample[] = [];
  private cached = new Map<string, VipRate>();

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`rate window must be > 0 ms, got ${windowMs}`);
  }

  observe(sample: CounterSample): void {
    const last = this.samples[this.samples.length - 1];
    if (last && sample.atMs < last.atMs) {
      throw new Error(`rate sample at ${sample.atMs} ms is older than the previous one (${last.atMs} ms)`);
    }
    if (last && sample.atMs === last.atMs) this.samples[this.samples.length - 1] = sample;
    else this.samples.push(sample);
    const windowStart = sample.atMs - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.atMs <= windowStart) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
    this.cached = computeRates(this.samples, this.windowMs);
  }

  rates(): ReadonlyMap<string, VipRate> {
    return this.cached;
  }

  latest(): CounterSample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
