import { SPREAD_BUCKETS } from './buckets.js';
import { rendezvousOrder } from './rendezvous.js';

/**
 * Assigns the VIP's client buckets to nodes by rendezvous hashing per bucket (key `ip/bucket`). When a node
 * leaves, exactly its buckets move and every other client keeps its node (no broken connections on the
 * survivors); when one joins, it takes only the buckets it now wins. The price is balance that holds in
 * expectation: with n nodes each holds 64/n buckets ± sqrt(64·(1/n)·(1−1/n)) (3 nodes: 21.3 ± 3.8).
 */
export function assignSpreadBuckets(ip: string, nodes: readonly string[]): Map<string, bigint> {
  const result = new Map<string, bigint>();
  const unique = [...new Set(nodes)].sort();
  for (const n of unique) result.set(n, 0n);
  if (unique.length === 0) return result;
  for (let bucket = 0; bucket < SPREAD_BUCKETS; bucket++) {
    const chosen = rendezvousOrder(`${ip}/${bucket}`, unique)[0] as string;
    result.set(chosen, (result.get(chosen) ?? 0n) | (1n << BigInt(bucket)));
  }
  // A node that won no bucket does not answer for this VIP at all.
  for (const [node, bits] of result) if (bits === 0n) result.delete(node);
  return result;
}

/** Buckets that `node` holds in `next` but did not hold in `previous` (whose clients must be told). */
export function gainedBuckets(previous: bigint | undefined, next: bigint): bigint {
  return next & ~(previous ?? 0n);
}
