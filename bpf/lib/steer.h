/*
 * Flow steering (flow mode): the owner of a VIP sends each flow to the node of its slot by rewriting the
 * Ethernet addresses and transmitting on the same interface (LVS-DR shape); tags and IP are untouched.
 */
#ifndef HERALD_STEER_H
#define HERALD_STEER_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include "maps.h"
#include "eth.h"
#include "clients.h"
#include "liveness.h"
#include "flow_key.h"

static __always_inline int mac_is_zero(const __u8 *m)
{
	__u32 a;
	__u16 b;

	__builtin_memcpy(&a, m, 4);
	__builtin_memcpy(&b, m + 4, 2);
	return (a | b) == 0;
}

static __always_inline int is_node_mac(const __u8 *mac)
{
	struct herald_mac_key k = {};

	__builtin_memcpy(k.mac, mac, ETH_ALEN);
	return bpf_map_lookup_elem(&herald_node_macs, &k) != 0;
}

static __always_inline void stat_add(struct herald_flow_stat *s, __u64 bytes)
{
	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

static __always_inline void flow_count(__u32 stat, __u64 bytes)
{
	stat_add(bpf_map_lookup_elem(&herald_flow_stats, &stat), bytes);
}

static __always_inline void guard_count(__u32 reason, __u64 bytes)
{
	stat_add(bpf_map_lookup_elem(&herald_flow_guards, &reason), bytes);
}

/* The flow's pinned target index while that target stays in the table, else HERALD_FLOW_NO_TARGET. */
static __always_inline __u32 flow_pinned(const struct herald_flow *flow, const struct herald_flow_key *k)
{
	struct herald_flow_pin *pin = bpf_map_lookup_elem(&herald_flow_lru, k);
	__u32 idx;

	if (!pin)
		return HERALD_FLOW_NO_TARGET;
	idx = pin->index;
	if (idx < HERALD_FLOW_MAX_TARGETS && mac_equal(flow->targets[idx].mac, pin->mac))
		return idx;
	return HERALD_FLOW_NO_TARGET;
}

/* The target index of the flow's slot, HERALD_FLOW_NO_TARGET for an empty slot. */
static __always_inline __u32 flow_slot(const struct herald_flow *flow, const struct herald_flow_key *k)
{
	__u32 idx = flow->slots[flow_hash(k) & (HERALD_FLOW_SLOTS - 1)];

	if (idx >= HERALD_FLOW_MAX_TARGETS || mac_is_zero(flow->targets[idx].mac))
		return HERALD_FLOW_NO_TARGET;
	return idx;
}

/* Target index of the flow: its pinned target, else its slot's, pinned on first sight (table changes keep it). */
static __always_inline __u32 flow_target(const struct herald_flow *flow, const struct herald_flow_key *k)
{
	struct herald_flow_pin fresh = {};
	__u32 idx = flow_pinned(flow, k);

	if (idx < HERALD_FLOW_MAX_TARGETS)
		return idx;
	idx = flow_slot(flow, k);
	if (idx >= HERALD_FLOW_MAX_TARGETS)
		return idx;
	__builtin_memcpy(fresh.mac, flow->targets[idx].mac, ETH_ALEN);
	fresh.index = idx;
	bpf_map_update_elem(&herald_flow_lru, k, &fresh, BPF_ANY);
	return idx;
}

/*
 * A frame this node may not steer (it is not the owner, or its gate is closed) but that the LAN still
 * sends to it (a router's ARP cache older than the takeover, a stalled speaker): the flows of the own
 * slots go up the stack; the others are dropped, because the own stack would answer them with a reset
 * and break connections that live on other nodes (TCP retransmits once the new owner steers them).
 */
static __always_inline int flow_hold(const struct herald_flow *flow, const struct herald_flow_key *k, __u64 bytes)
{
	__u32 idx = flow_pinned(flow, k);

	if (idx >= HERALD_FLOW_MAX_TARGETS)
		idx = flow_slot(flow, k);
	if (idx >= HERALD_FLOW_MAX_TARGETS || flow->targets[idx].local)
		return XDP_PASS;
	guard_count(flow->role == HERALD_FLOW_ROLE_OWNER ? HERALD_FLOW_GUARD_GATE_CLOSED : HERALD_FLOW_GUARD_NOT_OWNER,
		    bytes);
	return XDP_DROP;
}

/*
 * Called for IPv4/IPv6 packets to a VIP this node counts (after count_rx). Returns XDP_TX when the
 * frame was rewritten towards another node, XDP_DROP for another node's flow this node may not steer
 * (flow_hold), else XDP_PASS. Frames from a cluster node's MAC are never steered (MAC rewriting keeps the
 * TTL: a loop would never end; counted as LOOP_GUARD when this node steers the VIP too), nor by a node whose entry is not the owner's, nor frames not addressed to
 * the own MAC, nor while the liveness gate is closed.
 */
static __always_inline int flow_steer(struct xdp_md *ctx, const struct l2_info *l2, const struct herald_addr *vip_key,
				      int v6)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct herald_flow *flow = bpf_map_lookup_elem(&herald_flows, vip_key);
	const struct herald_flow_target *t;
	struct herald_flow_key fk;
	__u64 bytes = data_end - data;
	__u32 idx;

	if (!flow || (void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (is_node_mac(eth->h_source)) {
		flow_count(flow->in_stat, bytes);
		if (flow->role == HERALD_FLOW_ROLE_OWNER)
			guard_count(HERALD_FLOW_GUARD_LOOP, bytes);
		return XDP_PASS;
	}
	if (!mac_equal(eth->h_dest, flow->own_mac))
		return XDP_PASS;
	if ((v6 ? flow_key_v6(&fk, data, data_end, l2->l3off) : flow_key_v4(&fk, data, data_end, l2->l3off)) != 0)
		return XDP_PASS;
	if (flow->role != HERALD_FLOW_ROLE_OWNER || !control_plane_alive_coarse())
		return flow_hold(flow, &fk, bytes);
	idx = flow_target(flow, &fk);
	if (idx >= HERALD_FLOW_MAX_TARGETS)
		return XDP_PASS;
	t = &flow->targets[idx];
	flow_count(t->stat, bytes);
	if (t->local)
		return XDP_PASS;
	eth_set_addrs(eth, t->mac, flow->own_mac);
	return XDP_TX;
}

#endif
