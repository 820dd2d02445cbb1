/**
 * Flow mode's per-VIP slot table as the control plane decides it; datapath/flow-layout encodes it into the
 * XDP program's flow map (mirror of bpf/lib/types.h).
 */

/** Slots per VIP (power of two: the data path takes hash & (slots - 1)). */
export const FLOW_SLOTS = 4096;
export const FLOW_MAX_TARGETS = 128;
/** Slot value meaning "no target": the owner passes the packet up its own stack. */
export const FLOW_NO_TARGET = 0xff;
/**
 * How long a node that left a VIP's flow set keeps the flows pinned to it (its slots move at once, so new
 * flows avoid it): a node flapping out of gossip for a moment (a false suspicion) breaks no connection,
 * and one that left for good drains. Ends at the first reconcile after it (speaker resync: 5 s).
 */
export const FLOW_DRAIN_MS = 5000;
/** Steering counters per node (index 0 is never handed out: "not counted"). */
export const FLOW_MAX_STATS = 32768;

export type FlowRole = 'owner' | 'member';

export interface FlowTarget {
  mac: Buffer;
  /** This node: its slots are passed up the own stack. */
  local: boolean;
  /** Counter index of what is sent to this target. */
  stat: number;
}

export interface FlowEntry {
  role: FlowRole;
  /** This node's MAC on the VIP's segment: steered frames must be addressed to it and leave from it. */
  ownMac: Buffer;
  /** Counter index of what other nodes steered here. */
  inStat: number;
  /** Index → target; undefined = unused index. At most FLOW_MAX_TARGETS. */
  targets: ReadonlyArray<FlowTarget | undefined>;
  /** FLOW_SLOTS target indices (FLOW_NO_TARGET = pass). */
  slots: Uint8Array;
}

/** One target of a VIP's flow entry on this node, with its counter summed over CPUs. */
export interface FlowTargetTraffic {
  node: string;
  /** This node: its flows go up the own stack. */
  local: boolean;
  /** Slots of the table whose new flows go to it (0 while it drains). */
  slots: number;
  packets: bigint;
  bytes: bigint;
}

/** What this node's XDP program counted for one flow-mode VIP (metrics, `herald top`). */
export interface FlowTraffic {
  ip: string;
  role: FlowRole;
  /** Owner: every target, with what was sent to it (the own one: passed up the own stack). */
  targets: FlowTargetTraffic[];
  /** Frames other nodes steered to this node. */
  steeredIn: { packets: bigint; bytes: bigint };
}

/**
 * Why the steering path kept frames from being steered (herald_flow_guards, in index order): another
 * node's flow dropped at a node that does not steer the VIP (`not_owner`, e.g. a router whose ARP cache
 * predates a takeover) or at the owner while its liveness gate is shut (`gate_closed`); a frame another
 * node steered here while this node steers the VIP too (`loop_guard`: two owners) passed up, not steered.
 */
export const FLOW_GUARD_REASONS = ['not_owner', 'gate_closed', 'loop_guard'] as const;
export type FlowGuardReason = (typeof FLOW_GUARD_REASONS)[number];

/** The guard counters of this node's XDP program, summed over CPUs (every VIP together). */
export type FlowGuardCounts = Record<FlowGuardReason, { packets: bigint; bytes: bigint }>;
