/* Flow identity of an IPv4 / IPv6 packet and its hash (flow mode). */
#ifndef HERALD_FLOW_KEY_H
#define HERALD_FLOW_KEY_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "types.h"

#define HERALD_IP_MF_OFFSET 0x3fff /* IPv4 "more fragments" flag + fragment offset */
#define HERALD_V6_MAX_EXT 4        /* extension headers walked before giving up on ports */
#define HERALD_V6_HOPOPTS 0
#define HERALD_V6_ROUTING 43
#define HERALD_V6_FRAGMENT 44
#define HERALD_V6_AH 51
#define HERALD_V6_DSTOPTS 60

/* Ports of a TCP/UDP header at l4 (ports stay 0 when truncated or another protocol). */
static __always_inline void flow_ports(struct herald_flow_key *k, void *l4, void *data_end)
{
	__be16 *ports = l4;

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return;
	if ((void *)(ports + 2) > data_end)
		return;
	k->sport = ports[0];
	k->dport = ports[1];
}

/* Fills k from the IPv4 header at l3off; -1 when truncated or not IPv4. */
static __always_inline int flow_key_v4(struct herald_flow_key *k, void *data, void *data_end, __u32 l3off)
{
	struct iphdr *ip = data + l3off;
	__u32 ihl;

	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	k->src[10] = k->dst[10] = 0xff;
	k->src[11] = k->dst[11] = 0xff;
	__builtin_memcpy(&k->src[12], &ip->saddr, 4);
	__builtin_memcpy(&k->dst[12], &ip->daddr, 4);
	k->proto = ip->protocol;
	if (ip->frag_off & bpf_htons(HERALD_IP_MF_OFFSET))
		return 0; /* every fragment of a datagram: addresses + protocol only */
	ihl = ip->ihl * 4;
	flow_ports(k, (void *)ip + ihl, data_end);
	return 0;
}

/*
 * Fills k from the IPv6 header at l3off, walking hop-by-hop, routing, destination options and AH
 * headers to the upper layer. A fragment header makes it addresses + protocol (the protocol named by
 * the fragment header), like IPv4 fragments. -1 when truncated or not IPv6.
 */
static __always_inline int flow_key_v6(struct herald_flow_key *k, void *data, void *data_end, __u32 l3off)
{
	struct ipv6hdr *ip6 = data + l3off;
	void *hdr = ip6 + 1;
	__u32 len;
	__u8 next;

	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->src, &ip6->saddr, 16);
	__builtin_memcpy(k->dst, &ip6->daddr, 16);
	next = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < HERALD_V6_MAX_EXT; i++) {
		__u8 *ext = hdr;

		if (next != HERALD_V6_HOPOPTS && next != HERALD_V6_ROUTING && next != HERALD_V6_DSTOPTS &&
		    next != HERALD_V6_FRAGMENT && next != HERALD_V6_AH)
			break;
		if ((void *)(ext + 8) > data_end) {
			k->proto = next;
			return 0;
		}
		if (next == HERALD_V6_FRAGMENT) {
			k->proto = ext[0];
			return 0;
		}
		len = next == HERALD_V6_AH ? ((__u32)ext[1] + 2) * 4 : ((__u32)ext[1] + 1) * 8;
		next = ext[0];
		hdr = (void *)ext + len;
	}
	k->proto = next;
	flow_ports(k, hdr, data_end);
	return 0;
}

static __always_inline __u32 rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* MurmurHash3 x86_32 (seed 0) of the 40-byte key, read as little-endian 32-bit blocks. */
static __always_inline __u32 flow_hash(const struct herald_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u32 h = 0;

#pragma unroll
	for (int i = 0; i < (int)sizeof(*k); i += 4) {
		__u32 w;

		__builtin_memcpy(&w, b + i, 4); /* BPF target is little endian here (bpfel) */
		w *= 0xcc9e2d51u;
		w = rotl32(w, 15);
		w *= 0x1b873593u;
		h ^= w;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64u;
	}
	h ^= sizeof(*k);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif
