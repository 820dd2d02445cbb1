import { networkInterfaces } from 'node:os';
import { interfaceIndex } from '../datapath/netdev.js';
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
  const wanted = new Set(only);
  const result: NodeInterface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!addrs || name === 'lo') continue;
    if (wanted.size > 0 && !wanted.has(name)) continue;
    // Host routes (/32, /128) are not LANs: kube-proxy in IPVS mode puts every ClusterIP and VIP on
    // kube-ipvs0 as one, and such an interface must neither win the VIP's subnet nor bloat the metadata.
    const cidrs = addrs
      .filter((a) => !a.internal && !a.address.startsWith('fe80:') && a.cidr && !isHostPrefix(a.cidr))
      .map((a) => a.cidr as string);
    const mac = addrs[0]?.mac.replace(/:/g, '').toLowerCase();
    if (cidrs.length > 0) result.push({ name, cidrs, ...(mac && /^[0-9a-f]{12}$/.test(mac) ? { mac } : {}) });
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
