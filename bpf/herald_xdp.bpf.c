// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Herald XDP responder: answers ARP requests and IPv6 neighbor solicitations for the VIPs this node
 * owns straight from the driver (XDP_TX), drops them for VIPs another node owns (suppress), counts
 * IPv4/IPv6 traffic per VIP, learns requesting clients and, in flow mode, steers the flows of the VIPs it
 * owns to their nodes (lib/steer.h). See docs/datapath.md.
 *
 * Verdicts: XDP_TX = we answered in place (or steered a flow to another node); XDP_DROP = suppressed (or another
 * node's spread bucket, or another node's flow this node may not steer);
 * XDP_PASS = everything else, untouched (malformed, truncated, unknown, not a VIP, gate closed).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lib/types.h"
#include "lib/maps.h"
#include "lib/addr.h"
#include "lib/eth.h"
#include "lib/arp.h"
#include "lib/ndp.h"
#include "lib/vip.h"
#include "lib/counters.h"
#include "lib/clients.h"
#include "lib/policy.h"
#include "lib/steer.h"

static __always_inline int handle_arp(struct xdp_md *ctx, const struct l2_info *l2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct arp_eth_ipv4 *arp = arp_request(data, data_end, l2->l3off);
	struct herald_counters *ctr;
	struct herald_addr key, requester;
	struct herald_vip *vip;
	__u8 vip_mac[ETH_ALEN];
	int verdict;
	__u32 spa;
	__u64 now;

	if (!arp || arp_is_gratuitous(arp))
		return XDP_PASS;
	addr_from_v4(&key, arp->tpa);
	vip = vip_lookup(ctx, &key, l2, vip_mac);
	if (!vip)
		return XDP_PASS;
	now = bpf_ktime_get_ns();
	ctr = count_request(&key, 0);
	__builtin_memcpy(&spa, arp->spa, 4);
	if (spa != 0) { /* RFC 5227 probes (sender 0.0.0.0) have no address to learn */
		addr_from_v4(&requester, arp->spa);
		learn_client(&requester, arp->sha, ctx->ingress_ifindex, now);
	}
	verdict = request_policy(vip, arp->spa, 4, now);
	if (verdict != HERALD_ANSWER)
		return verdict;
	arp_reply_in_place(data, arp, vip_mac);
	if (ctr)
		ctr->replies++;
	return XDP_TX;
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, const struct l2_info *l2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + l2->l3off;
	struct herald_addr key;

	if ((void *)(ip + 1) > data_end || ip->version != 4)
		return XDP_PASS;
	addr_from_v4(&key, (const __u8 *)&ip->daddr);
	if (!count_rx(&key, data_end - data))
		return XDP_PASS;
	return flow_steer(ctx, l2, &key, 0);
}

static __always_inline int answer_ns(struct xdp_md *ctx, __u32 l3off, const struct ns_info *ns, const __u8 *vip_mac,
				     const __u8 *req_mac)
{
	int dad = v6_is_unspecified(ns->src);
	struct na_packet na;
	void *data, *data_end;
	__u32 want = l3off + sizeof(na);
	__u8 all_nodes_mac[ETH_ALEN];
	int delta;

	/* 33:33:00:00:00:01, built byte by byte so that clang emits no .rodata */
	__builtin_memset(all_nodes_mac, 0, ETH_ALEN);
	all_nodes_mac[0] = 0x33;
	all_nodes_mac[1] = 0x33;
	all_nodes_mac[5] = 0x01;
	na_build(&na, ns, vip_mac, dad);
	delta = (int)want - (int)(ctx->data_end - ctx->data);
	if (delta != 0 && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l3off > 22 || data + l3off + sizeof(na) > data_end)
		return -1;
	eth_set_addrs(data, dad ? all_nodes_mac : req_mac, vip_mac);
	__builtin_memcpy(data + l3off, &na, sizeof(na));
	return 0;
}

static __always_inline int handle_ipv6(struct xdp_md *ctx, const struct l2_info *l2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + l2->l3off;
	struct herald_counters *ctr;
	struct herald_addr key;
	struct herald_vip *vip;
	struct ns_info ns;
	__u8 vip_mac[ETH_ALEN];
	__u8 req_mac[ETH_ALEN];
	int verdict;
	int counted;
	int dad;
	__u64 now;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return XDP_PASS;
	addr_from_v6(&key, (const __u8 *)&ip6->daddr);
	counted = count_rx(&key, data_end - data);
	if (ip6->nexthdr != IPPROTO_ICMPV6 || ns_parse(data, data_end, l2->l3off, &ns))
		return counted ? flow_steer(ctx, l2, &key, 1) : XDP_PASS; /* an NS stays with its answerer */
	addr_from_v6(&key, ns.target);
	vip = vip_lookup(ctx, &key, l2, vip_mac);
	if (!vip)
		return XDP_PASS;
	now = bpf_ktime_get_ns();
	ctr = count_request(&key, 1);
	__builtin_memcpy(req_mac, ((struct ethhdr *)data)->h_source, ETH_ALEN);
	dad = v6_is_unspecified(ns.src);
	if (!dad) {
		struct herald_addr requester;

		addr_from_v6(&requester, ns.src);
		learn_client(&requester, ns.has_slla ? ns.slla : req_mac, ctx->ingress_ifindex, now);
	}
	verdict = request_policy(vip, ns.src, 16, now);
	if (verdict != HERALD_ANSWER)
		return verdict;
	if (answer_ns(ctx, l2->l3off, &ns, vip_mac, req_mac))
		return XDP_PASS;
	if (ctr)
		ctr->replies++;
	return XDP_TX;
}

SEC("xdp")
int herald_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct l2_info l2;

	if (parse_l2(data, data_end, &l2))
		return XDP_PASS;
	switch (l2.proto) {
	case bpf_htons(ETH_P_ARP):
		return handle_arp(ctx, &l2);
	case bpf_htons(ETH_P_IP):
		return handle_ipv4(ctx, &l2);
	case bpf_htons(ETH_P_IPV6):
		return handle_ipv6(ctx, &l2);
	}
	return XDP_PASS;
}

/*
 * Trivial companion program: the XDP_PASS baseline for benchmarks, and the program to put on a veth
 * peer so that native XDP_TX works on veth.
 */
SEC("xdp")
int herald_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
