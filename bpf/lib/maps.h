/* Map definitions (no logic). Every map is pinned by the loader as <pinDir>/<name>. */
#ifndef HERALD_MAPS_H
#define HERALD_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "types.h"

/* Every VIP a node holds an entry for (answer or suppress): sized for clusters with 10,000+ VIPs. */
#define HERALD_MAX_VIPS 16384
#define HERALD_MAX_CLIENTS 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HERALD_MAX_VIPS);
	__type(key, struct herald_addr);
	__type(value, struct herald_vip);
} herald_vips SEC(".maps");

/* A VIP answered on several interfaces: one entry per further interface (see vip.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HERALD_MAX_VIPS);
	__type(key, struct herald_vip_if_key);
	__type(value, struct herald_vip_if);
} herald_vip_ifs SEC(".maps");

/* Created and deleted by the control plane only; the data path only increments existing entries. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, HERALD_MAX_VIPS);
	__type(key, struct herald_addr);
	__type(value, struct herald_counters);
} herald_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HERALD_MAX_CLIENTS);
	__type(key, struct herald_addr);
	__type(value, struct herald_client);
} herald_clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct herald_config);
} herald_config SEC(".maps");

/* Flow mode: VIPs in a flow set on this node (owner or member). Values are 5 KB: allocated on demand. */
#define HERALD_MAX_FLOW_VIPS 4096
#define HERALD_MAX_FLOWS 65536
#define HERALD_MAX_NODE_MACS 1024
#define HERALD_MAX_FLOW_STATS 32768

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HERALD_MAX_FLOW_VIPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct herald_addr);
	__type(value, struct herald_flow);
} herald_flows SEC(".maps");

/* Established flows (owner only): LRU with per-CPU free lists, entries shared by every CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HERALD_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct herald_flow_key);
	__type(value, struct herald_flow_pin);
} herald_flow_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HERALD_MAX_NODE_MACS);
	__type(key, struct herald_mac_key);
	__type(value, __u32);
} herald_node_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HERALD_MAX_FLOW_STATS);
	__type(key, __u32);
	__type(value, struct herald_flow_stat);
} herald_flow_stats SEC(".maps");

/*
 * Why the steering path kept frames from being steered, per reason (HERALD_FLOW_GUARD_*), for the whole
 * node. A map of its own (not a layout change of herald_flow_stats): pins of an older program stay reusable.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HERALD_FLOW_GUARD_REASONS);
	__type(key, __u32);
	__type(value, struct herald_flow_stat);
} herald_flow_guards SEC(".maps");

#endif
