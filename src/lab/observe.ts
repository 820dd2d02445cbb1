import { join } from 'node:path';
import { BpfMap } from '../datapath/bpf.js';
import { kernelMonotonicNs } from '../datapath/responder.js';
import {
  addrFromKey,
  addrKey,
  decodeConfig,
  decodeVip,
  MAP_NAMES,
  sumPerCpuCounters,
  type VipCounters,
  type VipEntry,
} from '../datapath/xdp-layout.js';
import type { LabNode } from './cluster.js';

/**
 * Reads what each node's XDP program will actually do, straight from its pinned maps (bpffs is shared
 * by all namespaces): the ground truth of who answers, independent of what the speakers report.
 */
export interface NodeDataplane {
  vips: Map<string, VipEntry>;
  counters: Map<string, VipCounters>;
  /**
   * The liveness gate: the program answers only while the speaker's heartbeat is younger than the bound
   * (a restarted speaker keeps its entries with the gate shut until its watchers report it up).
   */
  gateOpen: boolean;
}

/** Runs `fn` on one of the node's pinned maps; undefined when it is not pinned (yet, or any more). */
function withPinnedMap<T>(node: LabNode, name: string, fn: (map: BpfMap) => T): T | undefined {
  let map: BpfMap | undefined;
  try {
    map = BpfMap.openPinned(join(node.pinDir, name));
    return fn(map);
  } catch {
    return undefined;
  } finally {
    map?.close();
  }
}

export function readDataplane(node: LabNode): NodeDataplane {
  const vips = new Map<string, VipEntry>();
  const counters = new Map<string, VipCounters>();
  withPinnedMap(node, MAP_NAMES.vips, (m) => {
    for (const [k, v] of m.entries()) vips.set(addrFromKey(k), decodeVip(v));
  });
  withPinnedMap(node, MAP_NAMES.counters, (m) => {
    for (const [k, v] of m.entries()) counters.set(addrFromKey(k), sumPerCpuCounters(v));
  });
  return { vips, counters, gateOpen: gateOpen(node) };
}

/** The node's liveness gate alone (one lookup in its config map; readDataplane also walks every VIP). */
export function gateOpen(node: LabNode): boolean {
  return (
    withPinnedMap(node, MAP_NAMES.config, (m) => {
      const value = m.lookup(Buffer.alloc(4));
      if (!value) return false;
      const { heartbeatNs, livenessBoundNs } = decodeConfig(value);
      return heartbeatNs > 0n && kernelMonotonicNs() - heartbeatNs < livenessBoundNs;
    }) ?? false
  );
}

/** Whether the node's XDP VIP map holds an entry for `ip` (one lookup: cheap enough to poll every ms). */
export function hasVipEntry(node: LabNode, ip: string): boolean {
  return withPinnedMap(node, MAP_NAMES.vips, (m) => m.lookup(addrKey(ip)) !== undefined) ?? false;
}

/** Nodes whose XDP entry answers for `ip`, with their bucket bitmaps. */
export function answeringNodes(
  nodes: readonly LabNode[],
  planes: ReadonlyMap<string, NodeDataplane>,
  ip: string,
) {
  const out = new Map<string, bigint>();
  for (const node of nodes) {
    const entry = planes.get(node.name)?.vips.get(ip);
    if (entry?.action === 'answer') out.set(node.name, entry.buckets);
  }
  return out;
}
