import { EventEmitter } from 'node:events';
import { allocateAll, isAllocated } from '../allocator/index.js';
import { formatProblem, type HeraldModel } from '../config/index.js';
import { interfaceIndex, interfaceMac, sendRawFrame } from '../datapath/netdev.js';
import { XdpResponder } from '../datapath/responder.js';
import type { XdpMode } from '../datapath/xdp.js';
import { decideL2, nodeActions, type VipDecision } from '../l2/desired.js';
import { type AnnouncingInterface, L2Reconciler } from '../l2/reconciler.js';
import { Memberlist } from '../membership/index.js';
import type { Member } from '../membership/types.js';
import type { Logger } from '../util/log.js';
import { allocationsFromStatus, type ModelSource } from './model-source.js';
import { SpeakerBgp } from './bgp-part.js';
import {
  buildL2Inputs,
  groupVips,
  isExcluded,
  type MemberView,
  nodeLabels,
  type ServiceAllocation,
} from './l2-inputs.js';
import { localInterfaces } from './local-interfaces.js';
import { decodeNodeMeta, encodeNodeMeta } from './node-meta.js';
import type { SpeakerOptions } from './options.js';

export interface OwnerChange {
  ip: string;
  services: readonly string[];
  from: string | undefined;
  to: string | undefined;
  mode: VipDecision['mode'];
}

export interface SpeakerEvents {
  /** Fired after every reconcile with the full decision set. */
  decisions: [VipDecision[]];
  /** An owner (or the spread node set) of a VIP changed. */
  owner: [OwnerChange];
  /** This node took over / released a VIP at layer 2. */
  takeover: [{ ip: string; at: number }];
  released: [{ ip: string; at: number }];
  announced: [{ ip: string; frames: number }];
}

/**
 * One node's speaker: joins the gossip membership, decides with every other speaker (same pure inputs,
 * same answers) who answers each VIP, and programs this node's XDP responder accordingly. The XDP program
 * and its pinned maps outlive the process, so a restart is hitless: the next process adopts them.
 */
export class Speaker extends EventEmitter<SpeakerEvents> {
  private lastDecisions: VipDecision[] = [];
  private currentAllocations = new Map<string, ServiceAllocation>();
  private allocationErrors = new Map<string, string>();
  private ready = false;
  private pending: NodeJS.Immediate | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  private constructor(
    readonly options: SpeakerOptions,
    private readonly log: Logger,
    private readonly source: ModelSource,
    readonly responder: XdpResponder,
    readonly attached: ReadonlyMap<string, XdpMode>,
    private readonly reconciler: L2Reconciler,
    readonly memberlist: Memberlist,
    readonly bgp: SpeakerBgp,
  ) {
    super();
  }

  static async start(options: SpeakerOptions, source: ModelSource, log: Logger): Promise<Speaker> {
    const model = await source.start();
    const ifaces = localInterfaces(options.interfaces);
    if (ifaces.length === 0) throw new Error('no interface with an address to announce on (use --interface)');
    const responder = XdpResponder.open({ pinDir: options.pinDir });
    // Entries left by a previous process mean this is a restart: BGP then announces graceful restart.
    const restarting = responder.vips().size > 0;
    const routerId =
      ifaces
        .flatMap((i) => i.cidrs)
        .find((c) => !c.includes(':'))
        ?.split('/')[0] ?? '0.0.0.1';
    const heartbeat = () => responder.heartbeat();
    responder.setLivenessBoundMs(options.livenessMs);
    heartbeat();
    const attached = new Map<string, XdpMode>();
    const announcing: AnnouncingInterface[] = [];
    for (const iface of ifaces) {
      attached.set(iface.name, responder.attach(iface.name, options.xdpMode));
      announcing.push({
        name: iface.name,
        ifindex: interfaceIndex(iface.name),
        mac: interfaceMac(iface.name),
      });
    }
    const memberlist = await Memberlist.create({
      name: options.node,
      bindAddr: options.bind.host,
      bindPort: options.bind.port,
      profile: options.profile,
      keys: options.keys,
      ...(options.advertise ? { advertiseAddr: options.advertise } : {}),
    });
    memberlist.setMeta(encodeNodeMeta({ interfaces: ifaces, labels: options.labels }));
    const ref: { speaker?: Speaker } = {};
    const reconciler = new L2Reconciler({
      datapath: responder,
      interfaces: announcing,
      sendFrame: (ifname, frame) => void sendRawFrame(ifname, frame),
      onAnnounced: (ip, frames) => ref.speaker?.emit('announced', { ip, frames }),
      onError: (what, error) => log.warn({ err: error }, `${what} failed`),
    });
    const bgp = new SpeakerBgp(options.node, routerId, restarting, log.child({ part: 'bgp' }));
    const speaker = new Speaker(options, log, source, responder, attached, reconciler, memberlist, bgp);
    ref.speaker = speaker;
    speaker.timers.push(setInterval(heartbeat, options.heartbeatMs));
    speaker.wire(model);
    log.info({ node: options.node, interfaces: Object.fromEntries(attached) }, 'speaker started');
    void speaker.joinAndStart();
    return speaker;
  }

  decisions(): readonly VipDecision[] {
    return this.lastDecisions;
  }

  allocations(): ReadonlyMap<string, ServiceAllocation> {
    return this.currentAllocations;
  }

  model(): HeraldModel | undefined {
    return this.source.current();
  }

  allocationProblems(): ReadonlyMap<string, string> {
    return this.allocationErrors;
  }

  members(): Member[] {
    return this.memberlist.members();
  }

  isReady(): boolean {
    return this.ready;
  }

  /**
   * Stops the control plane. The XDP program stays attached and its maps pinned, so traffic keeps being
   * answered by the current entries until the liveness gate expires or the next process takes over.
   */
  async stop(opts: { leave?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.pending) clearImmediate(this.pending);
    this.reconciler.stop();
    this.source.stop();
    // Without a NOTIFICATION, graceful-restart peers keep our routes until the next process re-syncs.
    await this.bgp.stop(!opts.leave).catch(() => undefined);
    if (opts.leave) await this.memberlist.leave(500).catch(() => undefined);
    await this.memberlist.shutdown();
    this.responder.close();
  }

  private wire(model: HeraldModel): void {
    this.reallocate(model);
    this.source.on('change', (m) => {
      this.log.info('configuration reloaded');
      this.reallocate(m);
      this.schedule();
    });
    this.source.on('rejected', (problems) => {
      for (const p of problems) this.log.error(`rejected configuration: ${formatProblem(p)}`);
      this.log.error(
        `configuration not reloaded (${problems.length} problem(s)); the last good one stays in force`,
      );
    });
    for (const event of ['join', 'suspect', 'alive', 'dead', 'leave', 'update'] as const) {
      this.memberlist.on(event, (m: Member) => {
        this.log.debug({ member: m.name, state: m.state }, `member ${event}`);
        this.schedule();
      });
    }
    this.timers.push(setInterval(() => this.schedule(), this.options.resyncMs));
  }

  /**
   * Joins the seeds (other than this node itself); until one answers, or the startup grace runs out,
   * the XDP state adopted from a previous process stays untouched: deciding from a view that holds only
   * this node would take every VIP over for a moment (split brain on a restart).
   */
  private async joinAndStart(): Promise<void> {
    const self = this.memberlist.address();
    const selfNames = new Set([
      `${self.address}:${self.port}`,
      `${this.options.bind.host}:${this.options.bind.port}`,
    ]);
    const seedList = () =>
      [...new Set([...this.options.join, ...(this.options.discoverSeeds?.() ?? [])])].filter(
        (s) => !selfNames.has(s),
      );
    const seeds = seedList();
    // Every seed at once; the first full state exchange is enough to decide with the cluster's view.
    const attempt = async (seed: string): Promise<void> => {
      const deadline = Date.now() + this.options.startupGraceMs;
      while (!this.stopped && Date.now() < deadline) {
        if ((await this.memberlist.join([seed]).catch(() => 0)) > 0) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no answer from ${seed}`);
    };
    const grace = new Promise<boolean>((r) =>
      setTimeout(() => r(false), this.options.startupGraceMs).unref(),
    );
    const joined =
      seeds.length === 0 ||
      (await Promise.race([
        Promise.any(seeds.map(attempt)).then(
          () => true,
          () => false,
        ),
        grace,
      ]));
    if (this.stopped) return;
    if (!joined)
      this.log.warn({ seeds }, 'no seed answered within the startup grace; deciding with what is known');
    this.ready = true;
    this.schedule();
    if (!joined) void this.keepJoining(seedList);
  }

  /**
   * A speaker that started alone keeps knocking on its seeds (backing off to 10 s) until it knows another
   * member; otherwise a node whose link came up late would stay a cluster of one and answer for everything.
   */
  private async keepJoining(seedList: () => string[]): Promise<void> {
    let delay = 500;
    while (!this.stopped && this.memberlist.members().filter((m) => m.state === 'alive').length <= 1) {
      await new Promise((r) => setTimeout(r, delay).unref());
      const seeds = seedList();
      if (this.stopped || seeds.length === 0) continue;
      if ((await this.memberlist.join(seeds).catch(() => 0)) > 0) {
        this.log.info({ seeds }, 'joined the cluster after starting alone');
        this.schedule();
        return;
      }
      delay = Math.min(delay * 2, 10_000);
    }
  }

  private reallocate(model: HeraldModel): void {
    if (this.options.allocation === 'status') {
      this.currentAllocations = allocationsFromStatus(model);
      return;
    }
    // Pure function of the file (no history), so every speaker computes the same VIPs.
    const result = allocateAll(model);
    this.currentAllocations = new Map();
    const errors = new Map<string, string>();
    for (const [key, alloc] of result) {
      if (isAllocated(alloc)) this.currentAllocations.set(key, alloc);
      else errors.set(key, alloc.error);
    }
    for (const [key, error] of errors) {
      if (this.allocationErrors.get(key) !== error) this.log.warn({ service: key }, `no IP: ${error}`);
    }
    this.allocationErrors = errors;
  }

  private schedule(): void {
    if (this.pending || !this.ready || this.stopped) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      try {
        this.reconcile();
      } catch (error) {
        this.log.error({ err: error }, 'reconcile failed');
      }
    });
  }

  private reconcile(): void {
    const model = this.source.current();
    if (!model) return;
    const views: MemberView[] = this.memberlist.members().map((m) => {
      const meta = decodeNodeMeta(m.meta);
      return { name: m.name, alive: m.state === 'alive' || m.state === 'suspect', ...(meta ? { meta } : {}) };
    });
    const groups = groupVips(model, this.currentAllocations);
    const { vips, nodes } = buildL2Inputs(model, this.currentAllocations, views, groups);
    const decisions = decideL2(vips, nodes);
    const spread = new Set(decisions.filter((d) => d.mode === 'spread').map((d) => d.ip));
    const plan = this.reconciler.apply(nodeActions(decisions, this.options.node), spread);
    const selfLabels = nodeLabels(model, this.options.node, this.options.labels);
    const selfObject = model.nodes.find((n) => n.metadata.name === this.options.node);
    void this.bgp
      .update(model, groups, selfLabels, isExcluded(selfLabels, selfObject?.status))
      .catch((error: unknown) => this.log.error({ err: error }, 'BGP update failed'));
    const previous = this.lastDecisions;
    this.lastDecisions = decisions;
    // Observers (metrics, status API, Kubernetes status writer) must not break the control loop.
    const now = Date.now();
    for (const { ip } of plan.takeovers) {
      this.log.info({ ip }, 'took over VIP');
      this.notify('takeover', { ip, at: now });
    }
    for (const ip of plan.released) {
      this.log.info({ ip }, 'released VIP');
      this.notify('released', { ip, at: now });
    }
    const before = new Map(previous.map((d) => [d.ip, d]));
    const holders = (x: VipDecision | undefined) => [...(x?.shares.keys() ?? [])].sort().join(',');
    for (const d of decisions) {
      const prev = before.get(d.ip);
      if (!prev || holders(prev) !== holders(d)) {
        this.notify('owner', {
          ip: d.ip,
          services: d.services,
          from: prev?.owner,
          to: d.owner,
          mode: d.mode,
        });
      }
    }
    this.notify('decisions', decisions);
  }

  private notify<K extends keyof SpeakerEvents>(event: K, ...args: SpeakerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SpeakerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log.error({ err: error, event }, 'a speaker event listener failed');
    }
  }
}
