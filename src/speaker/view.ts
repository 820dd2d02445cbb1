import type { SessionInfo } from '../bgp/session.js';
import type { HeraldModel } from '../config/index.js';
import type { VipCounters } from '../datapath/xdp-layout.js';
import type { VipDecision } from '../l2/desired.js';
import type { FlowGuardCounts, FlowTraffic } from '../l2/flow-model.js';
import type { Member, MemberlistEvents } from '../membership/types.js';
import type { ServiceAllocation } from './l2-inputs.js';
import type { PlacementMap } from '../placement/map.js';
import type { OwnerChange } from './owner-diff.js';
import type { GateClosure } from '../l2/watch/freshness.js';
import type { ReloadResult } from '../metrics/config-reloads.js';
import type { GateHeartbeat } from '../metrics/gate-health.js';
import type { GossipHealth } from '../metrics/gossip-health.js';
import type { TransmitErrorSample } from '../metrics/transmit-errors.js';

export type MemberEventKind = Exclude<keyof MemberlistEvents, 'message' | 'conflict' | 'dropped'>;

export interface SpeakerEvents {
  /** Fired after every reconcile with the full decision set. */
  decisions: [VipDecision[]];
  /** An owner (or the spread node set) of a VIP changed. */
  owner: [OwnerChange];
  /** This node took over / released a VIP at layer 2. */
  takeover: [{ ip: string; at: number }];
  released: [{ ip: string; at: number }];
  announced: [{ ip: string; frames: number }];
  /** A gossip membership change, as the membership reported it. */
  member: [{ kind: MemberEventKind; member: Member }];
  /** A decision round ended: its wall time and whether it computed the decisions again. */
  round: [{ durationMs: number; computed: boolean }];
  /** A new configuration was applied, or refused (the last good one stays in force). */
  config: [{ result: ReloadResult }];
  /** The liveness gate opened for the first time since the start (work that may wait for it follows). */
  gateOpened: [{ reason: string }];
  /** The owner watch shut this node's liveness gate (l2/watch/driver.ts 'stale'). */
  gateClosed: [{ reason: GateClosure }];
  /** A health check probe on this node finished. */
  probe: [{ service: string; ok: boolean; durationMs: number }];
  /** The announcing interfaces or their addresses changed (the XDP attachments follow them). */
  interfaces: [ReadonlyMap<string, string>];
  /** An application message gossiped by another speaker. */
  message: MemberlistEvents['message'];
}

/**
 * What observers (metrics, status API, Kubernetes status writer) may see of a speaker: read-only state
 * and events. A listener that throws is logged and never breaks the control loop.
 */
export interface SpeakerView {
  readonly node: string;
  decisions(): readonly VipDecision[];
  allocations(): ReadonlyMap<string, ServiceAllocation>;
  allocationProblems(): ReadonlyMap<string, string>;
  model(): HeraldModel | undefined;
  members(): readonly Member[];
  /** Interfaces the XDP program is attached to, with the attach mode. */
  interfaces(): ReadonlyMap<string, string>;
  /** Per-VIP packet and byte counters of this node's XDP program. */
  vipCounters(): Map<string, VipCounters>;
  /** Flow-mode steering counters of this node's XDP program, per VIP and target node. */
  flowTraffic(): FlowTraffic[];
  /** Frames this node's steering guards kept from being steered, per reason (undefined: no flow maps). */
  flowGuards(): FlowGuardCounts | undefined;
  /** Frames the kernel dropped after this node's XDP verdicts (XDP_TX it could not send), per interface and action. */
  transmitErrors(): readonly TransmitErrorSample[];
  bgpSessions(): SessionInfo[];
  /** Addresses advertised to at least one BGP peer. */
  bgpAdvertised(): ReadonlySet<string>;
  isReady(): boolean;
  /** This node's health check verdict per checked Service. */
  healthVerdicts(): ReadonlyMap<string, boolean>;
  /** Gossip encryption and drop counters, for /metrics. */
  gossipHealth(): GossipHealth;
  /** The liveness gate's heartbeat (age, longest gap since the last call), for /metrics. */
  gateHeartbeat(): GateHeartbeat | undefined;
  on<K extends keyof SpeakerEvents>(event: K, listener: (...args: SpeakerEvents[K]) => void): unknown;
}

/** Lets an observer gossip its own small messages to every speaker (e.g. traffic rate reports). */
export interface GossipChannel {
  broadcast(payload: Buffer, key: string): void;
}

/** Takes placement maps decided on this node (the coordinator) next to those arriving by gossip. */
export interface PlacementSink {
  placementMap(): PlacementMap;
  offerPlacement(map: PlacementMap): boolean;
}
