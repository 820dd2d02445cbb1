import { EventEmitter } from 'node:events';
import type { SessionInfo } from '../bgp/session.js';
import { formatProblem, type HeraldModel } from '../config/index.js';
import type { VipCounters } from '../datapath/xdp-layout.js';
import { healthTargets } from '../health/targets.js';
import { servedVips } from './served-vips.js';
import type { VipDecision } from '../l2/desired.js';
import type { FlowGuardCounts, FlowTraffic } from '../l2/flow-model.js';
import type { NodeInterface } from '../l2/interfaces.js';
import type { SeedResult } from '../membership/index.js';
import type { Member } from '../membership/types.js';
import type { GateHeartbeat } from '../metrics/gate-health.js';
import type { GossipHealth } from '../metrics/gossip-health.js';
import type { TransmitErrorSample } from '../metrics/transmit-errors.js';
import type { Logger } from '../util/log.js';
import { TimeSlicer } from '../util/slices.js';
import { isExcluded, nodeLabels, type MemberView, type ServiceAllocation } from './l2-inputs.js';
import { RoundDecider } from './decider.js';
import { serviceAllocations, type ServiceAllocations, unpinnedServices } from './model-source.js';
import { IncrementalAllocator } from '../allocator/index.js';
import { encodeNodeMeta, type NodeMeta } from './node-meta.js';
import { OwnershipLiveness } from './ownership.js';
import { ownerChanges } from './owner-diff.js';
import { logChanges } from './log-changes.js';
import { WatchArming } from './watch-arming.js';
import { decodePlacement, isPlacementMessage } from '../placement/codec.js';
import type { PlacementMap } from '../placement/map.js';
import { SpeakerPlacement, withoutHeld } from './placement-part.js';
import type { SpeakerParts } from './parts.js';
import {
  joinFirstSeed,
  keepJoining,
  nextStanding,
  seedCandidates,
  seedResult,
  type SeedTarget,
  type Standing,
} from './seeds.js';
import type { GossipChannel, MemberEventKind, PlacementSink, SpeakerEvents, SpeakerView } from './view.js';

export type { OwnerChange } from './owner-diff.js';
export type { SpeakerEvents } from './view.js';

const MEMBER_EVENTS: readonly MemberEventKind[] = ['join', 'suspect', 'alive', 'dead', 'leave', 'update'];

/**
 * One node's speaker: joins the gossip membership, decides with every other speaker (same pure inputs,
 * same answers) who answers each VIP, and programs this node's datapath through its L2 and BGP parts.
 * The parts are injected (assemble.ts builds the real ones); the XDP program and its pinned maps outlive
 * the process: the next process adopts them.
 */
export class Speaker
  extends EventEmitter<SpeakerEvents>
  implements SpeakerView, GossipChannel, PlacementSink
{
  readonly node: string;
  private readonly placement = new SpeakerPlacement();
  /** Where this node stands with its seeds (see enter); undefined until the startup grace ends. */
  private standing: Standing | undefined;
  private lastDecisions: VipDecision[] = [];
  private currentAllocations = new Map<string, ServiceAllocation>();
  /** The last allocation (serviceAllocations), the next one is made from. */
  private allocated: ServiceAllocations | undefined;
  private allocationErrors = new Map<string, string>();
  private meta: NodeMeta;
  private ready = false;
  private started = false;
  private pending: NodeJS.Immediate | undefined;
  /** A decision round is running (it yields between slices); another one was asked for meanwhile. */
  private running = false;
  private again = false;
  private readonly decider = new RoundDecider();
  /** Standalone allocation: only what a reload changed, when nothing else can move (allocator/incremental). */
  private readonly allocator = new IncrementalAllocator();
  private heldBefore = 0;
  private unpinnedWarned = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopping = new AbortController();
  private readonly liveness: OwnershipLiveness;
  private readonly arming = new WatchArming();
  private stopWatchingLinks: (() => void) | undefined;
  private gateOpenedOnce = false;

  constructor(private readonly parts: SpeakerParts) {
    super();
    this.node = parts.options.node;
    this.meta = parts.meta;
    this.liveness = new OwnershipLiveness(
      parts,
      this.node,
      () => this.schedule(),
      () => this.arming.held(),
    );
  }

  /**
   * Starts the control loop on the model the source already holds: the owner watch (which drives the
   * heartbeat), membership events, seed joining. Until a seed answers (or the startup grace runs out)
   * nothing is decided, and the liveness gate stays shut (adopted entries answer nothing) until the nodes
   * watching this one report it up: they may hold its VIPs since it went away.
   */
  start(): void {
    const { options, membership, source, l2, watch } = this.parts;
    const model = source.current();
    if (this.started || !model) throw new Error('Speaker.start: needs a started source, once');
    this.started = true;
    watch.on('verdict', ({ peer, verdict, previous, at, took }) => {
      this.log.info({ peer, verdict, previous, at }, `owner watch: ${peer} ${verdict}`);
      if (took) {
        // The pulse thread answered these already (speaker/watch-takeover.ts): the next round writes
        // them as it decides, and arms again.
        l2.takenByWatch(took.ips);
        this.arming.took(peer);
        logChanges(this.log, 'took over', took.ips, at ?? Date.now(), { by: 'owner watch' });
      }
      this.schedule();
    });
    watch.on('stale', ({ gapMs, reason, peer }) => {
      this.notify('gateClosed', { reason });
      if (reason === 'isolated')
        this.log.warn(
          { peer },
          `heard ${peer} again after losing every watched peer: answering nothing until the watchers report this node up and this node's decisions have caught up`,
        );
      else if (reason === 'fenced')
        this.log.warn(
          { silentMs: gapMs },
          'every watched peer fell silent at once (a partition around this node, or all of them died): answering nothing until one is heard again, or alone after the watcher cap',
        );
      else
        this.log.warn(
          { gapMs },
          'not scheduled for longer than the liveness bound: answering nothing until the watchers report this node up',
        );
    });
    // A joining member's packets say its first decision is applied: what it is handed may move now.
    watch.on('readiness', () => this.schedule());
    watch.on('overdue', (o) =>
      this.log.warn(
        o,
        `liveness gate still shut past the watcher cap: ${o.waitingFor.join(', ')} heard but not reporting this node up (answering nothing until they do or leave the cluster)`,
      ),
    );
    watch.on('refreshed', (r) => {
      if (this.parts.stages?.finish('gate')) this.log.info(this.parts.stages.fields(), 'start-up stages');
      if (!this.gateOpenedOnce) {
        this.gateOpenedOnce = true;
        this.afterFirstGate();
        this.notify('gateOpened', { reason: r.reason });
      }
      if (r.gaveUpOn.length === 0) this.log.info(r, 'liveness gate open');
      else
        this.log.warn(
          r,
          `liveness gate open without a report from ${r.gaveUpOn.join(', ')} (watch port ${this.parts.membership.address().port + 1} blocked?)`,
        );
      // A watcher may have held this node's VIPs during the stall and handed them back: the clients'
      // ARP/NDP caches still point at it.
      if (r.reason !== 'start') {
        const ips = l2.reannounce();
        if (ips.length > 0) this.log.info({ vips: ips.length }, 'announced the VIPs again after the stall');
      }
    });
    watch.start();
    membership.setMeta(encodeNodeMeta(this.meta));
    // A verdict change is gossiped; every speaker (this one too) then decides with it.
    this.parts.health?.on('change', ({ service, passing, detail }) => {
      this.log.info({ service, passing, detail }, passing ? 'health check passes' : 'health check fails');
      this.updateMeta({ failing: Object.fromEntries(this.parts.health?.failing() ?? []) });
    });
    this.parts.health?.on('result', ({ service, result, durationMs }) =>
      this.notify('probe', { service, ok: result.ok, durationMs }),
    );
    this.reallocate(model);
    source.on('change', (m) => {
      this.log.info('configuration reloaded');
      this.reallocate(m);
      this.schedule();
      this.notify('config', { result: 'applied' });
    });
    source.on('rejected', (problems) => {
      for (const p of problems) this.log.error(`rejected configuration: ${formatProblem(p)}`);
      this.log.error(
        `configuration not reloaded (${problems.length} problem(s)); the last good one stays in force`,
      );
      this.notify('config', { result: 'rejected' });
    });
    // Membership events arrive here: every change is a reason to decide again.
    for (const kind of MEMBER_EVENTS) {
      membership.on(kind, (member: Member) => {
        this.log.debug({ member: member.name, state: member.state }, `member ${kind}`);
        this.liveness.noteMember(kind, member);
        this.notify('member', { kind, member });
        this.schedule();
      });
    }
    membership.on('message', (message) => {
      if (isPlacementMessage(message.payload)) this.receivePlacement(message.payload);
      this.notify('message', message);
    });
    membership.on('conflict', (c) =>
      this.log.error(
        c,
        c.self
          ? `another process claims this node's name ${c.node} from ${c.claimed}; ignored (two nodes with one --node?)`
          : `member ${c.node} is alive at ${c.known}; ignored a second claim from ${c.claimed} (duplicate --node?)`,
      ),
    );
    membership.on('dropped', (d) =>
      this.log.warn(
        d,
        `dropped ${d.count} gossip input(s): ${d.reason} (from ${d.sources.join(', ') || 'unknown'})`,
      ),
    );
    if (!membership.encrypted())
      this.log.warn(
        'gossip is NOT encrypted (--insecure-gossip): anyone on the LAN can join or forge membership and so decide who answers ARP for the VIPs; use --key-file unless this network is trusted',
      );
    l2.on('announced', (e) => this.notify('announced', e));
    this.timers.push(
      setInterval(() => {
        this.rescanInterfaces();
        this.schedule();
      }, options.resyncMs),
    );
    this.log.info(
      { node: this.node, interfaces: Object.fromEntries(this.parts.attached) },
      'speaker started',
    );
    void this.joinAndStart();
  }

  /**
   * Work kept off the start's critical path until the gate first opens. The link monitor spawns `ip`
   * (a fork of the whole speaker on the main thread, 3-17 ms each in bench/scale at 1,000 VIPs); until it
   * runs the periodic resync follows the interfaces, and one rescan as it starts picks up any change since
   * the start's scan.
   */
  private afterFirstGate(): void {
    if (this.stopping.signal.aborted || !this.parts.watchLinks) return;
    // Between resyncs, a change the kernel reports is followed at once.
    this.stopWatchingLinks = this.parts.watchLinks(() => {
      if (!this.stopping.signal.aborted) this.rescanInterfaces();
    });
    this.rescanInterfaces();
  }

  decisions(): readonly VipDecision[] {
    return this.lastDecisions;
  }

  allocations(): ReadonlyMap<string, ServiceAllocation> {
    return this.currentAllocations;
  }

  model(): HeraldModel | undefined {
    return this.parts.source.current();
  }

  allocationProblems(): ReadonlyMap<string, string> {
    return this.allocationErrors;
  }

  members(): Member[] {
    return this.parts.membership.members();
  }

  interfaces(): ReadonlyMap<string, string> {
    return this.parts.attached;
  }

  vipCounters(): Map<string, VipCounters> {
    return this.parts.datapath.counters();
  }

  flowTraffic(): FlowTraffic[] {
    return this.parts.l2.flowTraffic();
  }

  flowGuards(): FlowGuardCounts | undefined {
    return this.parts.l2.flowGuards();
  }

  transmitErrors(): TransmitErrorSample[] {
    return this.parts.datapath.transmitErrors?.() ?? [];
  }

  bgpSessions(): SessionInfo[] {
    return this.parts.bgp.sessions();
  }

  bgpAdvertised(): ReadonlySet<string> {
    return this.parts.bgp.advertised();
  }

  isReady(): boolean {
    return this.ready;
  }

  placementMap(): PlacementMap {
    return this.placement.current();
  }

  /** A placement map from this node's coordinator or from gossip; the newest one is applied. */
  offerPlacement(map: PlacementMap): boolean {
    if (!this.placement.offer(map)) return false;
    this.log.debug({ version: map.version, coordinator: map.coordinator }, 'placement map applied');
    this.schedule();
    return true;
  }

  healthVerdicts(): ReadonlyMap<string, boolean> {
    return this.parts.health?.verdicts() ?? new Map();
  }

  gossipHealth(): GossipHealth {
    const { membership } = this.parts;
    const s = membership.stats();
    return { encrypted: membership.encrypted(), dropped: s.dropped, nameConflicts: s.nameConflicts };
  }

  gateHeartbeat(): GateHeartbeat | undefined {
    return this.parts.datapath.heartbeatStats?.();
  }

  broadcast(payload: Buffer, key: string): void {
    this.parts.membership.broadcast(payload, { key });
  }

  /** Addresses added to or removed from the attached interfaces are gossiped, so every node decides on them. */
  private rescanInterfaces(): void {
    let now: NodeInterface[];
    try {
      now = this.parts.rescanInterfaces?.() ?? this.meta.interfaces;
    } catch (error) {
      this.log.debug({ err: error }, 'interface rescan failed; keeping the known addresses');
      return;
    }
    if (JSON.stringify(now) === JSON.stringify(this.meta.interfaces)) return;
    this.log.info(
      { interfaces: Object.fromEntries(now.map((i) => [i.name, i.cidrs])) },
      'interface addresses changed',
    );
    this.updateMeta({ interfaces: now });
    this.notify('interfaces', this.parts.attached);
  }

  /**
   * Changes what this node gossips about itself (new per-node fields go into NodeMeta) and decides again;
   * every speaker sees the change with the member's next incarnation.
   */
  updateMeta(change: Partial<NodeMeta>): void {
    this.meta = { ...this.meta, ...change };
    this.parts.membership.setMeta(encodeNodeMeta(this.meta));
    this.schedule();
  }

  /**
   * Stops the control plane. The liveness gate shuts first and the watching nodes are told (AdminDown), so
   * they take this node's VIPs over at once. The XDP program stays attached and its maps pinned: the next
   * process adopts them and answers again once its watchers have handed the VIPs back.
   */
  async stop(opts: { leave?: boolean } = {}): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const t of this.timers) clearInterval(t);
    this.stopWatchingLinks?.();
    if (this.pending) clearImmediate(this.pending);
    this.liveness.stop();
    const { l2, source, bgp, membership, datapath, watch } = this.parts;
    this.parts.health?.stop();
    // The watch shuts the gate, then tells the watchers: they take over at once, never next to this node.
    await watch.stop({ adminDown: true });
    datapath.heartbeat(0n);
    l2.stop();
    source.stop();
    // Without a NOTIFICATION, graceful-restart peers keep our routes until the next process re-syncs.
    await bgp.stop(!opts.leave).catch(() => undefined);
    if (opts.leave) await membership.leave(500).catch(() => undefined);
    await membership.shutdown();
    datapath.close();
  }

  private get log(): Logger {
    return this.parts.log;
  }

  /**
   * Joins the seeds (other than this node itself); until one answers, or the startup grace runs out,
   * the XDP state adopted from a previous process stays untouched: deciding from a view that holds only
   * this node would take every VIP over for a moment (split brain on a restart).
   */
  private async joinAndStart(): Promise<void> {
    const { options, membership } = this.parts;
    const self = membership.address();
    const own = [`${self.address}:${self.port}`, `${options.bind.host}:${options.bind.port}`];
    const seedList = () => seedCandidates(options.join, options.discoverSeeds?.() ?? [], own);
    const signal = this.stopping.signal;
    const target: SeedTarget = {
      contact: (seed) =>
        membership.join([seed]).then(
          (n) => ({ seed, outcome: n > 0 ? 'joined' : 'unreachable' }),
          (error: unknown) => seedResult(seed, error),
        ),
      aliveCount: () => membership.members().filter((m) => m.state === 'alive').length,
    };
    const first = await joinFirstSeed(target, seedList(), options.startupGraceMs, signal);
    if (signal.aborted) return;
    this.parts.stages?.reached(first.standing === 'joined' ? 'joined' : 'graceEnded');
    this.enter(first.standing, first.results);
    this.ready = true;
    this.parts.watch.setReady();
    this.schedule();
    if (first.standing === 'joined') return;
    const how = await keepJoining(
      target,
      seedList,
      (observed, results) => this.enter(nextStanding(this.standing ?? observed, observed), results),
      signal,
    );
    if (how === 'aborted') return;
    if (how === 'seeds') this.log.info({ seeds: seedList() }, 'joined the cluster');
    this.enter('joined', []);
  }

  /**
   * Join gate (seeds.ts Standing): a node whose seeds are there but refuse it (another gossip key or none,
   * or its name alive at another address), or are there but have not answered yet (busy, still starting),
   * must not decide alone: the cluster behind those seeds answers the VIPs. It answers nothing (and
   * advertises nothing) until it joins. Seeds that cannot be reached at all do not close the gate: that is
   * a cold start or a node alone on its segment (see docs/membership.md).
   */
  private enter(next: Standing, results: readonly SeedResult[]): void {
    const was = this.standing;
    this.standing = next;
    if (next === was) return;
    if (next === 'refused') {
      for (const r of results.filter((x) => x.outcome === 'rejected' || x.outcome === 'conflict'))
        this.log.error(
          { seed: r.seed, outcome: r.outcome },
          `seed refused this node: ${r.error ?? r.outcome}`,
        );
      this.log.error('answering no VIP until this node joins the cluster (check --key-file and --node)');
    } else if (next === 'waiting') {
      const slow = results.filter((r) => r.outcome === 'busy').map((r) => r.seed);
      this.log.warn(
        { seeds: slow },
        'seeds took the connection but sent nothing in time (busy or starting): answering no VIP until one answers or another member reaches this node',
      );
    } else if (next === 'alone') {
      this.log.warn(
        { seeds: results.map((r) => r.seed) },
        'no seed answered within the startup grace; deciding with what is known',
      );
    }
    this.schedule();
  }

  /** Waiting for or refused by seeds that are there: decide with nobody eligible (release every VIP). */
  private get silent(): boolean {
    return this.standing !== 'joined' && this.standing !== 'alone';
  }

  private receivePlacement(payload: Buffer): void {
    try {
      this.offerPlacement(decodePlacement(payload));
    } catch (error) {
      this.log.debug({ err: error }, 'dropped a malformed placement map');
    }
  }

  private reallocate(model: HeraldModel): void {
    const { targets, problems } = healthTargets(model);
    for (const p of problems) this.log.warn(`health check ignored: ${p}`);
    this.parts.health?.setTargets(targets);
    this.allocated = serviceAllocations(model, this.parts.options.allocation, this.allocator, this.allocated);
    const { allocations, errors } = this.allocated;
    if (this.parts.options.allocation === 'compute') this.warnUnpinned(unpinnedServices(model));
    this.currentAllocations = allocations;
    for (const [key, error] of errors) {
      if (this.allocationErrors.get(key) !== error) this.log.warn({ service: key }, `no IP: ${error}`);
    }
    this.allocationErrors = errors;
  }

  private warnUnpinned(keys: string[]): void {
    const count = keys.length;
    const before = this.unpinnedWarned;
    this.unpinnedWarned = count;
    if (count === 0 || count === before) return;
    const some = keys.slice(0, 3).join(', ') + (count > 3 ? ', …' : '');
    this.log.warn(
      { services: count },
      `${count} service(s) without a requested address (${some}): standalone speakers number them in namespace/name order, so adding or removing a service that sorts before one moves its VIP; pin each with herald.dev/loadBalancerIPs`,
    );
  }

  private schedule(): void {
    if (!this.ready || this.stopping.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      void this.round();
    });
  }

  /** One round at a time; what changed while it ran is decided by the next one. */
  private async round(): Promise<void> {
    this.running = true;
    const started = performance.now();
    const computed = this.decider.stats.computed;
    try {
      await this.reconcile();
      const durationMs = performance.now() - started;
      this.notify('round', { durationMs, computed: this.decider.stats.computed > computed });
    } catch (error) {
      if (!this.stopping.signal.aborted) this.log.error({ err: error }, 'reconcile failed');
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  /**
   * One decision round: decide (pure, in time slices: the heartbeat and gossip run between them), program
   * L2, update BGP, then tell the observers. The decisions are those of the inputs read at its start.
   */
  private async reconcile(): Promise<void> {
    const { source, l2, bgp, membership, options } = this.parts;
    const model = source.current();
    if (!model) return;
    // A node refused by its seeds decides with nobody eligible: it releases every VIP.
    const gossip = this.silent ? [] : membership.members();
    const semantics = options.allocation === 'compute' ? 'standalone' : 'kubernetes';
    const slicer = new TimeSlicer({ signal: this.stopping.signal });
    const base = {
      model,
      allocations: this.currentAllocations,
      semantics,
      placement: this.placement.current(),
      placedOwners: () => this.placement.placedOwners(),
    } as const;
    const groupsOf = (views: readonly MemberView[]) =>
      this.decider.groups({ ...base, members: views }, slicer);
    const { decisions, views: members } = await this.liveness.decide(
      gossip,
      async (views) => this.decider.decide({ ...base, members: views }, await groupsOf(views), slicer),
      slicer,
    );
    const groups = await groupsOf(members);
    const previous = this.lastDecisions;
    const held = this.placement.heldTakeovers(this.node, previous, decisions, members);
    // Unchanged decisions (the same objects), nothing held, nothing the watch took: the datapath holds them.
    const unchanged =
      decisions === previous && held.size === 0 && this.heldBefore === 0 && !l2.watchTakeoversPending();
    this.heldBefore = held.size;
    const plan = unchanged
      ? undefined
      : await l2.apply(withoutHeld(decisions, held, this.node), members, slicer);
    // When the entries were written and the first frames sent (the log lines below come later).
    const appliedAt = Date.now();
    if (plan) this.parts.stages?.reached('decided');
    // Before the marks of the applied decision: owners whose VIPs the watch took stay marked until written.
    this.arming.applied(l2.watchTakeoversPending());
    this.liveness.applied();
    this.arming.arm(decisions, l2, this.parts.watch);
    const selfLabels = nodeLabels(model, this.node, options.labels);
    const selfObject = model.nodes.find((n) => n.metadata.name === this.node);
    const routed = bgp
      .update(model, groups, selfLabels, this.silent || isExcluded(selfLabels, selfObject?.status))
      .catch((error: unknown) => this.log.error({ err: error }, 'BGP update failed'));
    const host = this.parts.host;
    if (host) {
      void routed
        .then(() => host.sync(servedVips(decisions, this.node, bgp.advertised())))
        .then(({ added, removed }) => {
          if (added.length + removed.length > 0) this.log.info({ added, removed }, 'host VIP addresses');
        })
        .catch((error: unknown) => this.log.error({ err: error }, 'holding VIPs on the host failed'));
    }
    this.lastDecisions = decisions;
    if (plan) {
      logChanges(
        this.log,
        'took over',
        plan.takeovers.map((t) => t.ip),
        appliedAt,
      );
      logChanges(this.log, 'released', plan.released, appliedAt);
      for (const { ip } of plan.takeovers) this.notify('takeover', { ip, at: appliedAt });
      for (const ip of plan.released) this.notify('released', { ip, at: appliedAt });
      for (const change of ownerChanges(previous, decisions)) this.notify('owner', change);
    }
    this.notify('decisions', decisions);
    // Gossiped after the datapath was programmed: a node gaining a moved VIP waits for this to answer it.
    const version = this.placement.current().version;
    if ((this.meta.placementVersion ?? 0) !== version) this.updateMeta({ placementVersion: version });
  }

  /** Observers (metrics, status API, Kubernetes status writer) must not break the control loop. */
  private notify<K extends keyof SpeakerEvents>(event: K, ...args: SpeakerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SpeakerEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log.error({ err: error, event }, 'a speaker event listener failed');
    }
  }
}
