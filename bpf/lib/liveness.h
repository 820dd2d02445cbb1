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

/*
 * The gate for the per-packet steering path (lib/steer.h): the coarse clock (no clock source read; ~10 ns
 * less per packet on a VM) lags bpf_ktime_get_ns() by at most one tick (4 ms at HZ=250, 10 ms at HZ=100),
 * so 10 ms are added to the age: this gate closes no later than control_plane_alive(), at most 10 ms sooner.
 */
#define HERALD_COARSE_TICK_NS 10000000ULL

static __always_inline int control_plane_alive_coarse(void)
{
	return control_plane_alive(bpf_ktime_get_coarse_ns() + HERALD_COARSE_TICK_NS);
}

#endif
