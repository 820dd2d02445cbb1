/**
 * TypeScript face of the XDP ARP/NDP responder (bpf/herald_xdp.bpf.c): loads the object with pinned
 * maps, attaches it to interfaces, and programs VIPs, the liveness heartbeat and reads counters and
 * learned clients. Map layouts live in xdp-layout.ts; docs/datapath.md explains the behaviour.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../util/paths.js';
import { BpfError, BpfObject, type BpfMap, type BpfProgram, numPossibleCpus, unpinDir } from './bpf.js';
import { FlowMaps } from './flow-maps.js';
import { interfaceIndex, interfaceMac } from './netdev.js';
import { attachXdp, detachXdp, queryXdp, type XdpMode } from './xdp.js';
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
  /** `${ifname} ${mac}` of the solicited-node groups this instance joined (no repeated `ip` runs). */
  private readonly joined = new Set<string>();
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
    let current = queryXdp(ifname);
    if (current && current.progName === PROGRAM_NAME && mode !== 'auto' && mode !== current.mode) {
      detachXdp(ifname, current.mode); // explicit mode change: a short gap is unavoidable
      current = undefined;
    }
    let used: XdpMode;
    if (current && current.progName === PROGRAM_NAME) {
      used =
        current.progId === this.program.id
          ? current.mode
          : attachXdp(ifname, this.program, { mode: current.mode, replaceProgId: current.progId });
    } else {
      used = attachXdp(ifname, this.program, { mode });
    }
    this.attached.set(ifname, { mode: used, ifindex: interfaceIndex(ifname), mac: interfaceMac(ifname) });
    for (const [ip, e] of this.vips())
      if (e.action === 'answer') this.joinSolicitedNode(ip, e.ifindex, 'add');
    return used;
  }

  /** Detaches Herald's program from ifname (no-op when none of ours is attached). */
  detach(ifname: string): void {
    const current = queryXdp(ifname);
    this.attached.delete(ifname);
    if (!current || current.progName !== PROGRAM_NAME) return;
    detachXdp(ifname, current.mode);
  }

  setVip(ip: string, spec: VipSpec): void {
    this.assertOpen();
    const key = addrKey(ip);
    const entry: VipEntry = {
      action: spec.action,
      mac: spec.mac ?? (spec.action === 'answer' ? this.defaultMac(ip, spec.ifindex) : Buffer.alloc(6)),
      ifindex: spec.ifindex ?? 0,
      vlan: spec.vlan ?? 0,
      buckets: spec.buckets ?? ALL_BUCKETS,
    };
    const value = encodeVip(entry);
    // Counters first, so the very first answered request is counted; an existing entry keeps its sums.
    if (!this.counterMap.lookupPerCpu(key)) {
      try {
        this.counterMap.update(key, Buffer.alloc(numPossibleCpus() * COUNTERS_VALUE_SIZE), 'noexist');
      } catch (error) {
        if (!(error instanceof BpfError && error.code === 'EEXIST')) throw error; // raced: fine
      }
    }
    // Further interfaces before the entry: a request on one of them is never answered with a wrong MAC.
    const more = entry.action === 'answer' && entry.ifindex ? (spec.more ?? []) : [];
    this.setMoreInterfaces(ip, more);
    this.vipMap.update(key, value, 'any');
    if (entry.action === 'answer') {
      this.joinSolicitedNode(ip, entry.ifindex, 'add');
      for (const m of more) this.joinSolicitedNode(ip, m.ifindex, 'add');
    }
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

  private setMoreInterfaces(ip: string, more: readonly VipInterface[]): void {
    const wanted = new Set(more.map((m) => m.ifindex));
    for (const ifindex of this.moreInterfaces().get(ip) ?? []) {
      if (!wanted.has(ifindex)) this.vipIfMap.delete(encodeVipIfKey(ip, ifindex));
    }
    for (const m of more) this.vipIfMap.update(encodeVipIfKey(ip, m.ifindex), encodeVipIf(m.mac), 'any');
  }

  deleteVip(ip: string): void {
    this.assertOpen();
    const key = addrKey(ip);
    this.vipMap.delete(key);
    this.setMoreInterfaces(ip, []);
    this.counterMap.delete(key);
    const group = solicitedNodeMac(ip);
    // Leave the group unless another answer VIP (same last 24 bits) still needs it.
    const shared =
      group &&
      [...this.vips()].some(([other, e]) => e.action === 'answer' && solicitedNodeMac(other)?.equals(group));
    if (group && !shared) this.joinSolicitedNode(ip, 0, 'del');
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
    this.writeConfig(atNs ?? kernelMonotonicNs());
  }

  setLivenessBoundMs(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0)
      throw new Error(`liveness bound must be a positive number of ms, got ${ms}`);
    this.livenessBoundNs = BigInt(Math.round(ms * 1e6));
    const cfg = decodeConfig(this.configMap.lookup(configKey()) ?? Buffer.alloc(16));
    this.writeConfig(cfg.heartbeatNs);
  }

  /** Per-VIP counters, summed over CPUs, from one dump of the per-CPU map. */
  counters(): Map<string, VipCounters> {
    this.assertOpen();
    const out = new Map<string, VipCounters>();
    for (const [k, v] of this.counterMap.entries()) out.set(addrFromKey(k), sumPerCpuCounters(v));
    return out;
  }

  learnedClients(): LearnedClient[] {
    this.assertOpen();
    return this.clientMap.entries().map(([k, v]) => decodeClient(k, v));
  }

  /** Releases fds. Attachments and pins stay (a restarted speaker takes over without a gap). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.object.close();
  }

  private writeConfig(heartbeatNs: bigint): void {
    this.configMap.update(
      configKey(),
      encodeConfig({ heartbeatNs, livenessBoundNs: this.livenessBoundNs }),
      'any',
    );
  }

  /**
   * NS for an IPv6 VIP go to its solicited-node multicast MAC, which a NIC filters out unless the
   * interface joined that group (Cilium #44311): join it on the attached interfaces (`ip maddr`), as the
   * kernel would for an address it holds. Best effort: a failure leaves veth/promiscuous setups working.
   */
  private joinSolicitedNode(ip: string, ifindex: number, op: 'add' | 'del'): void {
    const mac = solicitedNodeMac(ip);
    if (!mac) return;
    for (const [ifname, a] of this.attached) {
      if (ifindex && a.ifindex !== ifindex) continue;
      const id = `${ifname} ${formatMac(mac)}`;
      if ((op === 'add') === this.joined.has(id)) continue;
      if (op === 'add') this.joined.add(id);
      else this.joined.delete(id);
      try {
        execFileSync('ip', ['maddr', op, formatMac(mac), 'dev', ifname], { stdio: 'ignore' });
      } catch {
        // already joined / already left, or no iproute2: the XDP program still answers what reaches it
      }
    }
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

function configKey(): Buffer {
  return Buffer.alloc(4);
}
