/* Shared map key/value layouts. Byte-for-byte mirrored by src/datapath/xdp-layout.ts. */
#ifndef HERALD_TYPES_H
#define HERALD_TYPES_H

#include <linux/types.h>

/* VIP / client key: 16 address bytes in network order. IPv4 is stored v4-mapped (::ffff:a.b.c.d). */
struct herald_addr {
	__u8 b[16];
};

#define HERALD_ACTION_ANSWER 1
#define HERALD_ACTION_SUPPRESS 2

/* herald_vips value, 24 bytes. ifindex 0 = any interface; vlan 0 = any (else innermost VLAN ID). */
struct herald_vip {
	__u64 buckets; /* spread bitmap: bit (fnv1a(requester) & 63) must be set to answer */
	__u32 ifindex;
	__u16 vlan;
	__u8 mac[6];
	__u8 action; /* HERALD_ACTION_* */
	__u8 pad[3];
};

/* herald_counters value (per CPU), 40 bytes. */
struct herald_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 arp_requests;
	__u64 ndp_requests;
	__u64 replies;
};

/* herald_clients value, 24 bytes. */
struct herald_client {
	__u64 last_seen_ns; /* bpf_ktime_get_ns() == CLOCK_MONOTONIC of the init time namespace */
	__u32 ifindex;
	__u8 mac[6];
	__u8 pad[2];
};

/* herald_config value (array, one slot), 16 bytes. */
struct herald_config {
	__u64 heartbeat_ns;      /* last control-plane heartbeat, bpf_ktime_get_ns() clock */
	__u64 liveness_bound_ns; /* answer only while |now - heartbeat| <= bound */
};

#endif
