/* What to do with a request for a VIP entry: answer, drop, or leave it to the kernel. */
#ifndef HERALD_POLICY_H
#define HERALD_POLICY_H

#include <linux/bpf.h>
#include "types.h"
#include "spread.h"
#include "liveness.h"

#define HERALD_ANSWER (-1)

/*
 * HERALD_ANSWER when this node replies to requester (len address bytes); otherwise the XDP verdict:
 * DROP for suppress entries and for clients in another node's spread bucket, PASS while the liveness
 * gate is closed (or for an unknown action).
 */
static __always_inline int request_policy(const struct herald_vip *vip, const __u8 *requester, int len, __u64 now)
{
	if (vip->action == HERALD_ACTION_SUPPRESS)
		return XDP_DROP;
	if (vip->action != HERALD_ACTION_ANSWER || !control_plane_alive(now))
		return XDP_PASS;
	if (!spread_allows(vip->buckets, requester, len))
		return XDP_DROP;
	return HERALD_ANSWER;
}

#endif
