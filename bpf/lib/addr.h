/* Address keys: IPv4 as v4-mapped IPv6, IPv6 as is. */
#ifndef HERALD_ADDR_H
#define HERALD_ADDR_H

#include "types.h"

static __always_inline void addr_from_v4(struct herald_addr *a, const __u8 *ip4)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	__builtin_memcpy(&a->b[12], ip4, 4);
}

static __always_inline void addr_from_v6(struct herald_addr *a, const __u8 *ip6)
{
	__builtin_memcpy(a->b, ip6, 16);
}

static __always_inline int v6_is_unspecified(const __u8 *ip6)
{
	__u64 w[2];

	__builtin_memcpy(w, ip6, 16);
	return (w[0] | w[1]) == 0;
}

#endif
