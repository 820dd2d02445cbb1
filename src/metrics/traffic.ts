/** Per-VIP kernel counters, as `XdpResponder.counters()` returns them (sums over CPUs). */
export interface TrafficCounters {
  rxPackets: bigint;
  rxBytes: bigint;
  arpRequests: bigint;
  ndpRequests: bigint;
  replies: bigint;
}

/**
 * Where per-VIP counters come from. Called once per scrape (and once per sampling tick): implementations
 * must do one batch read, never one syscall per VIP. `XdpResponder.counters.bind(responder)` fits.
 */
export type TrafficSource = () => ReadonlyMap<string, TrafficCounters>;

/** Per-VIP rate over the configured window. */
export interface VipRate {
  bitsPerSecond: number;
  packetsPerSecond: number;
}

/** One reading of a TrafficSource at a point in time (milliseconds, monotonic clock preferred). */
export interface CounterSample {
  atMs: number;
  counters: ReadonlyMap<string, TrafficCounters>;
}

/** Counters with only traffic fields set, for sources that do not count ARP/NDP (tests, nftables). */
export function trafficOnly(rxPackets: bigint, rxBytes: bigint): TrafficCounters {
  return { rxPackets, rxBytes, arpRequests: 0n, ndpRequests: 0n, replies: 0n };
}
