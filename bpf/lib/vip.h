/* VIP lookup with the optional interface / VLAN restriction. */
#ifndef HERALD_VIP_H
#define HERALD_VIP_H

#include "maps.h"
#include "eth.h"

static __always_inline struct herald_vip *vip_lookup(struct xdp_md *ctx, const struct herald_addr *ip,
						     const struct l2_info *l2)
{
	struct herald_vip *v = bpf_map_lookup_elem(&herald_vips, ip);

	if (!v)
		return 0;
	if (v->ifindex && v->ifindex != ctx->ingress_ifindex)
		return 0;
	if (v->vlan && v->vlan != l2->vlan_id)
		return 0;
	return v;
}

#endif
