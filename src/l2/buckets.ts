import { addressBytes } from '../util/ip-bytes.js';

/**
 * The spread-mode client buckets: a VIP's clients are cut into 64 buckets by a hash of the client address,
 * and each answering node holds a 64-bit bitmap of them. The XDP program computes the same hash
 * (bpf/lib: FNV-1a); datapath/xdp-layout stores the bitmap in the VIP entry.
 */
export const SPREAD_BUCKETS = 64;
export const ALL_BUCKETS = (1n << 64n) - 1n;

/** FNV-1a 32-bit over the address bytes in network order (4 for IPv4, 16 for IPv6), & 63. */
export function clientBucket(ip: string): number {
  let h = 2166136261;
  for (const b of addressBytes(ip)) {
    h ^= b;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h & 63;
}

/** Number of buckets set in a bitmap. */
export function bucketCount(bitmap: bigint): number {
  let n = 0;
  for (let b = bitmap; b > 0n; b >>= 1n) if (b & 1n) n++;
  return n;
}

export function hasBucket(bitmap: bigint, bucket: number): boolean {
  return ((bitmap >> BigInt(bucket)) & 1n) === 1n;
}
