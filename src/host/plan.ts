/**
 * Which VIP addresses to add to and remove from the host interface that holds them (`lo` by default).
 * Herald only ever removes what it added: an address that was there before (put by hand, by keepalived,
 * by kube-proxy) is left alone even when Herald stops serving that VIP. Pure.
 */
export interface HostAddressPlan {
  add: string[];
  remove: string[];
  /** Addresses Herald owns after the plan is applied. */
  ours: string[];
}

export function planHostAddresses(
  want: ReadonlySet<string>,
  present: ReadonlySet<string>,
  ours: ReadonlySet<string>,
): HostAddressPlan {
  const add = [...want].filter((ip) => !present.has(ip)).sort();
  const remove = [...ours].filter((ip) => !want.has(ip) && present.has(ip)).sort();
  // An address someone else put there stays theirs; one of ours that vanished is forgotten.
  const kept = [...ours].filter((ip) => want.has(ip) && present.has(ip));
  return { add, remove, ours: [...new Set([...kept, ...add])].sort() };
}

/** Prefix length of a host address: /32 or /128. */
export const hostPrefix = (ip: string): string => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);

/**
 * The sysctls that keep the kernel silent on the LAN for addresses on another interface: reply to ARP
 * only for addresses of the receiving interface (arp_ignore=1) and never use such an address as the
 * sender of ARP requests (arp_announce=2). `all` counts as the maximum with each interface's own value.
 * IPv6 needs none: Linux answers neighbor solicitations only for addresses of the receiving interface,
 * and Herald adds IPv6 VIPs as deprecated (preferred_lft 0) so they are never chosen as a source.
 */
export const HOST_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ['net/ipv4/conf/all/arp_ignore', '1'],
  ['net/ipv4/conf/all/arp_announce', '2'],
];

/** The sysctls to write: those whose current value is lower than needed (never lowers a stricter one). */
export function planSysctls(
  current: ReadonlyMap<string, string | undefined>,
): Array<readonly [string, string]> {
  return HOST_SYSCTLS.filter(([key, value]) => {
    const now = Number(current.get(key));
    return !Number.isFinite(now) || now < Number(value);
  });
}
