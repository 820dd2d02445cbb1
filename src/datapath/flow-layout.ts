/**
 * Byte layouts of the flow-mode maps (mirror of the flow part of bpf/lib/types.h). Pure functions only.
 */
import {
  FLOW_MAX_STATS,
  FLOW_MAX_TARGETS,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  type FlowEntry,
  type FlowRole,
  type FlowTarget,
} from '../l2/flow-model.js';

export {
  FLOW_GUARD_REASONS,
  FLOW_MAX_STATS,
  FLOW_MAX_TARGETS,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  type FlowEntry,
  type FlowGuardCounts,
  type FlowRole,
  type FlowTarget,
} from '../l2/flow-model.js';

export const FLOW_MAP_NAMES = {
  flows: 'herald_flows',
  lru: 'herald_flow_lru',
  nodeMacs: 'herald_node_macs',
  stats: 'herald_flow_stats',
  guards: 'herald_flow_guards',
} as const;

const TARGET_SIZE = 16;
const TARGETS_OFFSET = 16;
const SLOTS_OFFSET = TARGETS_OFFSET + FLOW_MAX_TARGETS * TARGET_SIZE;
export const FLOW_VALUE_SIZE = SLOTS_OFFSET + FLOW_SLOTS;
export const FLOW_STAT_VALUE_SIZE = 16;

const ROLE_CODES: Record<FlowRole, number> = { owner: 1, member: 2 };

function checkStat(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n >= FLOW_MAX_STATS)
    throw new Error(`flow stat index out of range: ${n}`);
  return n;
}

export function encodeFlow(e: FlowEntry): Buffer {
  if (e.targets.length > FLOW_MAX_TARGETS)
    throw new Error(`a flow set holds at most ${FLOW_MAX_TARGETS} targets, got ${e.targets.length}`);
  if (e.slots.length !== FLOW_SLOTS) throw new Error(`slot table must have ${FLOW_SLOTS} slots`);
  const buf = Buffer.alloc(FLOW_VALUE_SIZE);
  if (e.ownMac.length !== 6) throw new Error(`own MAC must be 6 bytes, got ${e.ownMac.length}`);
  buf.writeUInt32LE(ROLE_CODES[e.role], 0);
  buf.writeUInt32LE(checkStat(e.inStat), 4);
  e.ownMac.copy(buf, 8);
  e.targets.forEach((t, i) => {
    if (t === undefined) return;
    if (t.mac.length !== 6) throw new Error(`target MAC must be 6 bytes, got ${t.mac.length}`);
    const off = TARGETS_OFFSET + i * TARGET_SIZE;
    t.mac.copy(buf, off);
    buf[off + 6] = t.local ? 1 : 0;
    buf.writeUInt32LE(checkStat(t.stat), off + 8);
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
    targets.push(
      mac.equals(Buffer.alloc(6))
        ? undefined
        : { mac, local: buf[off + 6] === 1, stat: buf.readUInt32LE(off + 8) },
    );
  }
  while (targets.length > 0 && targets[targets.length - 1] === undefined) targets.pop();
  return {
    role: buf.readUInt32LE(0) === ROLE_CODES.owner ? 'owner' : 'member',
    inStat: buf.readUInt32LE(4),
    ownMac: Buffer.from(buf.subarray(8, 14)),
    targets,
    slots: new Uint8Array(buf.subarray(SLOTS_OFFSET, SLOTS_OFFSET + FLOW_SLOTS)),
  };
}

/**
 * A member entry as the owner's (the owner watch's takeover of a flow-mode VIP, speaker/watch-takeover):
 * the same targets and slot table, steered from now on. What a decision round writes for the new owner
 * while the flow set stays (l2/flow-liveness). undefined for a value that is not a member entry.
 */
export function memberAsOwner(buf: Buffer): Buffer | undefined {
  if (buf.length < FLOW_VALUE_SIZE || buf.readUInt32LE(0) !== ROLE_CODES.member) return undefined;
  const out = Buffer.from(buf);
  out.writeUInt32LE(ROLE_CODES.owner, 0);
  return out;
}

/** herald_node_macs key: the MAC and 2 pad bytes. */
export function nodeMacKey(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error(`node MAC must be 6 bytes, got ${mac.length}`);
  const key = Buffer.alloc(8);
  mac.copy(key);
  return key;
}
