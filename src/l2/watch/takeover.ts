import type { VipDecision } from '../desired.js';

/**
 * A VIP this node answers from the pulse thread the moment the owner watch declares its owner down,
 * before the control loop has decided anything (speaker/watch-takeover.ts writes it).
 */
export interface ArmedVip {
  ip: string;
  ifname: string;
  ifindex: number;
  /** The interface's MAC, 12 hex digits. */
  mac: string;
  /** A flow-mode VIP: its flow entry on this node turns from member to owner (it steers from then on). */
  flows?: true;
}

/** Per watched owner, the VIPs this node takes over from the pulse thread when that owner goes down. */
export type ArmedTakeovers = Array<[owner: string, vips: ArmedVip[]]>;

/** At most this many VIPs are armed (the pulse thread writes them in one batch); the rest wait for a round. */
export const ARMED_LIMIT = 256;

/**
 * The takeovers the owner watch may make on its own: single- and flow-mode VIPs whose owner is another
 * node and whose successor (next in rendezvous order) is this node, announced on one interface this node
 * knows, not placed by bandwidth placement. Exactly what a decision round would do once the watch counts
 * the owner out (the successor becomes the owner; a flow VIP keeps its flow set, the owner's place in it
 * included, while gossip holds the owner alive: l2/flow-liveness), so the round that follows finds it
 * done. Spread VIPs, several interfaces and placed VIPs are left to the round. From the decisions the
 * datapath holds; pure.
 */
export function armTakeovers(
  decisions: readonly VipDecision[],
  self: string,
  iface: (name: string) => { ifindex: number; mac: string } | undefined,
  limit = ARMED_LIMIT,
): ArmedTakeovers {
  const byOwner = new Map<string, ArmedVip[]>();
  let armed = 0;
  for (const d of decisions) {
    if (armed >= limit) break;
    if (d.mode !== 'single' && d.mode !== 'flows') continue;
    if (d.successor !== self || d.owner === undefined || d.owner === self) continue;
    if (d.placement?.placed) continue;
    const names = d.successorInterfaces ?? [];
    const name = names[0];
    const known = name === undefined ? undefined : iface(name);
    if (names.length !== 1 || name === undefined || !known) continue;
    const list = byOwner.get(d.owner) ?? [];
    const vip: ArmedVip = { ip: d.ip, ifname: name, ifindex: known.ifindex, mac: known.mac };
    list.push(d.mode === 'flows' ? { ...vip, flows: true } : vip);
    byOwner.set(d.owner, list);
    armed++;
  }
  return [...byOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether two armings are the same (the pulse thread is told only of changes). */
export function sameArming(a: ArmedTakeovers, b: ArmedTakeovers): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
