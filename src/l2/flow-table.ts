import {
  FLOW_MAX_TARGETS,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  type FlowEntry,
  type FlowTarget,
} from './flow-model.js';
import { rendezvousOrder } from './rendezvous.js';

/**
 * Flow-mode slot tables. Every speaker computes the same table from the same flow set: rendezvous hashing
 * per slot (key: VIP and slot), so a node leaving moves only its own slots, a node joining takes only the
 * slots it now wins, and a new owner after a failover sends every surviving node's flows where the old
 * owner did. Pure: no I/O.
 */

function fnv1a(text: string): number {
  let h = 2166136261;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The node of every slot (index = slot), by highest score of (VIP, slot, node); ties by name. */
export function slotOwners(ip: string, nodes: readonly string[], slots = FLOW_SLOTS): string[] {
  const unique = [...new Set(nodes)].sort();
  if (unique.length === 0) return [];
  const seeds = unique.map((n) => fmix32(fnv1a(n)));
  const ipSeed = fnv1a(ip);
  const out: string[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const base = fmix32((ipSeed ^ Math.imul(slot + 1, 0x9e3779b9)) >>> 0);
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < unique.length; i++) {
      const score = fmix32((base ^ (seeds[i] ?? 0)) >>> 0);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    out.push(unique[best] as string);
  }
  return out;
}

/** Slots per node (for status: each node's share of the VIP's new flows). */
export function slotShares(ip: string, nodes: readonly string[]): Map<string, number> {
  const shares = new Map<string, number>([...new Set(nodes)].sort().map((n) => [n, 0]));
  for (const n of slotOwners(ip, nodes)) shares.set(n, (shares.get(n) ?? 0) + 1);
  return shares;
}

/** At most FLOW_MAX_TARGETS nodes: the first by rendezvous order of the VIP (the owner is first). */
export function limitFlowSet(ip: string, nodes: readonly string[]): string[] {
  if (nodes.length <= FLOW_MAX_TARGETS) return [...nodes];
  return rendezvousOrder(ip, nodes).slice(0, FLOW_MAX_TARGETS);
}

/**
 * Target indices for `macs`, keeping the index of every MAC that `previous` already held (so flows the
 * data path pinned to an index stay valid) and filling new MACs into the lowest free indices.
 */
export function stableIndices(
  previous: ReadonlyArray<FlowTarget | undefined>,
  macs: readonly string[],
): Map<string, number> {
  const wanted = new Set(macs);
  const out = new Map<string, number>();
  const used = new Set<number>();
  previous.forEach((t, i) => {
    const mac = t?.mac.toString('hex');
    if (mac !== undefined && wanted.has(mac) && !out.has(mac) && i < FLOW_MAX_TARGETS) {
      out.set(mac, i);
      used.add(i);
    }
  });
  let next = 0;
  for (const mac of macs) {
    if (out.has(mac)) continue;
    while (used.has(next)) next++;
    if (next >= FLOW_MAX_TARGETS) throw new Error(`more than ${FLOW_MAX_TARGETS} flow targets`);
    out.set(mac, next);
    used.add(next);
  }
  return out;
}

export interface FlowEntryInput {
  ip: string;
  self: string;
  owner: string;
  /** Nodes of the flow set with their MAC on the VIP's segment (12 hex digits); self must be among them. */
  macs: ReadonlyMap<string, string>;
  previous?: FlowEntry;
  /**
   * MACs (12 hex digits) of nodes that just left the flow set: kept at their previous index without slots,
   * so flows pinned to them stay there (a node flapping out of gossip for a moment breaks nothing).
   */
  draining?: ReadonlySet<string>;
  /** Hands out a fresh counter index (the previous entry's are kept for unchanged targets). */
  allocStat: () => number;
}

/** Counter indices of an entry (to free those a replacement no longer uses). */
export function entryStats(e: FlowEntry): number[] {
  return [e.inStat, ...e.targets.flatMap((t) => (t ? [t.stat] : []))].filter((n) => n > 0);
}

/** The data-path entry of one flow-mode VIP on `self`. */
export function buildFlowEntry(input: FlowEntryInput): FlowEntry {
  const own = input.macs.get(input.self);
  if (own === undefined) throw new Error(`flow entry for ${input.ip}: no MAC of ${input.self}`);
  const nodes = limitFlowSet(input.ip, [...input.macs.keys()]);
  const macOf = (n: string) => input.macs.get(n) ?? '';
  const before = input.previous?.targets ?? [];
  const active = [...new Set(nodes.map(macOf))];
  const held = new Set(before.flatMap((t) => (t ? [t.mac.toString('hex')] : [])));
  const draining = [...(input.draining ?? [])]
    .filter((m) => held.has(m) && !active.includes(m))
    .slice(0, FLOW_MAX_TARGETS - active.length);
  const indices = stableIndices(before, [...active, ...draining]);
  const targets: Array<FlowTarget | undefined> = [];
  const place = (hex: string, local: boolean) => {
    const idx = indices.get(hex) ?? 0;
    const mac = Buffer.from(hex, 'hex');
    const kept = before[idx]?.mac.equals(mac) ? before[idx]?.stat : undefined;
    targets[idx] = { mac, local, stat: kept && kept > 0 ? kept : input.allocStat() };
  };
  for (const n of nodes) place(macOf(n), n === input.self);
  for (const m of draining) place(m, false);
  for (let i = 0; i < targets.length; i++) targets[i] ??= undefined;
  const slots = new Uint8Array(FLOW_SLOTS).fill(FLOW_NO_TARGET);
  slotOwners(input.ip, nodes).forEach((n, s) => {
    slots[s] = indices.get(macOf(n)) ?? FLOW_NO_TARGET;
  });
  const inStat = input.previous && input.previous.inStat > 0 ? input.previous.inStat : input.allocStat();
  return {
    role: input.owner === input.self ? 'owner' : 'member',
    ownMac: Buffer.from(own, 'hex'),
    inStat,
    targets,
    slots,
  };
}
