// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Counts frames the kernel dropped after Herald's XDP program returned its verdict (docs/datapath.md,
 * "Transmit errors"): the XDP program cannot see them, since the driver transmits (XDP_TX) after it
 * returned. Two tracepoints report them:
 *   xdp:xdp_exception  a driver could not carry out the verdict (XDP_TX ring full, XDP_ABORTED, an
 *                      invalid action; generic mode: the transmit failed), one frame per event;
 *   xdp:xdp_bulk_tx    veth's batched XDP_TX: `drops` frames of a batch not transmitted (the peer has
 *                      no XDP program in native mode: ENXIO; its ring is full).
 * Only interfaces the control plane listed in herald_tx_watch (network namespace + ifindex) are counted,
 * per ifindex and action, in herald_tx_errors.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "lib/tx_errors.h"

/* The kernel fields read, relocated against the running kernel's BTF (their offsets vary). */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} __attribute__((preserve_access_index)) possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct bpf_prog;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HERALD_TX_MAX_WATCHED);
	__type(key, struct herald_tx_watch_key);
	__type(value, __u32);
} herald_tx_watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HERALD_TX_MAX_COUNTERS);
	__type(key, struct herald_tx_key);
	__type(value, struct herald_tx_count);
} herald_tx_errors SEC(".maps");

static __always_inline int watched(const struct net_device *dev)
{
	struct herald_tx_watch_key key = {
		.netns = dev->nd_net.net->ns.inum,
		.ifindex = (__u32)dev->ifindex,
	};

	return bpf_map_lookup_elem(&herald_tx_watch, &key) != NULL;
}

static __always_inline void count(const struct net_device *dev, __u32 action, __u64 frames)
{
	struct herald_tx_key key = { .ifindex = (__u32)dev->ifindex, .action = action };
	struct herald_tx_count init = { .frames = frames };
	struct herald_tx_count *c;

	c = bpf_map_lookup_elem(&herald_tx_errors, &key);
	if (!c) {
		if (bpf_map_update_elem(&herald_tx_errors, &key, &init, BPF_NOEXIST) == 0)
			return;
		c = bpf_map_lookup_elem(&herald_tx_errors, &key); /* another CPU created it meanwhile */
		if (!c)
			return;
	}
	c->frames += frames; /* this CPU's slot: tracing programs do not nest on one CPU */
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(herald_tx_exc, const struct net_device *dev, const struct bpf_prog *xdp, __u32 act)
{
	if (watched(dev))
		count(dev, act, 1);
	return 0;
}

SEC("tp_btf/xdp_bulk_tx")
int BPF_PROG(herald_tx_bulk, const struct net_device *dev, int sent, int drops, int err)
{
	if (drops > 0 && watched(dev))
		count(dev, XDP_TX, (__u64)drops);
	return 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
