import {
  FLOW_DRAIN_MS,
  FLOW_MAX_STATS,
  FLOW_NO_TARGET,
  type FlowEntry,
  type FlowGuardCounts,
  type FlowTraffic,
} from './flow-model.js';
import type { VipDecision } from './desired.js';
import { buildFlowEntry, entryStats } from './flow-table.js';

/** The part of the responder's flow maps the reconciler drives (FlowMaps implements it). */
export interface FlowDatapath {
  set(vip: string, entry: FlowEntry): void;
  get(vip: string): FlowEntry | undefined;
  delete(vip: string): void;
  vips(): string[];
  setNodeMacs(macs: readonly Buffer[]): void;
  resetStat(index: number): void;
  /** A steering counter summed over CPUs. */
  stat(index: number): { packets: bigint; bytes: bigint };
  /** Frames the steering guards kept from being steered, per reason, summed over CPUs. */
  guards(): FlowGuardCounts;
}

/** MAC (12 hex digits) of every node's interfaces, from gossip metadata: node → interface → MAC. */
export type NodeMacs = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The node MAC each flow-set member receives the VIP's flows on (its first interface for the VIP). */
export function flowTargets(d: VipDecision, macs: NodeMacs): Map<string, string> {
  const out = new Map<string, string>();
  for (const [node, ifnames] of d.flowSet ?? []) {
    const mac = ifnames.map((i) => macs.get(node)?.get(i)).find((m) => m !== undefined && m !== '');
    if (mac !== undefined) out.set(node, mac);
  }
  return out;
}

export interface FlowReconcilerOptions {
  /** How long a target that left the flow set keeps its pinned flows (FLOW_DRAIN_MS). */
  drainMs?: number;
  now?: () => number;
}

/**
 * Makes this node's flow entries match the flow-mode decisions: an owner entry for the VIPs it answers,
 * a member entry for those it receives flows of, none otherwise; and the node-MAC set (loop guard) to
 * every known node's MACs. Writes an entry only when its inputs changed. A target that leaves the flow
 * set drains: it keeps its index (and the flows pinned to it) without slots for drainMs.
 */
export class FlowReconciler {
  private readonly written = new Map<string, string>();
  /** Per VIP: the targets' MACs last written, and the MACs draining with the time they stop. */
  private readonly active = new Map<string, Set<string>>();
  private readonly draining = new Map<string, Map<string, number>>();
  private readonly drainMs: number;
  private readonly now: () => number;
  /** Per VIP: the entry last written and the node name of each target MAC (for traffic()). */
  private readonly entries = new Map<string, { entry: FlowEntry; names: Map<string, string> }>();
  /** Counter indices in use by this node's entries (the pinned map's, adopted at start). */
  private readonly statsInUse = new Set<number>();
  private nextStat = 1;

  constructor(
    private readonly datapath: FlowDatapath,
    private readonly self: string,
    opts: FlowReconcilerOptions = {},
  ) {
    this.drainMs = opts.drainMs ?? FLOW_DRAIN_MS;
    this.now = opts.now ?? Date.now;
    for (const ip of datapath.vips()) {
      const e = datapath.get(ip);
      if (!e) continue;
      for (const n of entryStats(e)) this.statsInUse.add(n);
      this.active.set(ip, new Set(e.targets.flatMap((x) => (x ? [x.mac.toString('hex')] : []))));
    }
  }

  /** The VIP's draining MACs now: those that just left `targets` join, expired or returned ones leave. */
  private drainSet(ip: string, targets: ReadonlySet<string>): string[] {
    const now = this.now();
    const draining = this.draining.get(ip) ?? new Map<string, number>();
    for (const mac of this.active.get(ip) ?? []) {
      if (!targets.has(mac) && !draining.has(mac)) draining.set(mac, now + this.drainMs);
    }
    for (const [mac, until] of draining) if (targets.has(mac) || until <= now) draining.delete(mac);
    this.active.set(ip, new Set(targets));
    if (draining.size > 0) this.draining.set(ip, draining);
    else this.draining.delete(ip);
    return [...draining.keys()].sort();
  }

  private forget(ip: string): void {
    this.written.delete(ip);
    this.entries.delete(ip);
    this.active.delete(ip);
    this.draining.delete(ip);
  }

  private allocStat = (): number => {
    for (let tries = 0; tries < FLOW_MAX_STATS; tries++) {
      const n = this.nextStat;
      this.nextStat = n + 1 >= FLOW_MAX_STATS ? 1 : n + 1;
      if (this.statsInUse.has(n)) continue;
      this.statsInUse.add(n);
      this.datapath.resetStat(n);
      return n;
    }
    return 0; // every counter taken: the target is steered to but not counted
  };

  private freeStats(before: FlowEntry | undefined, after: FlowEntry | undefined): void {
    if (!before) return;
    const keep = new Set(after ? entryStats(after) : []);
    for (const n of entryStats(before)) if (!keep.has(n)) this.statsInUse.delete(n);
  }

  /**
   * The owner watch's pulse thread rewrote these VIPs' entries itself (speaker/watch-takeover.ts): the
   * next apply writes them again, whatever its decisions want.
   */
  rewrite(ips: Iterable<string>): void {
    for (const ip of ips) this.written.delete(ip);
  }

  apply(decisions: readonly VipDecision[], macs: NodeMacs): { set: string[]; removed: string[] } {
    const set: string[] = [];
    const keep = new Set<string>();
    for (const d of decisions) {
      if (d.mode !== 'flows' || d.owner === undefined || !d.flowSet?.has(this.self)) continue;
      const targets = flowTargets(d, macs);
      if (!targets.has(this.self)) continue; // no own MAC known yet: receive nothing, steer nothing
      keep.add(d.ip);
      const draining = this.drainSet(d.ip, new Set(targets.values()));
      const signature = `${d.owner}|${[...targets].sort().join(',')}|${draining.join(',')}`;
      if (this.written.get(d.ip) === signature) continue;
      const previous = this.datapath.get(d.ip);
      const entry = buildFlowEntry({
        ip: d.ip,
        self: this.self,
        owner: d.owner,
        macs: targets,
        allocStat: this.allocStat,
        draining: new Set(draining),
        ...(previous ? { previous } : {}),
      });
      this.datapath.set(d.ip, entry);
      const names = new Map(this.entries.get(d.ip)?.names);
      for (const [node, mac] of targets) names.set(mac, node);
      this.entries.set(d.ip, { entry, names });
      this.freeStats(previous, entry);
      this.written.set(d.ip, signature);
      set.push(d.ip);
    }
    const removed: string[] = [];
    for (const ip of this.datapath.vips()) {
      if (keep.has(ip)) continue;
      const before = this.datapath.get(ip);
      this.datapath.delete(ip);
      this.freeStats(before, undefined);
      this.forget(ip);
      removed.push(ip);
    }
    const all = new Set<string>();
    for (const ifs of macs.values()) for (const m of ifs.values()) if (/^[0-9a-f]{12}$/.test(m)) all.add(m);
    this.datapath.setNodeMacs([...all].sort().map((m) => Buffer.from(m, 'hex')));
    return { set, removed };
  }

  /**
   * What the XDP program counted for each VIP this reconciler wrote (one counter read per target: flow
   * sets are small). Entries adopted from a previous process appear once rewritten.
   */
  traffic(): FlowTraffic[] {
    const out: FlowTraffic[] = [];
    for (const [ip, { entry, names }] of this.entries) {
      const slots = new Map<number, number>();
      for (const idx of entry.slots) if (idx !== FLOW_NO_TARGET) slots.set(idx, (slots.get(idx) ?? 0) + 1);
      const targets = entry.targets.flatMap((t, i) => {
        if (!t) return [];
        const mac = t.mac.toString('hex');
        const c = this.read(t.stat);
        return [{ node: names.get(mac) ?? mac, local: t.local, slots: slots.get(i) ?? 0, ...c }];
      });
      out.push({ ip, role: entry.role, targets, steeredIn: this.read(entry.inStat) });
    }
    return out;
  }

  /** What the steering guards kept from being steered on this node (every VIP together). */
  guards(): FlowGuardCounts {
    return this.datapath.guards();
  }

  private read(stat: number): { packets: bigint; bytes: bigint } {
    return stat > 0 ? this.datapath.stat(stat) : { packets: 0n, bytes: 0n };
  }
}
