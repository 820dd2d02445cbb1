/**
 * The flow-mode maps of a loaded responder: per-VIP slot tables, the cluster's node MACs (loop guard),
 * the established-flow LRU and the steering counters. Layouts in flow-layout.ts; docs/datapath.md.
 */
import { join } from 'node:path';
import { BpfMap, numPossibleCpus } from './bpf.js';
import { splitPerCpu, sumU64Fields } from './percpu.js';
import {
  FLOW_GUARD_REASONS,
  FLOW_MAP_NAMES,
  FLOW_STAT_VALUE_SIZE,
  decodeFlow,
  encodeFlow,
  nodeMacKey,
  type FlowEntry,
  type FlowGuardCounts,
} from './flow-layout.js';
import { addrFromKey, addrKey, formatMac } from './xdp-layout.js';

export interface FlowCounter {
  packets: bigint;
  bytes: bigint;
}

export class FlowMaps {
  private readonly flows: BpfMap;
  private readonly lru: BpfMap;
  private readonly nodeMacs: BpfMap;
  private readonly stats: BpfMap;
  private readonly guardMap: BpfMap;

  /** `release` closes maps opened from pins (a loaded object's maps are closed with the object). */
  constructor(
    object: { map(name: string): BpfMap },
    private readonly release: () => void = () => undefined,
  ) {
    this.flows = object.map(FLOW_MAP_NAMES.flows);
    this.lru = object.map(FLOW_MAP_NAMES.lru);
    this.nodeMacs = object.map(FLOW_MAP_NAMES.nodeMacs);
    this.stats = object.map(FLOW_MAP_NAMES.stats);
    this.guardMap = object.map(FLOW_MAP_NAMES.guards);
  }

  /** The flow maps a running speaker pinned under `pinDir` (tools and tests); close() releases them. */
  static openPinned(pinDir: string): FlowMaps {
    const opened: BpfMap[] = [];
    const release = () => {
      for (const m of opened.splice(0)) m.close();
    };
    const map = (name: string) => {
      const m = BpfMap.openPinned(join(pinDir, name));
      opened.push(m);
      return m;
    };
    try {
      return new FlowMaps({ map }, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  close(): void {
    this.release();
  }

  /** Installs or replaces the VIP's flow entry (the kernel swaps the whole value at once). */
  set(vip: string, entry: FlowEntry): void {
    this.flows.update(addrKey(vip), encodeFlow(entry), 'any');
  }

  get(vip: string): FlowEntry | undefined {
    const raw = this.flows.lookup(addrKey(vip));
    return raw === undefined ? undefined : decodeFlow(raw);
  }

  delete(vip: string): void {
    this.flows.delete(addrKey(vip));
  }

  /** VIPs with a flow entry. */
  vips(): string[] {
    return this.flows.keys().map((k) => addrFromKey(k));
  }

  /** Makes the node-MAC set exactly `macs` (frames from these are never steered). */
  setNodeMacs(macs: readonly Buffer[]): void {
    const want = new Map(macs.map((m) => [nodeMacKey(m).toString('hex'), nodeMacKey(m)]));
    for (const key of this.nodeMacs.keys()) {
      if (!want.delete(key.toString('hex'))) this.nodeMacs.delete(key);
    }
    for (const key of want.values()) this.nodeMacs.update(key, Buffer.alloc(4), 'any');
  }

  nodeMacList(): string[] {
    return this.nodeMacs.keys().map((k) => formatMac(k.subarray(0, 6)));
  }

  /** One steering counter, summed over CPUs. */
  stat(index: number): FlowCounter {
    return perCpuCounter(this.stats.lookup(statKey(index)));
  }

  /** Frames the steering guards kept from being steered, per reason, summed over CPUs. */
  guards(): FlowGuardCounts {
    const read = (reason: (typeof FLOW_GUARD_REASONS)[number]) =>
      perCpuCounter(this.guardMap.lookup(statKey(FLOW_GUARD_REASONS.indexOf(reason))));
    return { not_owner: read('not_owner'), gate_closed: read('gate_closed'), loop_guard: read('loop_guard') };
  }

  /** Zeroes a counter before its index is handed to a new target. */
  resetStat(index: number): void {
    this.stats.update(statKey(index), Buffer.alloc(FLOW_STAT_VALUE_SIZE), 'any');
  }

  /** Established flows pinned by the owner (for status and tests). */
  pinnedFlowCount(): number {
    return this.lru.keys().length;
  }

  /** Forgets every pinned flow (tests; a new owner starts from the table anyway). */
  clearPins(): void {
    for (const key of this.lru.keys()) this.lru.delete(key);
  }
}

function perCpuCounter(raw: Buffer | undefined): FlowCounter {
  if (raw === undefined) return { packets: 0n, bytes: 0n };
  const [packets = 0n, bytes = 0n] = sumU64Fields(splitPerCpu(raw, FLOW_STAT_VALUE_SIZE, numPossibleCpus()));
  return { packets, bytes };
}

function statKey(index: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  return key;
}
