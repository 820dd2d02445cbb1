// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Bench-only XDP program for bench/arp's CPU-per-reply part: counts and drops every ARP frame at the
 * earliest point, lets everything else pass. On the client's veth it swallows the replies (so the
 * client's kernel and sockets never spend CPU on them, for every responder alike) and counts them; on
 * the responder's veth it is the "nobody answers" baseline. Compiled at bench time, never shipped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} arp_sink_count SEC(".maps");

SEC("xdp")
int arp_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_ARP))
		return XDP_PASS;
	n = bpf_map_lookup_elem(&arp_sink_count, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
