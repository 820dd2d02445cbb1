/* Ethernet + 802.1Q / 802.1ad (QinQ) parsing. Tags are left in place so replies keep them. */
#ifndef HERALD_ETH_H
#define HERALD_ETH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>

#define HERALD_MAX_VLAN_DEPTH 2

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

struct l2_info {
	__u32 l3off;   /* offset of the L3 header from the frame start: 14, 18 or 22 */
	__be16 proto;  /* EtherType after the tags */
	__u16 vlan_id; /* innermost VLAN ID, 0 when untagged */
};

static __always_inline int is_vlan_proto(__be16 p)
{
	return p == bpf_htons(ETH_P_8021Q) || p == bpf_htons(ETH_P_8021AD);
}

/* Returns 0 on success, -1 when the frame is too short. */
static __always_inline int parse_l2(void *data, void *data_end, struct l2_info *l2)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return -1;
	l2->proto = eth->h_proto;
	l2->vlan_id = 0;
#pragma unroll
	for (int i = 0; i < HERALD_MAX_VLAN_DEPTH; i++) {
		struct vlan_tag *tag = data + off;

		if (!is_vlan_proto(l2->proto))
			break;
		if ((void *)(tag + 1) > data_end)
			return -1;
		l2->vlan_id = bpf_ntohs(tag->tci) & 0x0fff;
		l2->proto = tag->encap_proto;
		off += sizeof(*tag);
	}
	l2->l3off = off;
	return 0;
}

static __always_inline void eth_set_addrs(struct ethhdr *eth, const __u8 *dst, const __u8 *src)
{
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
}

#endif
