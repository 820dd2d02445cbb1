import { EventEmitter } from 'node:events';

/** Default status API socket of a speaker (`--api-socket`). */
export const DEFAULT_API_SOCKET = '/run/herald/speaker.sock';

export type VipMode = 'l2' | 'flows' | 'bgp';

export interface SpreadShare {
  node: string;
  /** Client buckets of 64 this node answers (L2 spread); 0 for BGP nexthops. */
  buckets: number;
  /** Flow mode: slots (of 4096) of the VIP's slot table whose new flows go to this node. */
  slots?: number;
  /**
   * Flow mode, as the answering speaker's XDP program counted them (the owner; 0 on other nodes): frames
   * and bytes of the VIP's flows it sent to this node (its own: passed up its stack).
   */
  steeredPackets?: number;
  steeredBytes?: number;
}

/** One VIP as this speaker sees it. Optional fields default to empty / 0 on the wire. */
export interface VipStatus {
  ip: string;
  /** "namespace/name" of every service using the IP. */
  services: string[];
  mode: VipMode;
  /** Single-owner L2: the announcing node; "" when nobody announces. */
  owner: string;
  /** L2 spread: bucket shares; flow mode: slot shares of the flow set; BGP: every advertising node. */
  shares?: SpreadShare[];
  /** Why this owner / node set (or why nobody), e.g. "rendezvous winner among 3 eligible nodes". */
  reason: string;
  rxBitsPerSecond: number;
  rxPacketsPerSecond: number;
  /** VIP ingress on this node ÷ announcing link capacity (0 when unknown). */
  utilization?: number;
  /** This node answers / advertises the VIP. */
  local: boolean;
  pool?: string;
  interfaces?: string[];
}

/** Frames the kernel dropped after the node's XDP verdicts on one interface (see docs/troubleshooting.md). */
export interface TransmitErrorStatus {
  interface: string;
  /** The verdict the kernel could not carry out: 'tx', 'aborted', ... */
  action: string;
  frames: number;
}

/** Node-level figures returned with the VIP list. */
export interface NodeTraffic {
  nodeUtilization: number;
  clusterConcentration: number;
  busiestNode: string;
  /** Nonzero transmit-error counts of this node (absent or empty: none). */
  transmitErrors?: TransmitErrorStatus[];
}

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface MemberStatus {
  name: string;
  address: string;
  port: number;
  state: MemberState;
  incarnation: number;
}

export interface BgpSessionStatus {
  peer: string;
  peerAsn: number;
  localAsn: number;
  /** "idle" | "connect" | "active" | "opensent" | "openconfirm" | "established". */
  state: string;
  /** "up" | "down" | "init" | "admindown", or "" without BFD. */
  bfdState: string;
  uptimeSeconds: number;
  prefixesAnnounced: number;
  updatesSent: number;
  updatesReceived: number;
}

export type StatusEventKind = 'owner' | 'member' | 'bgp' | 'bfd';
export const STATUS_EVENT_KINDS: readonly StatusEventKind[] = ['owner', 'member', 'bgp', 'bfd'];

/**
 * A state change. owner: subject = VIP, previous/current = owner node ("" = nobody);
 * member: subject = member name, previous/current = state; bgp/bfd: subject = peer, states.
 */
export interface StatusEvent {
  kind: StatusEventKind;
  atUnixMs: number;
  subject: string;
  previous: string;
  current: string;
  reason: string;
}

/** Fan-out of status events to Watch streams (and anyone else). Never throws at the publisher. */
export class StatusEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(
    event: Omit<StatusEvent, 'atUnixMs' | 'reason'> & Partial<Pick<StatusEvent, 'atUnixMs' | 'reason'>>,
  ): void {
    const full: StatusEvent = { atUnixMs: Date.now(), reason: '', ...event };
    for (const listener of this.emitter.listeners('event')) {
      try {
        (listener as (e: StatusEvent) => void)(full);
      } catch {
        // a broken subscriber must not break the speaker
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (event: StatusEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  listenerCount(): number {
    return this.emitter.listenerCount('event');
  }
}

type Awaitable<T> = T | Promise<T>;

/** What a speaker exposes to the status API. The speaker implements it; the API only reads. */
export interface StatusSource {
  /** This node's name. */
  node(): string;
  vips(): Awaitable<VipStatus[]>;
  /** Node utilization and cluster concentration; zeros when omitted. */
  traffic?(): Awaitable<NodeTraffic>;
  members(): Awaitable<MemberStatus[]>;
  bgpSessions(): Awaitable<BgpSessionStatus[]>;
  readonly events: StatusEvents;
}
