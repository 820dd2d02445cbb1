/*
 * VIP lookup with the optional interface / VLAN restriction. The MAC to answer with goes to `mac`: the
 * entry's own, or on a further interface of the VIP (herald_vip_ifs) that interface's.
 */
#ifndef HERALD_VIP_H
#define HERALD_VIP_H

#include "maps.h"
#include "eth.h"

static __always_inline struct herald_vip *vip_lookup(struct xdp_md *ctx, const struct herald_addr *ip,
						     const struct l2_info *l2, __u8 *mac)
{
	struct herald_vip *v = bpf_map_lookup_elem(&herald_vips, ip);

	if (!v)
		return 0;
	if (v->vlan && v->vlan != l2->vlan_id)
		return 0;
	if (v->ifindex && v->ifindex != ctx->ingress_ifindex) {
		struct herald_vip_if_key k;
		struct herald_vip_if *other;

		__builtin_memcpy(&k.ip, ip, sizeof(k.ip));
		k.ifindex = ctx->ingress_ifindex;
		other = bpf_map_lookup_elem(&herald_vip_ifs, &k);
		if (!other)
			return 0;
		__builtin_memcpy(mac, other->mac, ETH_ALEN);
		return v;
	}
	__builtin_memcpy(mac, v->mac, ETH_ALEN);
	return v;
}

#endif
