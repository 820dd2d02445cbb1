import { EventEmitter } from 'node:events';
import type { HeraldModel } from '../config/index.js';
import { decideL2, nodeActions, type VipDecision } from '../l2/desired.js';
import type { L2Plan } from '../l2/plan.js';
import { type FlowDatapath, FlowReconciler, type NodeMacs } from '../l2/flow-reconciler.js';
import type { FlowGuardCounts, FlowTraffic } from '../l2/flow-model.js';
import {
  type AnnouncingInterface,
  type FrameQueue,
  type L2Datapath,
  L2Reconciler,
} from '../l2/reconciler.js';
import type { Logger } from '../util/log.js';
import type { TimeSlicer } from '../util/slices.js';
import { type ArmedTakeovers, armTakeovers } from '../l2/watch/takeover.js';
import { buildL2Inputs, type MemberView, type ServiceAllocation, type VipGroup } from './l2-inputs.js';

/**
 * Who answers each VIP at layer 2, for every node alike: the one place the speaker makes per-VIP L2
 * decisions (inputs from the model, the allocations and the gossiped members; decision in l2/desired).
 * Pure: every speaker computes the same answer from the same inputs.
 */
export function decideVips(
  model: HeraldModel,
  allocations: ReadonlyMap<string, ServiceAllocation>,
  members: readonly MemberView[],
  groups: readonly VipGroup[],
  placed: ReadonlyMap<string, string> = new Map(),
): VipDecision[] {
  const { vips, nodes } = buildL2Inputs(model, allocations, members, groups, placed);
  return decideL2(vips, nodes);
}

export interface L2PartOptions {
  node: string;
  datapath: L2Datapath;
  /** Flow-mode maps (XdpResponder.flows); without them flow-mode VIPs are answered but not steered. */
  flows?: FlowDatapath;
  interfaces: readonly AnnouncingInterface[];
  /** Frame queue (FrameSender in assemble.ts: paced, one socket per interface); closed by stop(). */
  frames: FrameQueue;
  /** The adopted XDP entries are stale (the gate closed while no speaker ran); see L2Reconciler. */
  adoptStale?: boolean;
  log: Logger;
  burstMs?: readonly number[];
  refreshMs?: number;
}

export interface L2PartEvents {
  /** Announcement frames sent for a VIP (takeover burst, refresh, spread redirects). */
  announced: [{ ip: string; frames: number }];
}

/**
 * The speaker's layer-2 side (beside bgp-part.ts): turns the decisions into this node's datapath
 * entries and announcements. The datapath is programmed only here, through the L2 reconciler.
 */
export class SpeakerL2 extends EventEmitter<L2PartEvents> {
  private readonly reconciler: L2Reconciler;
  private readonly flows: FlowReconciler | undefined;
  /** VIPs the owner watch took over (their flow entries too) since the last apply began. */
  private flowsTaken = new Set<string>();

  constructor(private readonly opts: L2PartOptions) {
    super();
    this.reconciler = new L2Reconciler({
      datapath: opts.datapath,
      interfaces: opts.interfaces,
      frames: opts.frames,
      ...(opts.adoptStale ? { adoptStale: true } : {}),
      ...(opts.burstMs ? { burstMs: opts.burstMs } : {}),
      ...(opts.refreshMs !== undefined ? { refreshMs: opts.refreshMs } : {}),
      onAnnounced: (ip, frames) => this.emit('announced', { ip, frames }),
      onError: (what, error) => opts.log.warn({ err: error }, `${what} failed`),
    });
    this.flows = opts.flows ? new FlowReconciler(opts.flows, opts.node) : undefined;
  }

  /**
   * Applies this node's share of the decisions (answer, suppress, nothing) in time slices of `slicer`
   * (the datapath writes in batches, the event loop free between them); returns what changed.
   */
  async apply(
    decisions: readonly VipDecision[],
    members: readonly MemberView[],
    slicer: TimeSlicer,
  ): Promise<L2Plan> {
    const spread = new Set(decisions.filter((d) => d.mode === 'spread').map((d) => d.ip));
    // Those taken while this apply runs are unknown to its decisions: the next apply writes them.
    const taken = this.flowsTaken;
    this.flowsTaken = new Set();
    const plan = await this.reconciler.applySliced(nodeActions(decisions, this.opts.node), spread, slicer);
    try {
      this.flows?.rewrite(taken);
      this.flows?.apply(decisions, nodeMacs(members));
    } catch (error) {
      this.opts.log.warn({ err: error }, 'flow steering update failed');
    }
    return plan;
  }

  /** See L2Reconciler.takenByWatch: the owner watch answered these VIPs on its own. */
  takenByWatch(ips: readonly string[]): void {
    this.reconciler.takenByWatch(ips);
    for (const ip of ips) this.flowsTaken.add(ip);
  }

  watchTakeoversPending(): boolean {
    return this.reconciler.watchTakeoversPending();
  }

  /**
   * What the owner watch may take over on its own from these decisions (those the datapath holds), and
   * the interfaces' version they were armed with.
   */
  armTakeovers(decisions: readonly VipDecision[]): { armed: ArmedTakeovers; version: number } {
    return {
      armed: armTakeovers(decisions, this.opts.node, (name) => this.reconciler.interfaceInfo(name)),
      version: this.reconciler.interfacesVersion(),
    };
  }

  interfacesVersion(): number {
    return this.reconciler.interfacesVersion();
  }

  /** The announcing interfaces changed at run time (speaker/links.ts); see L2Reconciler.setInterfaces. */
  setInterfaces(interfaces: readonly AnnouncingInterface[]): void {
    this.reconciler.setInterfaces(interfaces);
  }

  /** Announces every VIP this node answers again (after a stall: a watcher may have pulled the clients). */
  reannounce(): string[] {
    return this.reconciler.reannounce();
  }

  /** What the XDP program counted for this node's flow-mode VIPs. */
  flowTraffic(): FlowTraffic[] {
    return this.flows?.traffic() ?? [];
  }

  /** Frames the steering guards kept from being steered (undefined without flow maps). */
  flowGuards(): FlowGuardCounts | undefined {
    return this.flows?.guards();
  }

  stop(): void {
    this.reconciler.stop();
  }
}

/** Every gossiped interface MAC: node → interface → MAC (flow-mode targets and the loop guard). */
export function nodeMacs(members: readonly MemberView[]): NodeMacs {
  const out = new Map<string, Map<string, string>>();
  for (const m of members) {
    const ifs = new Map<string, string>();
    for (const i of m.meta?.interfaces ?? []) if (i.mac) ifs.set(i.name, i.mac);
    if (ifs.size > 0) out.set(m.name, ifs);
  }
  return out;
}
