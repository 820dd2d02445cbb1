/* Client learning: requester address -> MAC, ingress ifindex, last seen (LRU map). */
#ifndef HERALD_CLIENTS_H
#define HERALD_CLIENTS_H

#include "maps.h"

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	__u32 a4, b4;
	__u16 a2, b2;

	__builtin_memcpy(&a4, a, 4);
	__builtin_memcpy(&b4, b, 4);
	__builtin_memcpy(&a2, a + 4, 2);
	__builtin_memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

static __always_inline void learn_client(const struct herald_addr *ip, const __u8 *mac, __u32 ifindex, __u64 now)
{
	struct herald_client *known = bpf_map_lookup_elem(&herald_clients, ip);
	struct herald_client c = {};

	if (known && known->ifindex == ifindex && mac_equal(known->mac, mac)) {
		known->last_seen_ns = now; /* common case: refresh in place, no map update */
		return;
	}
	c.last_seen_ns = now;
	c.ifindex = ifindex;
	__builtin_memcpy(c.mac, mac, 6);
	bpf_map_update_elem(&herald_clients, ip, &c, BPF_ANY);
}

#endif
