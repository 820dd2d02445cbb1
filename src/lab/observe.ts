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

export function readDataplane(node: LabNode): NodeDataplane {
  const vips = new Map<string, VipEntry>();
  const counters = new Map<string, VipCounters>();
  const read = (name: string, fn: (map: BpfMap) => void) => {
    let map: BpfMap | undefined;
    try {
      map = BpfMap.openPinned(join(node.pinDir, name));
      fn(map);
    } catch {
      // not pinned yet (speaker still starting) or already removed
    } finally {
      map?.close();
    }
  };
  read(MAP_NAMES.vips, (m) => {
    for (const [k, v] of m.entries()) vips.set(addrFromKey(k), decodeVip(v));
  });
  read(MAP_NAMES.counters, (m) => {
    for (const [k, v] of m.entries()) counters.set(addrFromKey(k), sumPerCpuCounters(v));
  });
  let gateOpen = false;
  read(MAP_NAMES.config, (m) => {
    const value = m.lookup(Buffer.alloc(4));
    if (!value) return;
    const { heartbeatNs, livenessBoundNs } = decodeConfig(value);
    gateOpen = heartbeatNs > 0n && kernelMonotonicNs() - heartbeatNs < livenessBoundNs;
  });
  return { vips, counters, gateOpen };
}

/** Whether the node's XDP VIP map holds an entry for `ip` (one lookup: cheap enough to poll every ms). */
export function hasVipEntry(node: LabNode, ip: string): boolean {
  let map: BpfMap | undefined;
  try {
    map = BpfMap.openPinned(join(node.pinDir, MAP_NAMES.vips));
    return map.lookup(addrKey(ip)) !== undefined;
  } catch {
    return false;
  } finally {
    map?.close();
  }
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
