/**
 * TypeScript face of the XDP ARP/NDP responder (bpf/herald_xdp.bpf.c): loads the object with pinned
 * maps, attaches it to interfaces, and programs VIPs, the liveness heartbeat and reads counters and
 * learned clients. Map layouts live in xdp-layout.ts; docs/datapath.md explains the behaviour.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../util/paths.js';
import { BpfObject, type BpfMap, type BpfProgram, numPossibleCpus, unpinDir } from './bpf.js';
import { FlowMaps } from './flow-maps.js';
import type { XdpTxErrors } from './tx-errors.js';
import { interfaceIndex, interfaceMac } from './netdev.js';
import {
  attachXdp,
  detachXdp,
  type KnownProgram,
  openPinnedProgram,
  pinProgram,
  queryXdp,
  type XdpMode,
} from './xdp.js';
import { ALL_BUCKETS } from '../l2/buckets.js';
import {
  COUNTERS_VALUE_SIZE,
  MAP_NAMES,
  PROGRAM_NAME,
  addrFromKey,
  addrKey,
  decodeClient,
  decodeConfig,
  decodeVip,
  decodeVipIfKey,
  encodeConfig,
  encodeVip,
  encodeVipIf,
  encodeVipIfKey,
  formatMac,
  parseTimensMonotonicOffsetNs,
  solicitedNodeMac,
  sumPerCpuCounters,
  type LearnedClient,
  type VipAction,
  type VipCounters,
  type VipEntry,
  type VipInterface,
} from './xdp-layout.js';

export type { LearnedClient, VipAction, VipCounters, VipEntry, VipInterface } from './xdp-layout.js';

export const DEFAULT_OBJECT_FILE = 'herald_xdp.bpf.o';
/** Liveness bound written at first open when the pinned config has none yet. */
export const DEFAULT_LIVENESS_BOUND_MS = 3000;

export interface VipSpec {
  action: VipAction;
  /** MAC to answer with; defaults to the MAC of the (single, or ifindex-matching) attached interface. */
  mac?: Buffer;
  ifindex?: number;
  vlan?: number;
  /** 64-bit spread bitmap; default all ones (answer every client). */
  buckets?: bigint;
  /** Further interfaces to answer on (answer entries with an ifindex), each with its own MAC. */
  more?: readonly VipInterface[];
}

let timensOffsetNs: bigint | undefined;

/**
 * Now on the clock bpf_ktime_get_ns() reads: CLOCK_MONOTONIC of the init time namespace.
 * process.hrtime.bigint() is libuv's clock_gettime(CLOCK_MONOTONIC); inside a time namespace that is
 * shifted by the namespace's monotonic offset, which we subtract (read once from /proc).
 */
export function kernelMonotonicNs(): bigint {
  if (timensOffsetNs === undefined) {
    try {
      timensOffsetNs = parseTimensMonotonicOffsetNs(readFileSync('/proc/self/timens_offsets', 'utf8'));
    } catch {
      timensOffsetNs = 0n; // kernel without time namespaces: no offset possible
    }
  }
  return process.hrtime.bigint() - timensOffsetNs;
}

export class XdpResponder {
  private readonly vipMap: BpfMap;
  private readonly counterMap: BpfMap;
  private readonly clientMap: BpfMap;
  private readonly configMap: BpfMap;
  private readonly vipIfMap: BpfMap;
  /** Flow-mode maps (slot tables, node MACs, steering counters). */
  readonly flows: FlowMaps;
  private readonly attached = new Map<string, { mode: XdpMode; ifindex: number; mac: Buffer }>();
  private livenessBoundNs: bigint;
  /** Solicited-node groups joined (`MAC dev IFNAME`) → the answered VIPs that need them. */
  private readonly groups = new Map<string, Set<string>>();
  private groupOps: string[] = [];
  private groupChain: Promise<void> = Promise.resolve();
  private knownCounters: Set<string> | undefined;
  private lastBeatNs: bigint | undefined;
  /** The last counters() read: raw per-CPU value and its sums, per VIP. */
  private counterSums = new Map<string, { raw: Buffer; sum: VipCounters }>();
  /** The last batch dump of the counter map, with each entry's address and sums (counters()). */
  private counterDump:
    { keyBytes: Buffer; values: Buffer; valueSize: number; ips: string[]; sums: VipCounters[] } | undefined;
  private maxBeatGapNs = 0n;
  private txErrors: XdpTxErrors | undefined;
  private closed = false;

  private constructor(
    private readonly object: BpfObject,
    readonly program: BpfProgram,
    readonly pinDir: string,
  ) {
    this.vipMap = object.map(MAP_NAMES.vips);
    this.counterMap = object.map(MAP_NAMES.counters);
    this.clientMap = object.map(MAP_NAMES.clients);
    this.configMap = object.map(MAP_NAMES.config);
    this.vipIfMap = object.map(MAP_NAMES.vipIfs);
    this.flows = new FlowMaps(object);
    const cfg = decodeConfig(this.configMap.lookup(configKey()) ?? Buffer.alloc(16));
    this.livenessBoundNs = cfg.livenessBoundNs;
    if (this.livenessBoundNs === 0n) this.setLivenessBoundMs(DEFAULT_LIVENESS_BOUND_MS);
  }

  /** Loads the program; maps are pinned under pinDir and reused when already pinned (restarts keep state). */
  static open(opts: { pinDir: string; objectPath?: string }): XdpResponder {
    const path = opts.objectPath ?? join(nativeBuildDir(), DEFAULT_OBJECT_FILE);
    const object = BpfObject.load(path, { pinDir: opts.pinDir });
    try {
      return new XdpResponder(object, object.program(PROGRAM_NAME), opts.pinDir);
    } catch (error) {
      object.close();
      throw error;
    }
  }

  /** Removes the pinned maps of a responder (uninstall, tests). Does not detach programs. */
  static cleanup(pinDir: string): void {
    unpinDir(pinDir);
  }

  /**
   * Attaches to ifname. A Herald program already attached there (a previous speaker) is replaced
   * atomically in its mode (unless another mode is asked explicitly: then detach + attach); a foreign
   * program is never clobbered (BpfError EBUSY).
   */
  attach(ifname: string, mode: XdpMode | 'auto' = 'auto'): XdpMode {
    this.assertOpen();
    const used = this.withHeraldPrograms((known, pinned) => {
      let current = queryXdp(ifname, known);
      if (current && current.progName === PROGRAM_NAME && mode !== 'auto' && mode !== current.mode) {
        detachXdp(ifname, current.mode); // explicit mode change: a short gap is unavoidable
        current = undefined;
      }
      const attachedMode =
        current?.progName !== PROGRAM_NAME
          ? attachXdp(ifname, this.program, { mode, known })
          : current.progId === this.program.id
            ? current.mode
            : attachXdp(ifname, this.program, { mode: current.mode, replaceProgId: current.progId, known });
      if (pinned?.id !== this.program.id) pinProgram(this.program, this.pinDir);
      return attachedMode;
    });
    this.attached.set(ifname, { mode: used, ifindex: interfaceIndex(ifname), mac: interfaceMac(ifname) });
    for (const [ip, e] of this.vips()) if (e.action === 'answer') this.joinGroup(ip, e.ifindex);
    for (const [ip, ifindexes] of this.moreInterfaces()) for (const i of ifindexes) this.joinGroup(ip, i);
    this.flushGroups();
    this.txErrors?.watch(this.attachedInterfaces().values());
    return used;
  }

  /** Detaches Herald's program from ifname (no-op when none of ours is attached). */
  detach(ifname: string): void {
    const current = this.withHeraldPrograms((known) => queryXdp(ifname, known));
    this.dropInterface(ifname, true);
    if (!current || current.progName !== PROGRAM_NAME) return;
    detachXdp(ifname, current.mode);
  }

  /**
   * Forgets an attached interface the kernel removed (its attachment and multicast groups went with it);
   * touches nothing in the kernel, so an interface recreated under the name is left alone.
   */
  forget(ifname: string): void {
    this.dropInterface(ifname, false);
  }

  /** Interfaces this responder attached to, by name, with their ifindex at attach time. */
  attachedInterfaces(): Map<string, number> {
    return new Map([...this.attached].map(([name, a]) => [name, a.ifindex]));
  }

  /**
   * Counts the transmit errors of the interfaces this responder is attached to (kept in step with
   * attach/detach); close() closes it too.
   */
  countTxErrors(txErrors: XdpTxErrors): void {
    this.txErrors = txErrors;
    txErrors.watch(this.attachedInterfaces().values());
  }

  /** Frames dropped after a verdict on an attached interface, per interface and action (none: no counter). */
  transmitErrors(): Array<{ interface: string; action: string; frames: bigint }> {
    if (!this.txErrors) return [];
    const names = new Map([...this.attached].map(([name, a]) => [a.ifindex, name]));
    return this.txErrors.counts().flatMap((c) => {
      const name = names.get(c.ifindex);
      return name === undefined ? [] : [{ interface: name, action: c.action, frames: c.frames }];
    });
  }

  private dropInterface(ifname: string, leaveGroups: boolean): void {
    this.attached.delete(ifname);
    this.txErrors?.watch(this.attachedInterfaces().values());
    const suffix = ` dev ${ifname}`;
    for (const id of [...this.groups.keys()]) {
      if (!id.endsWith(suffix)) continue;
      this.groups.delete(id);
      if (leaveGroups) this.groupOps.push(`maddr del ${id}`);
    }
    this.flushGroups();
  }

  setVip(ip: string, spec: VipSpec): void {
    this.setVips([[ip, spec]]);
  }

  /**
   * Writes many VIP entries with one batch per map. New VIPs get their counters first, so the very first
   * answered request is counted; existing counters keep their sums.
   */
  setVips(entries: ReadonlyArray<readonly [string, VipSpec]>): void {
    this.assertOpen();
    if (entries.length === 0) return;
    const known = this.counterKeys();
    const zero = Buffer.alloc(numPossibleCpus() * COUNTERS_VALUE_SIZE);
    const counters: Array<[Buffer, Buffer]> = [];
    const values: Array<[Buffer, Buffer]> = [];
    const answering: Array<[string, number]> = [];
    const moreNow = this.moreInterfaces();
    const ifDeletes: Buffer[] = [];
    const ifWrites: Array<[Buffer, Buffer]> = [];
    for (const [ip, spec] of entries) {
      const key = addrKey(ip);
      const entry: VipEntry = {
        action: spec.action,
        mac: spec.mac ?? (spec.action === 'answer' ? this.defaultMac(ip, spec.ifindex) : Buffer.alloc(6)),
        ifindex: spec.ifindex ?? 0,
        vlan: spec.vlan ?? 0,
        buckets: spec.buckets ?? ALL_BUCKETS,
      };
      const hex = key.toString('hex');
      if (!known.has(hex)) {
        counters.push([key, zero]);
        known.add(hex);
      }
      values.push([key, encodeVip(entry)]);
      const more = entry.action === 'answer' && entry.ifindex ? (spec.more ?? []) : [];
      const wanted = new Set(more.map((m) => m.ifindex));
      for (const ifindex of moreNow.get(ip) ?? [])
        if (!wanted.has(ifindex)) ifDeletes.push(encodeVipIfKey(ip, ifindex));
      for (const m of more) ifWrites.push([encodeVipIfKey(ip, m.ifindex), encodeVipIf(m.mac)]);
      if (entry.action === 'answer') {
        answering.push([ip, entry.ifindex]);
        for (const m of more) answering.push([ip, m.ifindex]);
      } else {
        this.leaveGroup(ip);
      }
    }
    // Further interfaces before the entry: a request on one of them is never answered with a wrong MAC.
    if (ifDeletes.length > 0) this.vipIfMap.deleteMany(ifDeletes);
    if (ifWrites.length > 0) this.vipIfMap.updateMany(ifWrites, 'any');
    this.counterMap.updateMany(counters, 'any');
    this.vipMap.updateMany(values, 'any');
    for (const [ip, ifindex] of answering) this.joinGroup(ip, ifindex);
    this.flushGroups();
  }

  /** The further interfaces (ifindexes) of every VIP answered on more than one. */
  moreInterfaces(): Map<string, number[]> {
    this.assertOpen();
    const out = new Map<string, number[]>();
    for (const [k] of this.vipIfMap.entries()) {
      const { ip, ifindex } = decodeVipIfKey(k);
      out.set(
        ip,
        [...(out.get(ip) ?? []), ifindex].sort((a, b) => a - b),
      );
    }
    return out;
  }

  deleteVip(ip: string): void {
    this.deleteVips([ip]);
  }

  deleteVips(ips: readonly string[]): void {
    this.assertOpen();
    if (ips.length === 0) return;
    const keys = ips.map(addrKey);
    this.vipMap.deleteMany(keys);
    const more = this.moreInterfaces();
    const ifKeys = ips.flatMap((ip) => (more.get(ip) ?? []).map((ifindex) => encodeVipIfKey(ip, ifindex)));
    if (ifKeys.length > 0) this.vipIfMap.deleteMany(ifKeys);
    this.counterMap.deleteMany(keys);
    const known = this.counterKeys();
    for (const key of keys) known.delete(key.toString('hex'));
    for (const ip of ips) this.leaveGroup(ip);
    this.flushGroups();
  }

  vips(): Map<string, VipEntry> {
    this.assertOpen();
    const out = new Map<string, VipEntry>();
    for (const [k, v] of this.vipMap.entries()) out.set(addrFromKey(k), decodeVip(v));
    return out;
  }

  /** Marks the control plane alive now (or at atNs on the bpf_ktime_get_ns clock, for tests). */
  heartbeat(atNs?: bigint): void {
    this.assertOpen();
    const at = atNs ?? kernelMonotonicNs();
    // A stamp of 0 shuts the gate: not a beat.
    if (at > 0n && this.lastBeatNs !== undefined && at > this.lastBeatNs)
      this.maxBeatGapNs = bigMax(this.maxBeatGapNs, at - this.lastBeatNs);
    if (at > 0n) this.lastBeatNs = at;
    this.writeConfig(at);
  }

  /** The heartbeat's age and the longest gap between two heartbeats written since the last call. */
  heartbeatStats(): { ageMs: number | undefined; maxGapMs: number } {
    const maxGapMs = Number(this.maxBeatGapNs) / 1e6;
    this.maxBeatGapNs = 0n;
    return { ageMs: this.heartbeatAgeMs(), maxGapMs };
  }

  /**
   * Age of the last heartbeat as the XDP gate sees it, in ms; undefined when none was ever written.
   * At start, an age beyond the liveness bound means the gate closed while no speaker ran.
   */
  heartbeatAgeMs(): number | undefined {
    this.assertOpen();
    const cfg = decodeConfig(this.configMap.lookup(configKey()) ?? Buffer.alloc(16));
    if (cfg.heartbeatNs === 0n) return undefined;
    return Number(kernelMonotonicNs() - cfg.heartbeatNs) / 1e6;
  }

  /** Whether the liveness gate is open now (a heartbeat fresher than the bound). */
  gateOpen(): boolean {
    const age = this.heartbeatAgeMs();
    return age !== undefined && age * 1e6 < Number(this.livenessBoundNs);
  }

  setLivenessBoundMs(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0)
      throw new Error(`liveness bound must be a positive number of ms, got ${ms}`);
    this.livenessBoundNs = BigInt(Math.round(ms * 1e6));
    const cfg = decodeConfig(this.configMap.lookup(configKey()) ?? Buffer.alloc(16));
    this.writeConfig(cfg.heartbeatNs);
  }

  /**
   * Per-VIP counters, summed over CPUs, from one dump of the per-CPU map. Read every second: with the
   * same keys as the last dump (no VIP added or removed), a VIP whose raw per-CPU value did not change
   * (most of thousands) keeps its address text and summed counters, compared in place in the dump
   * without a Buffer per entry (at 10,000 VIPs the per-entry work held the event loop for tens of ms).
   */
  counters(): Map<string, VipCounters> {
    this.assertOpen();
    const dump = this.counterMap.packedEntries();
    if (!dump) return this.countersByEntries();
    const { keys, values } = dump;
    const prev = this.counterDump;
    const keyBytes = keys.bytes.subarray(0, keys.count * keys.size);
    const sameKeys = prev !== undefined && prev.valueSize === values.size && prev.keyBytes.equals(keyBytes);
    const ips = sameKeys ? prev.ips : new Array<string>(keys.count);
    const sums = new Array<VipCounters>(keys.count);
    const out = new Map<string, VipCounters>();
    const size = values.size;
    for (let i = 0; i < keys.count; i++) {
      if (!sameKeys) ips[i] = addrFromKey(keys.bytes.subarray(i * keys.size, (i + 1) * keys.size));
      const from = i * size;
      const unchanged =
        sameKeys && values.bytes.compare(prev.values, from, from + size, from, from + size) === 0;
      const sum = unchanged ? prev.sums[i] : undefined;
      sums[i] = sum ?? sumPerCpuCounters(values.bytes.subarray(from, from + size));
      out.set(ips[i]!, sums[i]!);
    }
    this.counterDump = { keyBytes, values: values.bytes, valueSize: size, ips, sums };
    return out;
  }

  /** counters() where the kernel has no batch dump for the map: every entry as a Buffer pair. */
  private countersByEntries(): Map<string, VipCounters> {
    const out = new Map<string, VipCounters>();
    const seen = new Map<string, { raw: Buffer; sum: VipCounters }>();
    for (const [k, v] of this.counterMap.entries()) {
      const ip = addrFromKey(k);
      const cached = this.counterSums.get(ip);
      const entry = cached?.raw.equals(v) ? cached : { raw: Buffer.from(v), sum: sumPerCpuCounters(v) };
      seen.set(ip, entry);
      out.set(ip, entry.sum);
    }
    this.counterSums = seen;
    return out;
  }

  learnedClients(): LearnedClient[] {
    this.assertOpen();
    return this.clientMap.entries().map(([k, v]) => decodeClient(k, v));
  }

  /**
   * Runs `fn` with the programs known to be Herald's without asking the kernel by id (which needs
   * CAP_SYS_ADMIN, which a speaker in a pod does not have): this one and the one a speaker pinned (their
   * kernel names are PROGRAM_NAME).
   */
  private withHeraldPrograms<T>(fn: (known: KnownProgram[], pinned: KnownProgram | undefined) => T): T {
    const pinned = openPinnedProgram(this.pinDir);
    try {
      return fn(pinned ? [this.program, pinned] : [this.program], pinned);
    } finally {
      pinned?.close();
    }
  }

  /** Releases fds. Attachments and pins stay (a restarted speaker takes over without a gap). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.txErrors?.close();
    this.object.close();
  }

  private writeConfig(heartbeatNs: bigint): void {
    this.configMap.update(
      configKey(),
      encodeConfig({ heartbeatNs, livenessBoundNs: this.livenessBoundNs }),
      'any',
    );
  }

  /** Keys (hex) of the counter entries, read once from the map and kept up to date after. */
  private counterKeys(): Set<string> {
    if (!this.knownCounters) {
      this.knownCounters = new Set(this.counterMap.keys().map((k) => k.toString('hex')));
    }
    return this.knownCounters;
  }

  /**
   * NS for an IPv6 VIP go to its solicited-node multicast MAC, which a NIC filters out unless the
   * interface joined that group (Cilium #44311): join it on the attached interfaces (`ip maddr`), as the
   * kernel would for an address it holds. A group is left when no answered VIP needs it any more.
   */
  private joinGroup(ip: string, ifindex: number): void {
    const mac = solicitedNodeMac(ip);
    if (!mac) return;
    for (const [ifname, a] of this.attached) {
      if (ifindex && a.ifindex !== ifindex) continue;
      const id = `${formatMac(mac)} dev ${ifname}`;
      let members = this.groups.get(id);
      if (!members) {
        members = new Set();
        this.groups.set(id, members);
        this.groupOps.push(`maddr add ${id}`);
      }
      members.add(ip);
    }
  }

  private leaveGroup(ip: string): void {
    const mac = solicitedNodeMac(ip);
    if (!mac) return;
    for (const ifname of this.attached.keys()) {
      const id = `${formatMac(mac)} dev ${ifname}`;
      const members = this.groups.get(id);
      if (!members?.delete(ip) || members.size > 0) continue;
      this.groups.delete(id);
      this.groupOps.push(`maddr del ${id}`);
    }
  }

  /**
   * Runs the queued `ip maddr` changes as one `ip -batch` in the background (one process for thousands of
   * VIPs, off the event loop), one batch after the other. Best effort: a failure leaves veth and
   * promiscuous setups working, since the XDP program answers whatever reaches it.
   */
  private flushGroups(): void {
    if (this.groupOps.length === 0) return;
    const script = `${this.groupOps.join('\n')}\n`;
    this.groupOps = [];
    this.groupChain = this.groupChain.then(
      () =>
        new Promise<void>((resolve) => {
          const child = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
          child.once('error', () => resolve());
          child.once('exit', () => resolve());
          child.stdin.on('error', () => undefined);
          child.stdin.end(script);
        }),
    );
  }

  /** Resolves when the queued group changes have been applied (tests). */
  groupsSettled(): Promise<void> {
    return this.groupChain;
  }

  private defaultMac(ip: string, ifindex: number | undefined): Buffer {
    const candidates = [...this.attached.values()].filter((a) => !ifindex || a.ifindex === ifindex);
    const first = candidates[0];
    if (candidates.length === 1 && first) return first.mac;
    throw new Error(
      `setVip ${ip}: no mac given and ${candidates.length} attached interfaces match; pass mac explicitly`,
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('XdpResponder is closed');
  }
}

const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);

function configKey(): Buffer {
  return Buffer.alloc(4);
}
