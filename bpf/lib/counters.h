/* Per-VIP per-CPU counters. Entries exist only if the control plane created them. */
#ifndef HERALD_COUNTERS_H
#define HERALD_COUNTERS_H

#include "maps.h"

static __always_inline struct herald_counters *counters_of(const struct herald_addr *vip)
{
	return bpf_map_lookup_elem(&herald_counters, vip);
}

/* Returns 1 when dst is a VIP this node holds counters for (the only traffic flow mode looks at). */
static __always_inline int count_rx(const struct herald_addr *dst, __u64 bytes)
{
	struct herald_counters *c = counters_of(dst);

	if (!c)
		return 0;
	c->rx_packets++;
	c->rx_bytes += bytes;
	return 1;
}

/* Counts an ARP request (ndp = 0) or NS (ndp = 1) for vip; returns its counters, 0 when none exist. */
static __always_inline struct herald_counters *count_request(const struct herald_addr *vip, int ndp)
{
	struct herald_counters *c = counters_of(vip);

	if (c) {
		if (ndp)
			c->ndp_requests++;
		else
			c->arp_requests++;
	}
	return c;
}

#endif
