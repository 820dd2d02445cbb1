/* Liveness gate: answer only while the control plane's heartbeat is fresh. */
#ifndef HERALD_LIVENESS_H
#define HERALD_LIVENESS_H

#include "maps.h"

static __always_inline int control_plane_alive(void)
{
	__u32 zero = 0;
	struct herald_config *cfg = bpf_map_lookup_elem(&herald_config, &zero);
	__u64 now, hb, age;

	if (!cfg)
		return 0;
	hb = cfg->heartbeat_ns;
	if (hb == 0)
		return 0; /* never written: fail safe, do not answer */
	now = bpf_ktime_get_ns();
	age = now >= hb ? now - hb : hb - now;
	return age <= cfg->liveness_bound_ns;
}

#endif
