/* Spread buckets: FNV-1a 32-bit over the requester address bytes (network order), & 63. */
#ifndef HERALD_SPREAD_H
#define HERALD_SPREAD_H

#include <linux/types.h>

#define HERALD_FNV_OFFSET 2166136261u
#define HERALD_FNV_PRIME 16777619u

static __always_inline __u32 spread_bucket(const __u8 *addr, int len)
{
	__u32 h = HERALD_FNV_OFFSET;

#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (i >= len)
			break;
		h ^= addr[i];
		h *= HERALD_FNV_PRIME;
	}
	return h & 63;
}

static __always_inline int spread_allows(__u64 buckets, const __u8 *addr, int len)
{
	return (buckets >> spread_bucket(addr, len)) & 1;
}

#endif
