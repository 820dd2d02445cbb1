/* ARP (Ethernet/IPv4) request parsing and in-place reply. */
#ifndef HERALD_ARP_H
#define HERALD_ARP_H

#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_eth_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
};

/* An Ethernet/IPv4 ARP request, or 0 when the frame is anything else or truncated. */
static __always_inline struct arp_eth_ipv4 *arp_request(void *data, void *data_end, __u32 off)
{
	struct arp_eth_ipv4 *arp = data + off;

	if ((void *)(arp + 1) > data_end)
		return 0;
	if (arp->htype != bpf_htons(ARP_HTYPE_ETHER) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4 || arp->op != bpf_htons(ARP_OP_REQUEST))
		return 0;
	return arp;
}

static __always_inline int arp_is_gratuitous(const struct arp_eth_ipv4 *arp)
{
	__u32 s, t;

	__builtin_memcpy(&s, arp->spa, 4);
	__builtin_memcpy(&t, arp->tpa, 4);
	return s == t;
}

/* Turns the request into the reply "tpa is-at mac", sent back to the requester (tags untouched). */
static __always_inline void arp_reply_in_place(struct ethhdr *eth, struct arp_eth_ipv4 *arp, const __u8 *mac)
{
	__u8 req_mac[ETH_ALEN];
	__u8 req_ip[4];
	__u8 vip[4];

	__builtin_memcpy(req_mac, arp->sha, ETH_ALEN);
	__builtin_memcpy(req_ip, arp->spa, 4);
	__builtin_memcpy(vip, arp->tpa, 4);
	__builtin_memcpy(eth->h_dest, req_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	arp->op = bpf_htons(ARP_OP_REPLY);
	__builtin_memcpy(arp->sha, mac, ETH_ALEN);
	__builtin_memcpy(arp->spa, vip, 4);
	__builtin_memcpy(arp->tha, req_mac, ETH_ALEN);
	__builtin_memcpy(arp->tpa, req_ip, 4);
}

#endif
