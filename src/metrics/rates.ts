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

interface VipTrack {
  lastBytes: bigint;
  lastPackets: bigint;
  /** Added to raw readings so the adjusted counter never goes down (sum of values before resets). */
  offsetBytes: number;
  offsetPackets: number;
  /** When the VIP (re)appeared, and its adjusted counters then. */
  sinceMs: number;
  firstBytes: number;
  firstPackets: number;
  /** Observation number that last saw the VIP. */
  seen: number;
}

interface AdjustedSample {
  atMs: number;
  bytes: Map<string, number>;
  packets: Map<string, number>;
}

/**
 * Keeps what a window needs and the rates over it, in O(VIPs) per sample: each VIP's counters are
 * turned into reset-adjusted monotonic numbers as they arrive, so a rate is one subtraction against the
 * base sample (the last one at or before the window start). Gives the same results as computeRates()
 * over the same samples (a property test holds them together). Samples older than the base are dropped;
 * a sample no newer than the previous one is ignored (rates need time to pass).
 */
export class RateTracker {
  private samples: AdjustedSample[] = [];
  private readonly tracks = new Map<string, VipTrack>();
  private observation = 0;
  private latestSample: CounterSample | undefined;
  private cached = new Map<string, VipRate>();

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new Error(`rate window must be > 0 ms, got ${windowMs}`);
  }

  /** Returns false when the sample was ignored because it is not newer than the previous one. */
  observe(sample: CounterSample): boolean {
    const last = this.samples[this.samples.length - 1];
    if (last && sample.atMs <= last.atMs) return false;
    const seen = ++this.observation;
    const bytes = new Map<string, number>();
    const packets = new Map<string, number>();
    for (const [ip, c] of sample.counters) {
      const track = this.tracks.get(ip);
      if (!track) {
        const b = Number(c.rxBytes);
        const p = Number(c.rxPackets);
        this.tracks.set(ip, {
          lastBytes: c.rxBytes,
          lastPackets: c.rxPackets,
          offsetBytes: 0,
          offsetPackets: 0,
          sinceMs: sample.atMs,
          firstBytes: b,
          firstPackets: p,
          seen,
        });
        bytes.set(ip, b);
        packets.set(ip, p);
        continue;
      }
      if (c.rxBytes < track.lastBytes) track.offsetBytes += Number(track.lastBytes);
      if (c.rxPackets < track.lastPackets) track.offsetPackets += Number(track.lastPackets);
      track.lastBytes = c.rxBytes;
      track.lastPackets = c.rxPackets;
      track.seen = seen;
      bytes.set(ip, Number(c.rxBytes) + track.offsetBytes);
      packets.set(ip, Number(c.rxPackets) + track.offsetPackets);
    }
    // A VIP missing from this sample is forgotten: it restarts when it comes back.
    if (this.tracks.size > bytes.size) {
      for (const [ip, track] of this.tracks) if (track.seen !== seen) this.tracks.delete(ip);
    }
    const entry: AdjustedSample = { atMs: sample.atMs, bytes, packets };
    this.samples.push(entry);
    this.latestSample = sample;
    const windowStart = sample.atMs - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.atMs <= windowStart) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
    this.cached = this.computeFromTracks(entry);
    return true;
  }

  private computeFromTracks(newest: AdjustedSample): Map<string, VipRate> {
    const base = this.samples[0]!;
    const rates = new Map<string, VipRate>();
    for (const [ip, nowBytes] of newest.bytes) {
      const track = this.tracks.get(ip)!;
      const nowPackets = newest.packets.get(ip)!;
      const fromBase = track.sinceMs < base.atMs;
      const fromMs = fromBase ? base.atMs : track.sinceMs;
      const fromBytes = fromBase ? base.bytes.get(ip)! : track.firstBytes;
      const fromPackets = fromBase ? base.packets.get(ip)! : track.firstPackets;
      const seconds = (newest.atMs - fromMs) / 1000;
      rates.set(
        ip,
        seconds > 0
          ? {
              bitsPerSecond: ((nowBytes - fromBytes) * 8) / seconds,
              packetsPerSecond: (nowPackets - fromPackets) / seconds,
            }
          : { bitsPerSecond: 0, packetsPerSecond: 0 },
      );
    }
    return rates;
  }

  rates(): ReadonlyMap<string, VipRate> {
    return this.cached;
  }

  latest(): CounterSample | undefined {
    return this.latestSample;
  }
}
