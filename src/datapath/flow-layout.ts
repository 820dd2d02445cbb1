/**
 * Byte layouts of the flow-mode maps (mirror of the flow part of bpf/lib/types.h). Pure functions only.
 */
import {
  FLOW_MAX_TARGETS,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  type FlowEntry,
  type FlowRole,
  type FlowTarget,
} from '../l2/flow-model.js';
import { addrFromKey, addrKey, formatMac } from './xdp-layout.js';

export { FLOW_MAX_TARGETS, FLOW_NO_TARGET, FLOW_SLOTS, type FlowEntry, type FlowRole, type FlowTarget };

export const FLOW_MAP_NAMES = {
  flows: 'herald_flows',
  lru: 'herald_flow_lru',
  nodeMacs: 'herald_node_macs',
  stats: 'herald_flow_stats',
} as const;

const TARGET_SIZE = 8;
const TARGETS_OFFSET = 8;
const SLOTS_OFFSET = TARGETS_OFFSET + FLOW_MAX_TARGETS * TARGET_SIZE;
export const FLOW_VALUE_SIZE = SLOTS_OFFSET + FLOW_SLOTS;
export const FLOW_STAT_KEY_SIZE = 24;
export const FLOW_STAT_VALUE_SIZE = 16;

const ROLE_CODES: Record<FlowRole, number> = { owner: 1, member: 2 };

export function encodeFlow(e: FlowEntry): Buffer {
  if (e.targets.length > FLOW_MAX_TARGETS)
    throw new Error(`a flow set holds at most ${FLOW_MAX_TARGETS} targets, got ${e.targets.length}`);
  if (e.slots.length !== FLOW_SLOTS) throw new Error(`slot table must have ${FLOW_SLOTS} slots`);
  const buf = Buffer.alloc(FLOW_VALUE_SIZE);
  buf.writeUInt32LE(ROLE_CODES[e.role], 0);
  e.targets.forEach((t, i) => {
    if (t === undefined) return;
    if (t.mac.length !== 6) throw new Error(`target MAC must be 6 bytes, got ${t.mac.length}`);
    t.mac.copy(buf, TARGETS_OFFSET + i * TARGET_SIZE);
    buf[TARGETS_OFFSET + i * TARGET_SIZE + 6] = t.local ? 1 : 0;
  });
  for (let s = 0; s < FLOW_SLOTS; s++) {
    const idx = e.slots[s] ?? FLOW_NO_TARGET;
    if (idx !== FLOW_NO_TARGET && e.targets[idx] === undefined)
      throw new Error(`slot ${s} points at unused target index ${idx}`);
    buf[SLOTS_OFFSET + s] = idx;
  }
  return buf;
}

export function decodeFlow(buf: Buffer): FlowEntry {
  if (buf.length < FLOW_VALUE_SIZE) throw new Error(`flow value too short: ${buf.length} bytes`);
  const targets: Array<FlowTarget | undefined> = [];
  for (let i = 0; i < FLOW_MAX_TARGETS; i++) {
    const off = TARGETS_OFFSET + i * TARGET_SIZE;
    const mac = Buffer.from(buf.subarray(off, off + 6));
    targets.push(mac.equals(Buffer.alloc(6)) ? undefined : { mac, local: buf[off + 6] === 1 });
  }
  while (targets.length > 0 && targets[targets.length - 1] === undefined) targets.pop();
  return {
    role: buf.readUInt32LE(0) === ROLE_CODES.owner ? 'owner' : 'member',
    targets,
    slots: new Uint8Array(buf.subarray(SLOTS_OFFSET, SLOTS_OFFSET + FLOW_SLOTS)),
  };
}

/** herald_node_macs key: the MAC and 2 pad bytes. */
export function nodeMacKey(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error(`node MAC must be 6 bytes, got ${mac.length}`);
  const key = Buffer.alloc(8);
  mac.copy(key);
  return key;
}

export type FlowStatKind = 'out' | 'local' | 'in';
const STAT_KINDS: Record<number, FlowStatKind> = { 1: 'out', 2: 'local', 3: 'in' };

export interface FlowStat {
  vip: string;
  /** out: the target's MAC; local: the owner's own; in: the MAC of the node that steered it here. */
  mac: string;
  kind: FlowStatKind;
  packets: bigint;
  bytes: bigint;
}

/** Decodes one herald_flow_stats entry whose per-CPU values were already summed. */
export function decodeFlowStat(key: Buffer, packets: bigint, bytes: bigint): FlowStat | undefined {
  if (key.length !== FLOW_STAT_KEY_SIZE) throw new Error(`flow stat key must be 24 bytes, got ${key.length}`);
  const kind = STAT_KINDS[key[22] ?? 0];
  if (kind === undefined) return undefined;
  return {
    vip: addrFromKey(key.subarray(0, 16)),
    mac: formatMac(key.subarray(16, 22)),
    kind,
    packets,
    bytes,
  };
}

/** The herald_flow_stats keys of one VIP are those starting with its address key. */
export function flowStatBelongsTo(key: Buffer, vip: string): boolean {
  return key.subarray(0, 16).equals(addrKey(vip));
}
