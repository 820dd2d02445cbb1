import { Announcer, DEFAULT_BURST_MS, DEFAULT_REFRESH_MS } from './announcer.js';
import type { NodeVipAction } from './desired.js';
import { announcementFrames, clientRedirectFrame } from './frames.js';
import { type AppliedVip, type L2Plan, planL2 } from './plan.js';
import { ALL_BUCKETS, clientBucket, hasBucket } from './buckets.js';
import type { TimeSlicer } from '../util/slices.js';

/** A VIP entry as the reconciler reads it back (datapath/xdp-layout VipEntry has these fields). */
export interface DatapathVip {
  action: 'answer' | 'suppress';
  ifindex: number;
  buckets: bigint;
}

/** A client the XDP program learned from its ARP/NDP requests. */
export interface LearnedClient {
  ip: string;
  mac: Buffer;
  ifindex: number;
}

export interface L2VipSpec {
  action: 'answer' | 'suppress';
  mac?: Buffer;
  ifindex?: number;
  buckets?: bigint;
  /** Further interfaces the VIP is answered on, each with its own MAC. */
  more?: ReadonlyArray<{ ifindex: number; mac: Buffer }>;
}

/** The part of the XDP responder the reconciler drives (XdpResponder implements it). */
export interface L2Datapath {
  /** Writes entries in one batch per map. */
  setVips(entries: ReadonlyArray<readonly [string, L2VipSpec]>): void;
  deleteVips(ips: readonly string[]): void;
  vips(): ReadonlyMap<string, DatapathVip>;
  /** Further interfaces (ifindexes) of the VIPs answered on several (adoption after a restart). */
  moreInterfaces?(): Map<string, number[]>;
  learnedClients(): LearnedClient[];
}

const CLIENTS_CACHE_MS = 50;
/** Entries per datapath write in applySliced (about 1-3 ms of work each on a busy 2-vCPU host). */
export const WRITE_BATCH = 256;

interface ApplyStep {
  desired: Map<string, AppliedVip>;
  plan: L2Plan;
  spreadIps: ReadonlySet<string>;
  /** Silences (suppress entries) first, then answers. */
  writes: [Array<[string, L2VipSpec]>, Array<[string, L2VipSpec]>];
}

/** `urgent`: first frames after a takeover; `bulk`: burst repeats and periodic refreshes. */
export type FramePriority = 'urgent' | 'bulk';

/** Where announcement frames go (datapath/frame-sender FrameSender: paced, never blocking). */
export interface FrameQueue {
  send(ifname: string, frames: readonly Buffer[], priority: FramePriority): void;
  /** Drops the socket and queue of one interface (it went away or was recreated). */
  forget?(ifname: string): void;
  /** Drops what is queued and releases the sockets. */
  close(): void;
}

export interface AnnouncingInterface {
  name: string;
  ifindex: number;
  mac: Buffer;
}

export interface L2ReconcilerOptions {
  datapath: L2Datapath;
  interfaces: readonly AnnouncingInterface[];
  /** Frames queue per interface; `urgent` for the first frames of a takeover. Closed by stop(). */
  frames: FrameQueue;
  /**
   * The adopted entries are stale: the liveness gate closed while no speaker ran, so other nodes may have
   * answered meanwhile. They are turned into suppress entries before anything else, and every VIP this
   * node answers again is a fresh takeover (burst).
   */
  adoptStale?: boolean;
  burstMs?: readonly number[];
  refreshMs?: number;
  /** Called for every announcement frame sent (metrics: herald_layer2_gratuitous_sent_total). */
  onAnnounced?: (ip: string, frames: number) => void;
  onError?: (what: string, error: unknown) => void;
}

/**
 * Makes this node's XDP VIP map match the L2 decisions and tells the segment about changes: a
 * broadcast burst when it takes a VIP over, unicast redirects to the learned clients of spread buckets
 * it gains. Starts from what the (pinned) map already holds, so a restarted speaker adopts the previous
 * process's state without a gap and without re-announcing what did not change.
 */
export class L2Reconciler {
  private applied = new Map<string, AppliedVip>();
  private readonly spreadIps = new Set<string>();
  /** Buckets a spread VIP gained in the last change: the burst tells only their clients. */
  private readonly gainedBuckets = new Map<string, bigint>();
  private clientsCache: { at: number; clients: LearnedClient[] } | undefined;
  private readonly announcer: Announcer;
  private byName: Map<string, AnnouncingInterface>;
  private byIndex: Map<number, AnnouncingInterface>;
  /** Answer entries adopted from a previous process, not yet confirmed by a decision of this one. */
  private readonly adoptedAnswers = new Set<string>();
  /** Interfaces replaced (setInterfaces) while a sliced apply writes: forgotten in its new state too. */
  private changedDuringApply: Set<string> | undefined;
  /** VIPs the owner watch answered on its own (takenByWatch) and no apply has written since. */
  private readonly watchTaken = new Set<string>();
  /** Those taken while a sliced apply writes: its new state does not know them either. */
  private takenDuringApply: Set<string> | undefined;
  /** Bumped when an interface changes (its ifindex or MAC): what was armed from the old ones is stale. */
  private interfaceGeneration = 0;
  /** Announcement frames by `ip ifname` (built once per VIP and interface). */
  private readonly frameCache = new Map<string, Buffer[]>();
  /**
   * VIPs an apply that failed part-way may have written (their entry may not be what `applied` says):
   * the next plan writes them again. Without this, an answer written by a failed apply stays in the map
   * when the next decision wants what `applied` still holds (a second answerer).
   */
  private readonly unsure = new Set<string>();

  constructor(private readonly options: L2ReconcilerOptions) {
    this.byName = new Map(options.interfaces.map((i) => [i.name, i]));
    this.byIndex = new Map(options.interfaces.map((i) => [i.ifindex, i]));
    this.announcer = new Announcer({
      burstMs: options.burstMs ?? DEFAULT_BURST_MS,
      refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS,
      send: (ip, ifnames, phase) => this.announce(ip, ifnames, phase),
      onError: (ip, error) => options.onError?.(`announce ${ip}`, error),
    });
    this.applied = this.adopt(options.adoptStale ?? false);
  }

  /** Applies the decisions for this node in one go; returns what changed. */
  apply(actions: ReadonlyMap<string, NodeVipAction>, spreadIps: ReadonlySet<string>): L2Plan {
    const step = this.prepare(actions, spreadIps);
    try {
      for (const batch of step.writes) this.options.datapath.setVips(batch);
      this.options.datapath.deleteVips(step.plan.remove);
    } catch (error) {
      this.failed(step);
      throw error;
    }
    return this.commit(step, []);
  }

  /**
   * The owner watch's pulse thread wrote answer entries for these VIPs itself (speaker/watch-takeover.ts)
   * and announced them. What the map holds for them is no longer what this reconciler applied: the next
   * apply writes whatever the decisions want (answer, suppress or nothing) and, where it answers,
   * announces them as a takeover.
   */
  takenByWatch(ips: readonly string[]): void {
    for (const ip of ips) {
      this.watchTaken.add(ip);
      this.takenDuringApply?.add(ip);
      markTaken(this.applied, ip);
    }
  }

  /** VIPs taken by the owner watch that no apply has written yet: the next round must apply. */
  watchTakeoversPending(): boolean {
    return this.watchTaken.size > 0;
  }

  /** An announcing interface's index and MAC (12 hex digits). */
  interfaceInfo(name: string): { ifindex: number; mac: string } | undefined {
    const i = this.byName.get(name);
    return i ? { ifindex: i.ifindex, mac: i.mac.toString('hex') } : undefined;
  }

  /** A number that changes whenever an announcing interface does (ifindex or MAC). */
  interfacesVersion(): number {
    return this.interfaceGeneration;
  }

  /**
   * apply() with the datapath writes in batches of at most WRITE_BATCH entries, giving the event loop
   * back between them once the slicer's budget is spent (at 10,000 VIPs one write of every entry holds
   * it for hundreds of ms under load). Entries that stop answering are written first, takeovers last:
   * a slow apply may delay this node's answers, never its silences. Nothing is announced, and the state
   * read by the next plan does not change, until every write is in.
   */
  async applySliced(
    actions: ReadonlyMap<string, NodeVipAction>,
    spreadIps: ReadonlySet<string>,
    slicer: TimeSlicer,
  ): Promise<L2Plan> {
    const step = this.prepare(actions, spreadIps);
    const changed = new Set<string>();
    this.changedDuringApply = changed;
    const taken = new Set<string>();
    this.takenDuringApply = taken;
    try {
      for (const batch of step.writes) {
        for (let i = 0; i < batch.length; i += WRITE_BATCH) {
          if (slicer.due()) await slicer.pause();
          this.options.datapath.setVips(batch.slice(i, i + WRITE_BATCH));
        }
      }
      const { remove } = step.plan;
      for (let i = 0; i < remove.length; i += WRITE_BATCH) {
        if (slicer.due()) await slicer.pause();
        this.options.datapath.deleteVips(remove.slice(i, i + WRITE_BATCH));
      }
    } catch (error) {
      this.failed(step);
      throw error;
    } finally {
      this.changedDuringApply = undefined;
      this.takenDuringApply = undefined;
    }
    this.forgetInterfaces(step.desired, changed);
    return this.commit(step, [...taken]);
  }

  /** The plan and its datapath writes, silences first, answers last; released VIPs stop announcing. */
  private prepare(actions: ReadonlyMap<string, NodeVipAction>, spreadIps: ReadonlySet<string>): ApplyStep {
    const desired = new Map<string, AppliedVip>();
    for (const [ip, action] of actions) desired.set(ip, appliedOf(action, spreadIps.has(ip)));
    const plan = planL2(this.applied, desired, this.unsure);
    // A VIP being released is never announced again, not even between two write batches.
    for (const ip of plan.released) {
      this.announcer.cancel(ip);
      this.gainedBuckets.delete(ip);
    }
    const silences: Array<[string, L2VipSpec]> = [];
    const answers: Array<[string, L2VipSpec]> = [];
    for (const { ip, want } of plan.set) {
      if (want.action === 'answer') {
        // Every named interface answers, each with its own MAC.
        const [iface, ...more] = want.interfaces.flatMap((n) => this.byName.get(n) ?? []);
        answers.push([
          ip,
          {
            action: 'answer',
            buckets: want.buckets,
            ...(iface ? { mac: iface.mac, ifindex: iface.ifindex } : {}),
            ...(more.length > 0 ? { more: more.map((m) => ({ ifindex: m.ifindex, mac: m.mac })) } : {}),
          },
        ]);
      } else {
        silences.push([ip, { action: 'suppress' }]);
      }
    }
    return { desired, plan, spreadIps, writes: [silences, answers] };
  }

  /** Some writes of `step` may be in the map, some not: the next plan writes every one of them again. */
  private failed({ plan }: ApplyStep): void {
    for (const { ip } of plan.set) this.unsure.add(ip);
    for (const ip of plan.remove) this.unsure.add(ip);
  }

  /** After the writes: the new state, then the announcements (announce() reads the state). */
  private commit({ desired, plan, spreadIps }: ApplyStep, takenDuringApply: readonly string[]): L2Plan {
    this.unsure.clear();
    for (const ip of [...plan.released, ...plan.remove]) this.forgetFrames(ip);
    this.spreadIps.clear();
    for (const ip of spreadIps) this.spreadIps.add(ip);
    // The new state must be in place before the first frame goes out: announce() reads it.
    this.applied = desired;
    for (const { ip, interfaces } of plan.takeovers) this.announcer.announce(ip, interfaces);
    for (const { ip, interfaces, buckets } of plan.gained) {
      this.gainedBuckets.set(ip, buckets);
      this.announcer.announce(ip, interfaces);
    }
    // An answer entry adopted from a previous process is announced once this process decides it owns
    // the VIP: while no speaker ran, another node may have answered and pulled the clients away, and a
    // restarted speaker cannot tell (its view starts empty).
    for (const ip of this.adoptedAnswers) {
      const want = desired.get(ip);
      if (want?.action !== 'answer' || this.announcer.has(ip)) continue;
      if (want.spread) this.gainedBuckets.set(ip, want.buckets);
      plan.takeovers.push({ ip, interfaces: want.interfaces });
      this.announcer.announce(ip, want.interfaces);
    }
    this.adoptedAnswers.clear();
    for (const [ip, want] of desired) {
      if (want.action === 'answer' && !this.announcer.has(ip))
        this.announcer.refreshOnly(ip, want.interfaces);
    }
    // This plan wrote every VIP the watch took before it was prepared; those taken while it wrote are
    // still unknown to it.
    this.watchTaken.clear();
    for (const ip of takenDuringApply) {
      this.watchTaken.add(ip);
      markTaken(this.applied, ip);
    }
    return plan;
  }

  /**
   * The interfaces changed while running (one appeared, went away, or was recreated with another ifindex
   * or MAC). Entries answered on a changed one are marked stale, so the next apply writes them again with
   * the interfaces' current ifindex and MAC and announces them (a takeover on the new interface).
   */
  setInterfaces(interfaces: readonly AnnouncingInterface[]): void {
    const next = new Map(interfaces.map((i) => [i.name, i]));
    const changed = new Set<string>();
    for (const [name, was] of this.byName) {
      const now = next.get(name);
      if (!now || now.ifindex !== was.ifindex || !now.mac.equals(was.mac)) changed.add(name);
    }
    for (const name of next.keys()) if (!this.byName.has(name)) changed.add(name);
    if (changed.size === 0) return;
    this.interfaceGeneration++;
    this.byName = next;
    this.byIndex = new Map(interfaces.map((i) => [i.ifindex, i]));
    for (const name of changed) {
      this.options.frames.forget?.(name);
      for (const key of [...this.frameCache.keys()])
        if (key.endsWith(` ${name}`)) this.frameCache.delete(key);
    }
    this.forgetInterfaces(this.applied, changed);
    // A sliced apply under way replaces `applied` when it ends: it must forget them too.
    if (this.changedDuringApply) for (const name of changed) this.changedDuringApply.add(name);
  }

  /** Answer entries on these interfaces are written (and announced) again by the next plan. */
  private forgetInterfaces(state: Map<string, AppliedVip>, names: ReadonlySet<string>): void {
    if (names.size === 0) return;
    for (const [ip, have] of state) {
      if (have.action === 'answer' && have.interfaces.some((n) => names.has(n)))
        state.set(ip, { ...have, interfaces: [] });
    }
  }

  current(): ReadonlyMap<string, AppliedVip> {
    return this.applied;
  }

  /**
   * Announces every VIP this node answers again, burst first: after a stall a watcher may have answered
   * them meanwhile (pulling the clients' ARP caches to it) and handed them back, which changes nothing
   * in this node's own decisions. Returns the VIPs announced.
   */
  reannounce(): string[] {
    const out: string[] = [];
    for (const [ip, want] of this.applied) {
      if (want.action !== 'answer') continue;
      if (want.spread) this.gainedBuckets.set(ip, want.buckets);
      this.announcer.announce(ip, want.interfaces);
      out.push(ip);
    }
    return out;
  }

  stop(): void {
    this.announcer.stop();
    this.options.frames.close();
  }

  /**
   * Rebuilds the applied state from the map a previous process left behind. Announces nothing: the
   * speaker has not joined yet, and ownership may have moved while it was away. Stale answer entries
   * (see adoptStale) become suppress entries at once.
   */
  private adopt(stale: boolean): Map<string, AppliedVip> {
    const adopted = new Map<string, AppliedVip>();
    const more = this.options.datapath.moreInterfaces?.() ?? new Map<string, number[]>();
    const silence: Array<[string, L2VipSpec]> = [];
    for (const [ip, entry] of this.options.datapath.vips()) {
      if (entry.action === 'answer' && stale) {
        silence.push([ip, { action: 'suppress' }]);
        adopted.set(ip, { action: 'suppress', spread: false });
      } else if (entry.action === 'answer') {
        const names = [entry.ifindex, ...(more.get(ip) ?? [])].flatMap(
          (i) => this.byIndex.get(i)?.name ?? [],
        );
        this.adoptedAnswers.add(ip);
        adopted.set(ip, {
          action: 'answer',
          buckets: entry.buckets,
          interfaces: names,
          spread: entry.buckets !== ALL_BUCKETS,
        });
      } else {
        adopted.set(ip, { action: 'suppress', spread: false });
      }
    }
    this.options.datapath.setVips(silence);
    return adopted;
  }

  private forgetFrames(ip: string): void {
    for (const name of this.byName.keys()) this.frameCache.delete(`${ip} ${name}`);
  }

  private framesFor(ip: string, iface: AnnouncingInterface): Buffer[] {
    const key = `${ip} ${iface.name}`;
    let frames = this.frameCache.get(key);
    if (!frames) {
      frames = announcementFrames(ip, iface.mac);
      this.frameCache.set(key, frames);
    }
    return frames;
  }

  private announce(ip: string, ifnames: readonly string[], phase: 'burst' | 'refresh'): void {
    const entry = this.applied.get(ip);
    const priority: FramePriority = phase === 'burst' ? 'urgent' : 'bulk';
    let frames = 0;
    if (this.spreadIps.has(ip) && entry?.action === 'answer') {
      const family = ip.includes(':') ? 6 : 4;
      // Right after a change only the clients of the gained buckets need to hear it; the periodic
      // refresh covers every client of this node's buckets.
      // Never point a client at this node for a bucket it has lost since the burst started.
      const buckets =
        (phase === 'burst' ? (this.gainedBuckets.get(ip) ?? entry.buckets) : entry.buckets) & entry.buckets;
      for (const client of this.learnedClients()) {
        if ((client.ip.includes(':') ? 6 : 4) !== family) continue;
        if (!hasBucket(buckets, clientBucket(client.ip))) continue;
        const iface = this.byIndex.get(client.ifindex);
        if (!iface || !ifnames.includes(iface.name)) continue;
        const frame = clientRedirectFrame(ip, iface.mac, client.ip, client.mac);
        if (this.send(ip, iface.name, [frame], priority)) frames++;
      }
    } else {
      for (const name of ifnames) {
        const iface = this.byName.get(name);
        if (!iface) continue;
        const built = this.framesFor(ip, iface);
        if (this.send(ip, name, built, priority)) frames += built.length;
      }
    }
    if (frames > 0) this.options.onAnnounced?.(ip, frames);
  }

  /**
   * The learned-client map is one LRU dump of up to 65,536 entries; the bursts of several spread VIPs
   * fire at the same instants, so one dump serves them all for a moment.
   */
  private learnedClients(): LearnedClient[] {
    const now = Date.now();
    if (!this.clientsCache || now - this.clientsCache.at > CLIENTS_CACHE_MS) {
      this.clientsCache = { at: now, clients: this.options.datapath.learnedClients() };
    }
    return this.clientsCache.clients;
  }

  /** Queues frames; a failure is reported and does not stop the frames to other clients or interfaces. */
  private send(ip: string, ifname: string, frames: readonly Buffer[], priority: FramePriority): boolean {
    try {
      this.options.frames.send(ifname, frames, priority);
      return true;
    } catch (error) {
      this.options.onError?.(`announce ${ip} on ${ifname}`, error);
      return false;
    }
  }
}

const SUPPRESSED: AppliedVip = Object.freeze({ action: 'suppress', spread: false });
/** The state an action leaves in the map (every suppress entry is one object). */
function appliedOf(action: NodeVipAction, spread: boolean): AppliedVip {
  return !spread && action.action === 'suppress' ? SUPPRESSED : { ...action, spread };
}

/** An answer entry this reconciler did not write: equal to no desired state, so the next plan rewrites it. */
function markTaken(state: Map<string, AppliedVip>, ip: string): void {
  state.set(ip, { action: 'answer', buckets: ALL_BUCKETS, interfaces: [], spread: false });
}
