import { callNative } from './errors.js';
import { datapathNative, type InterfaceAddress } from './native.js';

export type { InterfaceAddress } from './native.js';

/**
 * Network-device helpers that answer for the network namespace the process runs in (ioctl, not
 * /sys/class/net, which under `nsenter --net` still shows the host's devices).
 */

/** Interface index of `ifname`; BpfError (ENODEV) when it does not exist. */
export function interfaceIndex(ifname: string): number {
  return callNative(`interface ${ifname}`, () => datapathNative().interfaceIndex(ifname));
}

/** The 6-byte hardware address of `ifname`. */
export function interfaceMac(ifname: string): Buffer {
  return callNative(`interface ${ifname}`, () => datapathNative().interfaceMac(ifname));
}

/**
 * The addresses of every interface of this namespace except the `skip` ones (never even read: the kernel
 * dumps each wanted interface alone), and each interface's MAC. os.networkInterfaces() reads every
 * address of every interface and restarts while they change: with 10,000 VIPs held on lo a speaker's
 * interface scan took 0.2 s quiet and up to 10 s while the VIPs were being added (bench/scale).
 */
export function interfaceAddresses(skip: readonly string[] = []): {
  addresses: InterfaceAddress[];
  macs: Map<string, Buffer>;
} {
  const raw = callNative('getifaddrs', () => datapathNative().interfaceAddresses(skip));
  return { addresses: raw.addresses, macs: new Map(Object.entries(raw.macs)) };
}

/**
 * Sends one complete Ethernet frame (destination MAC first) out of `ifname` through a throwaway AF_PACKET
 * socket; returns the bytes sent. For tools and tests: its close waits in synchronize_net() (10-20 ms), so
 * anything sending more than a few frames uses a long-lived PacketSocket or a FrameSender.
 */
export function sendRawFrame(ifname: string, frame: Buffer): number {
  const ifindex = interfaceIndex(ifname);
  return callNative(`interface ${ifname}`, () => datapathNative().packetSend(ifindex, frame));
}

/** The addresses of one interface alone (none when it does not exist). */
export function addressesOf(ifname: string): InterfaceAddress[] {
  return callNative(`interface ${ifname}`, () => datapathNative().interfaceAddresses([], [ifname])).addresses;
}

/** MAC text helpers live with the other pure encoders. */
export { formatMac, parseMac } from './xdp-layout.js';
