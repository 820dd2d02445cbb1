// Placeholder until the ARP/NDP responder lands; keeps the build path exercised.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int herald_xdp(struct xdp_md *ctx) { return XDP_PASS; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
