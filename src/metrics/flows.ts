import { escapeLabelValue } from './exposition.js';

/** One flow-mode VIP's steering counters on this node (the shape of l2/flow-model FlowTraffic). */
export interface FlowTrafficSample {
  ip: string;
  role: 'owner' | 'member';
  targets: ReadonlyArray<{ node: string; slots: number; packets: bigint; bytes: bigint }>;
  steeredIn: { packets: bigint; bytes: bigint };
}

/** Flow-mode steering counters of this node's XDP program (`SpeakerView.flowTraffic`). */
export type FlowTrafficSource = () => readonly FlowTrafficSample[];

/** What the steering guards kept from being steered, per reason (the shape of l2/flow-model FlowGuardCounts). */
export type FlowGuardSample = Readonly<
  Record<'not_owner' | 'gate_closed' | 'loop_guard', { packets: bigint; bytes: bigint }>
>;
export type FlowGuardSource = () => FlowGuardSample | undefined;

const FAMILIES = [
  [
    'herald_flow_slots',
    'gauge',
    "Slots of the VIP's flow table (of 4096) whose new flows go to the node, as this node computes it.",
  ],
  [
    'herald_flow_steered_packets_total',
    'counter',
    "Packets of the VIP's flows this owner sent to the node: rewritten to its MAC, or passed up the own stack when the node is this one.",
  ],
  [
    'herald_flow_steered_bytes_total',
    'counter',
    'Bytes (whole frames) of herald_flow_steered_packets_total.',
  ],
  [
    'herald_flow_steered_in_packets_total',
    'counter',
    "Packets of the VIP's flows another node (the owner) steered to this node.",
  ],
  [
    'herald_flow_steered_in_bytes_total',
    'counter',
    'Bytes (whole frames) of herald_flow_steered_in_packets_total.',
  ],
  [
    'herald_flow_dropped_packets_total',
    'counter',
    "Frames of another node's flow this node's XDP program dropped instead of steering, by reason: not_owner (it does not steer the VIP, e.g. a router's ARP cache older than a takeover), gate_closed (it owns the VIP but its liveness gate is shut). Every flow-mode VIP together.",
  ],
  [
    'herald_flow_dropped_bytes_total',
    'counter',
    'Bytes (whole frames) of herald_flow_dropped_packets_total.',
  ],
  [
    'herald_flow_loop_guard_packets_total',
    'counter',
    'Frames another node steered to this node while this node steers the VIP too (two owners: a split brain or the instant of a takeover): passed up the own stack, never steered again. Every flow-mode VIP together; should stay flat.',
  ],
  [
    'herald_flow_loop_guard_bytes_total',
    'counter',
    'Bytes (whole frames) of herald_flow_loop_guard_packets_total.',
  ],
] as const;

/**
 * The flow-mode families in the text format: slots and steered counters per VIP and target node (owner
 * entries only: a member steers nothing), steered-in counters per VIP (every entry), the guard counters
 * of the node (when it has flow maps). Always emitted with HELP/TYPE, even when empty.
 */
export function renderFlowFamilies(
  traffic: readonly FlowTrafficSample[],
  guards: FlowGuardSample | undefined = undefined,
): string {
  const lines = new Map<string, string[]>(
    FAMILIES.map(([name, type, help]) => [name, [`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`]]),
  );
  const push = (name: string, labels: string, value: bigint | number) =>
    lines.get(name)?.push(`${name}{${labels}} ${value}\n`);
  for (const v of traffic) {
    const ip = `ip="${escapeLabelValue(v.ip)}"`;
    push('herald_flow_steered_in_packets_total', ip, v.steeredIn.packets);
    push('herald_flow_steered_in_bytes_total', ip, v.steeredIn.bytes);
    if (v.role !== 'owner') continue;
    for (const t of v.targets) {
      const labels = `${ip},node="${escapeLabelValue(t.node)}"`;
      push('herald_flow_slots', labels, t.slots);
      push('herald_flow_steered_packets_total', labels, t.packets);
      push('herald_flow_steered_bytes_total', labels, t.bytes);
    }
  }
  if (guards) {
    for (const reason of ['not_owner', 'gate_closed'] as const) {
      push('herald_flow_dropped_packets_total', `reason="${reason}"`, guards[reason].packets);
      push('herald_flow_dropped_bytes_total', `reason="${reason}"`, guards[reason].bytes);
    }
    lines
      .get('herald_flow_loop_guard_packets_total')
      ?.push(`herald_flow_loop_guard_packets_total ${guards.loop_guard.packets}\n`);
    lines
      .get('herald_flow_loop_guard_bytes_total')
      ?.push(`herald_flow_loop_guard_bytes_total ${guards.loop_guard.bytes}\n`);
  }
  return [...lines.values()].map((l) => l.join('')).join('');
}
