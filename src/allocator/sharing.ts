import type { PortProto } from '../config/service.js';

/** What sharing rules look at for one service holding an address (MetalLB's rules). */
export interface ShareInfo {
  key: string;
  sharingKey?: string;
  ports: readonly PortProto[];
  trafficPolicy: 'Cluster' | 'Local';
  /** '' for Cluster; the pod selector for Local (Local services may share only with the same backends). */
  backendKey: string;
}

/**
 * Why `svc` may not use an address held by `holders`, or undefined when it may. Rules: every holder and the
 * service carry the same `allow-shared-ip` key, the same externalTrafficPolicy (and, for Local, the same
 * selector), and no port/protocol pair is used twice.
 */
export function sharingConflict(
  ip: string,
  svc: ShareInfo,
  holders: readonly ShareInfo[],
): string | undefined {
  // in key order, so the reason names the same holder whatever order they arrived in
  const ordered = holders.length > 1 ? [...holders].sort((a, b) => (a.key < b.key ? -1 : 1)) : holders;
  for (const h of ordered) {
    if (h.key === svc.key) continue;
    if (h.sharingKey === undefined) return `IP ${ip} is in use by service ${h.key}`;
    if (svc.sharingKey === undefined) {
      return `IP ${ip} is in use by service ${h.key} (it allows sharing with key "${h.sharingKey}"; set allow-shared-ip to share)`;
    }
    if (h.sharingKey !== svc.sharingKey) {
      return `IP ${ip} is shared by service ${h.key} with key "${h.sharingKey}", not "${svc.sharingKey}"`;
    }
    if (h.trafficPolicy !== svc.trafficPolicy) {
      return `IP ${ip} is shared by service ${h.key} with externalTrafficPolicy ${h.trafficPolicy}; services sharing an IP need the same policy`;
    }
    if (h.backendKey !== svc.backendKey) {
      return `IP ${ip} is shared by service ${h.key} with a different selector; Local services sharing an IP must select the same pods`;
    }
    for (const p of svc.ports) {
      if (h.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) {
        return `IP ${ip} is shared by service ${h.key} with overlapping port ${p.port}/${p.protocol}`;
      }
    }
  }
  return undefined;
}
