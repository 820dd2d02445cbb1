/* IPv6 neighbor solicitation parsing and neighbor advertisement construction (RFC 4861). */
#ifndef HERALD_NDP_H
#define HERALD_NDP_H

#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>
#include "csum.h"

#define NDP_NS 135
#define NDP_NA 136
#define NDP_OPT_SLLA 1
#define NDP_OPT_TLLA 2
#define NDP_MAX_OPTS 8
#define NDP_NA_FLAG_SOLICITED 0x40
#define NDP_NA_FLAG_OVERRIDE 0x20

/* NS / NA body: type, code, checksum, 4 bytes flags/reserved, target (24 bytes). */
struct nd_msg_hdr {
	__u8 type;
	__u8 code;
	__be16 cksum;
	__u8 flags[4];
	__u8 target[16];
};

struct nd_opt_lla {
	__u8 type;
	__u8 len; /* in units of 8 bytes */
	__u8 mac[ETH_ALEN];
};

/* The complete NA we send: IPv6 header + NA + target link-layer option (72 bytes). */
struct na_packet {
	struct ipv6hdr ip6;
	struct nd_msg_hdr na;
	struct nd_opt_lla tlla;
};

struct ns_info {
	__u8 src[16];
	__u8 target[16];
	__u8 slla[ETH_ALEN];
	__u8 has_slla;
};

/*
 * Validates an NS (ICMPv6 directly after the IPv6 header, hop limit 255, code 0, complete payload) and
 * copies what the reply needs. Returns 0 for a usable NS, -1 otherwise (the caller passes the frame).
 */
static __always_inline int ns_parse(void *data, void *data_end, __u32 off, struct ns_info *ns)
{
	struct ipv6hdr *ip6 = data + off;
	struct nd_msg_hdr *nd = (void *)(ip6 + 1);
	__u32 plen, optoff;

	if ((void *)(nd + 1) > data_end)
		return -1;
	if (ip6->nexthdr != IPPROTO_ICMPV6 || ip6->hop_limit != 255 || nd->type != NDP_NS || nd->code != 0)
		return -1;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen < sizeof(*nd) || plen > 1024 || (void *)nd + plen > data_end)
		return -1;
	__builtin_memcpy(ns->src, &ip6->saddr, 16);
	__builtin_memcpy(ns->target, nd->target, 16);
	ns->has_slla = 0;
	optoff = sizeof(*nd);
#pragma unroll
	for (int i = 0; i < NDP_MAX_OPTS; i++) {
		struct nd_opt_lla *opt;

		if (optoff + 2 > plen || optoff > 512)
			break;
		opt = (void *)nd + optoff;
		if ((void *)opt + 2 > data_end)
			return -1;
		if (opt->len == 0)
			return -1; /* RFC 4861 4.6: zero-length option, invalid */
		if (opt->type == NDP_OPT_SLLA && opt->len == 1) {
			if ((void *)(opt + 1) > data_end)
				return -1;
			__builtin_memcpy(ns->slla, opt->mac, ETH_ALEN);
			ns->has_slla = 1;
		}
		optoff += (__u32)opt->len * 8;
	}
	if (optoff > plen)
		return -1;
	return 0;
}

/* Fills the NA for ns; to the solicitor, or to ff02::1 with S clear when the NS came from :: (DAD). */
static __always_inline void na_build(struct na_packet *p, const struct ns_info *ns, const __u8 *mac, int dad)
{
	__u32 sum = 0;

	__builtin_memset(p, 0, sizeof(*p));
	p->ip6.version = 6;
	p->ip6.payload_len = bpf_htons(sizeof(p->na) + sizeof(p->tlla));
	p->ip6.nexthdr = IPPROTO_ICMPV6;
	p->ip6.hop_limit = 255;
	__builtin_memcpy(&p->ip6.saddr, ns->target, 16);
	if (dad) {
		p->ip6.daddr.in6_u.u6_addr8[0] = 0xff;
		p->ip6.daddr.in6_u.u6_addr8[1] = 0x02;
		p->ip6.daddr.in6_u.u6_addr8[15] = 0x01;
	} else {
		__builtin_memcpy(&p->ip6.daddr, ns->src, 16);
	}
	p->na.type = NDP_NA;
	p->na.flags[0] = dad ? NDP_NA_FLAG_OVERRIDE : (NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE);
	__builtin_memcpy(p->na.target, ns->target, 16);
	p->tlla.type = NDP_OPT_TLLA;
	p->tlla.len = 1;
	__builtin_memcpy(p->tlla.mac, mac, ETH_ALEN);

	/* Pseudo-header: source, destination, upper-layer length, next header; then the ICMPv6 message. */
	sum = csum_add_bytes(sum, &p->ip6.saddr, 32);
	sum += bpf_htons(sizeof(p->na) + sizeof(p->tlla));
	sum += bpf_htons(IPPROTO_ICMPV6);
	sum = csum_add_bytes(sum, &p->na, sizeof(p->na) + sizeof(p->tlla));
	p->na.cksum = csum_fold(sum);
}

#endif
