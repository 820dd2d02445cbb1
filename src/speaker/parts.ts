import type { NodeInterface } from '../l2/interfaces.js';
import type { SessionInfo } from '../bgp/session.js';
import type { VipCounters } from '../datapath/xdp-layout.js';
import type { HeraldModel } from '../config/index.js';
import type { HealthTarget } from '../health/monitor.js';
import type { GateTiming } from '../l2/gate.js';
import type { L2Datapath } from '../l2/reconciler.js';
import type { MembershipStats } from '../membership/stats.js';
import type { TransmitErrorSample } from '../metrics/transmit-errors.js';
import type { OwnerWatchEvents } from '../l2/watch/driver.js';
import type { PeerReadiness, WatchVerdict } from '../l2/watch/peer.js';
import type { WatchTargets } from '../l2/watch/targets.js';
import type { ArmedTakeovers } from '../l2/watch/takeover.js';
import type { Member, MemberlistEvents } from '../membership/types.js';
import type { Logger } from '../util/log.js';
import type { VipGroup } from './l2-inputs.js';
import type { SpeakerL2 } from './l2-part.js';
import type { ModelSource } from './model-source.js';
import type { NodeMeta } from './node-meta.js';
import type { SpeakerOptions } from './options.js';
import type { StartupStages } from './startup-stages.js';

/** What the speaker needs of the gossip membership (membership/Memberlist implements it). */
export interface SpeakerMembership {
  members(): Member[];
  /** Rejects with a JoinError (membership/sync.ts) saying what came of each seed when none answered. */
  join(seeds: string[]): Promise<number>;
  /** Gossip is encrypted (a key is configured). */
  encrypted(): boolean;
  stats(): MembershipStats;
  /** The address and port this member is reached at. */
  address(): { address: string; port: number };
  setMeta(meta: Buffer): void;
  broadcast(payload: Buffer, opts?: { key?: string }): void;
  leave(timeoutMs: number): Promise<void>;
  shutdown(): Promise<void>;
  on<K extends keyof MemberlistEvents>(event: K, listener: (...args: MemberlistEvents[K]) => void): unknown;
}

/** What the speaker needs of this node's XDP responder (datapath/XdpResponder implements it). */
export interface SpeakerDatapath extends L2Datapath {
  /**
   * Keeps the XDP liveness gate open (stamped `atNs` on the kernel's monotonic clock, default now); the
   * program goes silent when this stops. 0 closes the gate at once.
   */
  heartbeat(atNs?: bigint): void;
  /** The heartbeat's age and the longest gap between two heartbeats since the last call (metrics). */
  heartbeatStats?(): { ageMs: number | undefined; maxGapMs: number };
  counters(): Map<string, VipCounters>;
  /** Frames the kernel dropped after the XDP verdict, per interface and action (absent: not counted). */
  transmitErrors?(): TransmitErrorSample[];
  close(): void;
}

/**
 * The direct watch between owners and successors, which also drives the heartbeat (l2/watch/driver.ts
 * OwnerWatch implements it): the speaker feeds it the watch pairs and reads its verdicts.
 */
export interface OwnerWatchPart {
  start(): void;
  /** Joined (or alone after the grace): the gate may open once the watchers agree. */
  setReady(): void;
  /** The first decision is applied: this node stops saying it is starting; its gate may open from now. */
  applied(): void;
  /** What a peer's packets say about its start (l2/watch/peer.ts WATCH_DIAG_STARTING). */
  readiness(peer: string): PeerReadiness;
  setTargets(
    targets: WatchTargets,
    addresses: ReadonlyMap<string, string>,
    gossipDead?: ReadonlySet<string>,
  ): void;
  /**
   * The owners some of whose VIPs this node answers now or may answer once its pending decision is
   * applied: their gates wait until this set drops them. `seen`: verdictsSeen() when the set was computed
   * (an owner the watch declared down after that stays marked).
   */
  setHolding(peers: ReadonlySet<string>, seen?: number): void;
  /** The VIPs the watch takes over on its own when it declares their owner down (l2/watch/takeover.ts). */
  arm?(byOwner: ArmedTakeovers): void;
  verdict(peer: string): WatchVerdict;
  /** The number of the last verdict event this side has read (what verdict() answers from). */
  verdictsSeen(): number;
  fresh(): boolean;
  /** With `adminDown` the gate shuts and the peers are told, in that order. */
  stop(opts?: { adminDown?: boolean }): void | Promise<void>;
  on<K extends keyof OwnerWatchEvents>(event: K, listener: (...args: OwnerWatchEvents[K]) => void): unknown;
}

/** The speaker's BGP side (bgp-part.ts SpeakerBgp implements it). */
export interface BgpPart {
  update(
    model: HeraldModel,
    groups: readonly VipGroup[],
    labels: Record<string, string>,
    excluded: boolean,
  ): Promise<void>;
  advertised(): ReadonlySet<string>;
  sessions(): SessionInfo[];
  stop(graceful: boolean): Promise<void>;
}

/** This node's health checks (health/monitor.ts HealthMonitor implements it). */
export interface HealthPart {
  setTargets(targets: readonly HealthTarget[]): void;
  /** Services whose check fails here, with the reason. */
  failing(): Map<string, string>;
  /** This node's verdict per checked Service (unknown ones as passing). */
  verdicts(): Map<string, boolean>;
  on(event: 'change', listener: (e: { service: string; passing: boolean; detail: string }) => void): unknown;
  /** Every probe result, with how long it took. */
  on(
    event: 'result',
    listener: (e: { service: string; result: { ok: boolean }; durationMs: number }) => void,
  ): unknown;
  stop(): void;
}

/** The host interface holding the VIPs this node serves (host/vips.ts HostVips implements it). */
export interface HostPart {
  sync(want: ReadonlySet<string>): Promise<{ added: string[]; removed: string[] }>;
}

/**
 * Everything a Speaker runs on, built by assemble.ts for a real node and by tests with fakes.
 * The speaker owns their life cycle from start() to stop().
 */
export interface SpeakerParts {
  options: SpeakerOptions;
  log: Logger;
  source: ModelSource;
  datapath: SpeakerDatapath;
  /** Interfaces the XDP program is attached to, with the attach mode. */
  attached: ReadonlyMap<string, string>;
  l2: SpeakerL2;
  bgp: BgpPart;
  membership: SpeakerMembership;
  watch: OwnerWatchPart;
  /** The gate and takeover timers, derived together (l2/gate.ts). */
  gate: GateTiming;
  /** What this node gossips about itself; Speaker.updateMeta changes it. */
  meta: NodeMeta;
  health?: HealthPart;
  /** Standalone mode: hold served VIPs on a host interface (absent: --no-host-vips, Kubernetes mode). */
  host?: HostPart;
  /** The start's stages so far (assemble.ts); the speaker adds joined, decided and gate, then logs them. */
  stages?: StartupStages;
  /** The attached interfaces with their current addresses, read again at every resync. */
  rescanInterfaces?: () => NodeInterface[];
  /** Calls `onChange` soon after the kernel's interfaces or addresses changed; returns its stop. */
  watchLinks?: (onChange: () => void) => () => void;
}
