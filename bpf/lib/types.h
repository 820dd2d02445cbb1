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

/*
 * herald_vip_ifs: more interfaces a VIP is answered on besides its entry's own ifindex, each with the
 * MAC of that interface. Key 20 bytes, value 8 bytes.
 */
struct herald_vip_if_key {
	struct herald_addr ip;
	__u32 ifindex;
};

struct herald_vip_if {
	__u8 mac[6];
	__u8 pad[2];
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

/*
 * Flow mode (docs/datapath.md "Flow steering"). herald_flows value: the VIP's role on this node, its
 * targets (node MACs on the VIP's segment) and the slot table (slot -> target index).
 */
#define HERALD_FLOW_SLOTS 4096 /* power of two: slot = hash & (SLOTS - 1) */
#define HERALD_FLOW_MAX_TARGETS 128
#define HERALD_FLOW_NO_TARGET 0xff
#define HERALD_FLOW_ROLE_OWNER 1  /* steers: slots of other targets leave by XDP_TX */
#define HERALD_FLOW_ROLE_MEMBER 2 /* receives: only counts what other nodes steered in */

struct herald_flow_target {
	__u8 mac[6]; /* all zero: unused index */
	__u8 local;  /* 1: this node (pass to the own stack) */
	__u8 pad;
	__u32 stat; /* herald_flow_stats index counting what goes to this target */
	__u32 pad2;
};

/* herald_flows value, 16 + 16 * 128 + 4096 = 6160 bytes. */
struct herald_flow {
	__u32 role;
	__u32 in_stat;  /* herald_flow_stats index counting frames other nodes steered here */
	__u8 own_mac[6]; /* frames must be addressed to it to be steered; source MAC of steered frames */
	__u8 pad[2];
	struct herald_flow_target targets[HERALD_FLOW_MAX_TARGETS];
	__u8 slots[HERALD_FLOW_SLOTS]; /* target index; HERALD_FLOW_NO_TARGET = pass */
};

/*
 * Flow identity, 40 bytes, also the input of the flow hash (MurmurHash3 x86_32, seed 0). TCP/UDP:
 * addresses, ports, protocol; other protocols and every IP fragment: ports 0.
 */
struct herald_flow_key {
	__u8 src[16]; /* herald_addr form: IPv4 v4-mapped */
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* herald_flow_lru value: where the flow went first (kept while that target stays in the table). */
struct herald_flow_pin {
	__u8 mac[6];
	__u8 index;
	__u8 pad;
};

/* herald_node_macs key: a cluster node's MAC (frames from it are never steered). */
struct herald_mac_key {
	__u8 mac[6];
	__u8 pad[2];
};

/*
 * herald_flow_guards index (per CPU, value struct herald_flow_stat): frames the steering guards kept from
 * being steered. NOT_OWNER and GATE_CLOSED are dropped (another node's flow at a node that may not steer);
 * LOOP_GUARD frames (steered here by another node while this node steers the VIP too: two owners) are
 * passed up the own stack, never steered again.
 */
#define HERALD_FLOW_GUARD_NOT_OWNER 0
#define HERALD_FLOW_GUARD_GATE_CLOSED 1
#define HERALD_FLOW_GUARD_LOOP 2
#define HERALD_FLOW_GUARD_REASONS 4

/* herald_flow_stats value (per CPU). Indices are handed out by the control plane; 0 is never used. */
struct herald_flow_stat {
	__u64 packets;
	__u64 bytes;
};

#endif
