/* Internet checksum helpers (RFC 1071) over stack memory. */
#ifndef HERALD_CSUM_H
#define HERALD_CSUM_H

#include <linux/types.h>

static __always_inline __u32 csum_add_bytes(__u32 sum, const void *buf, int len)
{
	const __u16 *w = buf;

#pragma unroll
	for (int i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif
