import type { SessionInfo } from '../bgp/session.js';
import { bucketCount } from '../l2/buckets.js';
import type { VipDecision } from '../l2/desired.js';
import type { FlowTraffic } from '../l2/flow-model.js';
import { limitFlowSet, slotShares } from '../l2/flow-table.js';
import type { Member } from '../membership/types.js';
import type { BgpSessionStatus, MemberStatus, VipStatus } from './source.js';

export interface VipTraffic {
  rxBitsPerSecond: number;
  rxPacketsPerSecond: number;
  utilization: number;
}

/** The status API's VIP list from a speaker's decisions, allocations (for pools) and BGP routes. */
export function vipStatuses(input: {
  node: string;
  decisions: readonly VipDecision[];
  /** Allocated IPs with their pool, per service. */
  allocations: Iterable<{ ips: readonly string[]; pool: string }>;
  /** Addresses advertised over BGP. */
  advertised: ReadonlySet<string>;
  traffic: (ip: string) => VipTraffic;
  /** Flow mode: what this node's XDP program steered, per VIP (the owner's counters). */
  flows?: ReadonlyMap<string, FlowTraffic>;
}): VipStatus[] {
  const { node } = input;
  const poolOf = new Map<string, string>();
  for (const a of input.allocations) for (const ip of a.ips) poolOf.set(ip, a.pool);
  return input.decisions.map((d): VipStatus => {
    const pool = poolOf.get(d.ip);
    if (d.mode === 'none' && input.advertised.has(d.ip)) {
      return {
        ip: d.ip,
        services: [...d.services],
        mode: 'bgp',
        owner: '',
        shares: [{ node, buckets: 0 }],
        reason: 'advertised over BGP by every eligible node; the routers spread it by ECMP',
        ...input.traffic(d.ip),
        local: true,
        ...(pool ? { pool } : {}),
      };
    }
    if (d.mode === 'flows') {
      const members = limitFlowSet(d.ip, [...(d.flowSet?.keys() ?? [])]);
      const flow = input.flows?.get(d.ip);
      const steered = new Map(flow?.role === 'owner' ? flow.targets.map((x) => [x.node, x]) : []);
      return {
        ip: d.ip,
        services: [...d.services],
        mode: 'flows',
        owner: d.owner ?? '',
        shares: [...slotShares(d.ip, members)].map(([n, slots]) => {
          const sent = steered.get(n);
          return {
            node: n,
            buckets: 0,
            slots,
            ...(sent ? { steeredPackets: Number(sent.packets), steeredBytes: Number(sent.bytes) } : {}),
          };
        }),
        reason: d.reason,
        ...input.traffic(d.ip),
        local: d.flowSet?.has(node) ?? false,
        ...(pool ? { pool } : {}),
        interfaces: d.interfaces.get(node) ?? [],
      };
    }
    return {
      ip: d.ip,
      services: [...d.services],
      mode: 'l2',
      owner: d.mode === 'single' ? (d.owner ?? '') : '',
      shares:
        d.mode === 'spread'
          ? [...d.shares].map(([n, bits]) => ({
              node: n,
              buckets: bucketCount(bits),
            }))
          : [],
      reason: d.reason,
      ...input.traffic(d.ip),
      local: d.shares.has(node),
      ...(pool ? { pool } : {}),
      interfaces: d.interfaces.get(node) ?? [],
    };
  });
}

export function memberStatuses(members: readonly Member[]): MemberStatus[] {
  return members.map((m) => ({
    name: m.name,
    address: m.address,
    port: m.port,
    state: m.state,
    incarnation: m.incarnation,
  }));
}

export function bgpStatuses(sessions: readonly SessionInfo[]): BgpSessionStatus[] {
  return sessions.map((s) => ({
    peer: s.peer,
    peerAsn: s.peerAsn ?? 0,
    localAsn: s.localAsn,
    state: s.state,
    bfdState: s.bfd === 'disabled' ? '' : s.bfd === 'admin-down' ? 'admindown' : s.bfd,
    uptimeSeconds: s.uptimeSec,
    prefixesAnnounced: s.prefixesSent,
    updatesSent: s.updatesSent,
    updatesReceived: s.updatesReceived,
  }));
}
