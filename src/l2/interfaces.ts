import ipaddr from 'ipaddr.js';
import { boundedMemo } from '../util/memo.js';

/** A node's interface as gossiped in its metadata: name and the prefixes configured on it. */
export interface NodeInterface {
  name: string;
  /** Addresses in CIDR notation, e.g. 10.0.0.11/24, fd00::11/64. */
  cidrs: readonly string[];
  /** Its MAC, 12 lowercase hex digits (flow mode steers frames to it); absent from older speakers. */
  mac?: string;
}

/**
 * Interfaces a node announces `ip` on. With explicit names (from L2Advertisement.spec.interfaces) it is
 * the node's interfaces among them; otherwise it is the interface whose on-link prefix holds the IP,
 * the longest prefix winning, as the kernel's route to the VIP's subnet would pick.
 */
export function interfacesForVip(
  ip: string,
  nodeInterfaces: readonly NodeInterface[],
  requested: readonly string[],
): string[] {
  if (requested.length > 0) {
    const wanted = new Set(requested);
    return nodeInterfaces.filter((i) => wanted.has(i.name)).map((i) => i.name);
  }
  const address = parsedAddress(ip);
  let best: { name: string; bits: number } | undefined;
  for (const iface of nodeInterfaces) {
    for (const cidr of iface.cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) continue;
      const [net, bits] = parsed;
      // A host prefix is an address, not a LAN the VIP could be reached on.
      if (net.kind() !== address.kind() || bits === 0 || bits === (net.kind() === 'ipv4' ? 32 : 128))
        continue;
      if (address.match(net, bits) && (!best || bits > best.bits)) best = { name: iface.name, bits };
    }
  }
  return best ? [best.name] : [];
}

/** VIP addresses and node prefixes, parsed once: every round decides every VIP against every node's prefixes. */
const parsedAddress = boundedMemo(65536, (ip) => ipaddr.parse(ip));

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A gossiped prefix from another node; undefined for one that does not parse (it is ignored). */
const parseCidr = boundedMemo(4096, (cidr): Cidr | undefined => {
  try {
    return ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
});
