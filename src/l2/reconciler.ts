import { Announcer, DEFAULT_BURST_MS, DEFAULT_REFRESH_MS } from './announcer.js';
import type { NodeVipAction } from './desired.js';
import { announcementFrames, clientRedirectFrame } from './frames.js';
import { type AppliedVip, type L2Plan, planL2 } from './plan.js';
import { ALL_BUCKETS, clientBucket, hasBucket } from './buckets.js';

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

/** The part of the XDP responder the reconciler drives (XdpResponder implements it). */
export interface L2Datapath {
  setVip(
    ip: string,
    spec: {
      action: 'answer' | 'suppress';
      mac?: Buffer;
      ifindex?: number;
      buckets?: bigint;
      /** Further interfaces the VIP is answered on, each with its own MAC. */
      more?: ReadonlyArray<{ ifindex: number; mac: Buffer }>;
    },
  ): void;
  deleteVip(ip: string): void;
  vips(): ReadonlyMap<string, DatapathVip>;
  /** Further interfaces (ifindexes) of the VIPs answered on several (adoption after a restart). */
  moreInterfaces?(): Map<string, number[]>;
  learnedClients(): LearnedClient[];
}

const CLIENTS_CACHE_MS = 50;

export interface AnnouncingInterface {
  name: string;
  ifindex: number;
  mac: Buffer;
}

export interface L2ReconcilerOptions {
  datapath: L2Datapath;
  interfaces: readonly AnnouncingInterface[];
  sendFrame: (ifname: string, frame: Buffer) => void;
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
  private readonly byName: Map<string, AnnouncingInterface>;
  private readonly byIndex: Map<number, AnnouncingInterface>;

  constructor(private readonly options: L2ReconcilerOptions) {
    this.byName = new Map(options.interfaces.map((i) => [i.name, i]));
    this.byIndex = new Map(options.interfaces.map((i) => [i.ifindex, i]));
    this.announcer = new Announcer({
      burstMs: options.burstMs ?? DEFAULT_BURST_MS,
      refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS,
      send: (ip, ifnames, phase) => this.announce(ip, ifnames, phase),
      onError: (ip, error) => options.onError?.(`announce ${ip}`, error),
    });
    this.applied = this.adopt();
  }

  /** Applies the decisions for this node; returns what changed. */
  apply(actions: ReadonlyMap<string, NodeVipAction>, spreadIps: ReadonlySet<string>): L2Plan {
    const desired = new Map<string, AppliedVip>();
    for (const [ip, action] of actions) desired.set(ip, { ...action, spread: spreadIps.has(ip) });
    const plan = planL2(this.applied, desired);
    for (const ip of plan.released) {
      this.announcer.cancel(ip);
      this.gainedBuckets.delete(ip);
    }
    for (const { ip, want } of plan.set) {
      if (want.action === 'answer') {
        // Every named interface answers, each with its own MAC.
        const [iface, ...more] = want.interfaces.flatMap((n) => this.byName.get(n) ?? []);
        this.options.datapath.setVip(ip, {
          action: 'answer',
          buckets: want.buckets,
          ...(iface ? { mac: iface.mac, ifindex: iface.ifindex } : {}),
          ...(more.length > 0 ? { more: more.map((m) => ({ ifindex: m.ifindex, mac: m.mac })) } : {}),
        });
      } else {
        this.options.datapath.setVip(ip, { action: 'suppress' });
      }
    }
    for (const ip of plan.remove) this.options.datapath.deleteVip(ip);
    this.spreadIps.clear();
    for (const ip of spreadIps) this.spreadIps.add(ip);
    // The new state must be in place before the first frame goes out: announce() reads it.
    this.applied = desired;
    for (const { ip, interfaces } of plan.takeovers) this.announcer.announce(ip, interfaces);
    for (const { ip, interfaces, buckets } of plan.gained) {
      this.gainedBuckets.set(ip, buckets);
      this.announcer.announce(ip, interfaces);
    }
    // Entries adopted from a previous process (or otherwise without a schedule) get the periodic refresh
    // only: re-announcing what did not change would pull clients for nothing.
    for (const [ip, want] of desired) {
      if (want.action === 'answer' && !this.announcer.has(ip)) {
        this.announcer.refreshOnly(ip, want.interfaces);
      }
    }
    return plan;
  }

  current(): ReadonlyMap<string, AppliedVip> {
    return this.applied;
  }

  stop(): void {
    this.announcer.stop();
  }

  /**
   * Rebuilds the applied state from the map a previous process left behind. Announces nothing: the
   * speaker has not joined yet, and ownership may have moved while it was away.
   */
  private adopt(): Map<string, AppliedVip> {
    const adopted = new Map<string, AppliedVip>();
    const more = this.options.datapath.moreInterfaces?.() ?? new Map<string, number[]>();
    for (const [ip, entry] of this.options.datapath.vips()) {
      if (entry.action === 'answer') {
        const names = [entry.ifindex, ...(more.get(ip) ?? [])].flatMap(
          (i) => this.byIndex.get(i)?.name ?? [],
        );
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
    return adopted;
  }

  private announce(ip: string, ifnames: readonly string[], phase: 'burst' | 'refresh'): void {
    const entry = this.applied.get(ip);
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
        if (this.send(ip, iface.name, clientRedirectFrame(ip, iface.mac, client.ip, client.mac))) frames++;
      }
    } else {
      for (const name of ifnames) {
        const iface = this.byName.get(name);
        if (!iface) continue;
        for (const frame of announcementFrames(ip, iface.mac)) if (this.send(ip, name, frame)) frames++;
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

  /** One frame; a failure is reported and does not stop the frames to other clients or interfaces. */
  private send(ip: string, ifname: string, frame: Buffer): boolean {
    try {
      this.options.sendFrame(ifname, frame);
      return true;
    } catch (error) {
      this.options.onError?.(`announce ${ip} on ${ifname}`, error);
      return false;
    }
  }
}
