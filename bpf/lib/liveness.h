/* Liveness gate: answer only while the control plane's heartbeat is fresh. */
#ifndef HERALD_LIVENESS_H
#define HERALD_LIVENESS_H

#include "maps.h"

/* now: bpf_ktime_get_ns(), read once per packet by the caller. */
static __always_inline int control_plane_alive(__u64 now)
{
	__u32 zero = 0;
	struct herald_config *cfg = bpf_map_lookup_elem(&herald_config, &zero);
	__u64 hb, age;

	if (!cfg)
		return 0;
	hb = cfg->heartbeat_ns;
	if (hb == 0)
		return 0; /* never written: fail safe, do not answer */
	age = now >= hb ? now - hb : hb - now;
	return age <= cfg->liveness_bound_ns;
}

#endif
