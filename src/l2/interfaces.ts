import ipaddr from 'ipaddr.js';

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

/** The VIP's address; a VIP's decision runs every round, so the last few thousand are kept. */
const parsedAddresses = new Map<string, ipaddr.IPv4 | ipaddr.IPv6>();
const PARSED_ADDRESSES_MAX = 65536;

function parsedAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  let address = parsedAddresses.get(ip);
  if (!address) {
    address = ipaddr.parse(ip);
    if (parsedAddresses.size >= PARSED_ADDRESSES_MAX) parsedAddresses.clear();
    parsedAddresses.set(ip, address);
  }
  return address;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parsed prefixes by text: every VIP's decision looks at every node's prefixes, which rarely change. */
const parsedCidrs = new Map<string, Cidr | null>();
const PARSED_CIDRS_MAX = 4096;

/** A gossiped prefix from another node; undefined for one that does not parse (it is ignored). */
function parseCidr(cidr: string): Cidr | undefined {
  const known = parsedCidrs.get(cidr);
  if (known !== undefined) return known ?? undefined;
  let parsed: Cidr | null;
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    parsed = null;
  }
  // Prefixes come from gossip: bound what an odd peer can make this keep.
  if (parsedCidrs.size >= PARSED_CIDRS_MAX) parsedCidrs.clear();
  parsedCidrs.set(cidr, parsed);
  return parsed ?? undefined;
}
