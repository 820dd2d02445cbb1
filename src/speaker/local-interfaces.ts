import { type InterfaceAddress, interfaceAddresses, interfaceIndex } from '../datapath/netdev.js';
import type { NodeInterface } from '../l2/interfaces.js';

/**
 * The interfaces of this host (its network namespace) that Herald may announce on, with their
 * addresses: the ones named with --interface, or every interface with an address except loopback.
 * Link-local IPv6 addresses are left out: VIPs never live in fe80::/10; so are host prefixes.
 */
export function localInterfaces(only: readonly string[] = []): NodeInterface[] {
  const { found, missing } = scanInterfaces(only);
  if (missing.length > 0) {
    throw new Error(`interface(s) not found or without an address: ${missing.join(', ')}`);
  }
  return found;
}

/**
 * localInterfaces without the failure: the named interfaces missing now (or without an address) are
 * listed apart. A running speaker reads its interfaces with this: one may come (back) later.
 */
export function scanInterfaces(only: readonly string[] = []): { found: NodeInterface[]; missing: string[] } {
  // Loopback is never announced on, and may hold every VIP (plain hosts): not even read.
  const { addresses, macs } = interfaceAddresses(['lo']);
  return interfacesFrom(addresses, macs, only);
}

/**
 * The announceable interfaces among these addresses, pure: every running interface with an address
 * except loopback (or only the `only` ones), sorted by name, addresses in the order given.
 */
export function interfacesFrom(
  addresses: readonly InterfaceAddress[],
  macs: ReadonlyMap<string, Buffer>,
  only: readonly string[] = [],
): { found: NodeInterface[]; missing: string[] } {
  const wanted = new Set(only);
  const cidrsOf = new Map<string, string[]>();
  for (const a of addresses) {
    // Down or without carrier: as without an address (what os.networkInterfaces() did).
    if (a.name === 'lo' || !a.running || (wanted.size > 0 && !wanted.has(a.name))) continue;
    const cidr = `${a.address}/${a.prefixLength}`;
    // Host routes (/32, /128) are not LANs: kube-proxy in IPVS mode puts every ClusterIP and VIP on
    // kube-ipvs0 as one, and such an interface must neither win the VIP's subnet nor bloat the metadata.
    if (a.address.startsWith('fe80:') || isHostPrefix(cidr) || a.loopback) continue;
    const list = cidrsOf.get(a.name) ?? [];
    list.push(cidr);
    cidrsOf.set(a.name, list);
  }
  const result: NodeInterface[] = [];
  for (const [name, cidrs] of cidrsOf) {
    const mac = macs.get(name)?.toString('hex');
    result.push({ name, cidrs, ...(mac && mac !== '000000000000' ? { mac } : {}) });
  }
  const missing = [...wanted].filter((n) => !result.some((r) => r.name === n));
  return { found: result.sort((a, b) => a.name.localeCompare(b.name)), missing };
}

function isHostPrefix(cidr: string): boolean {
  return cidr.endsWith(cidr.includes(':') ? '/128' : '/32');
}

/** Whether the kernel knows an interface by this name (with or without an address). */
export function interfaceExists(ifname: string): boolean {
  try {
    interfaceIndex(ifname);
    return true;
  } catch {
    return false;
  }
}
