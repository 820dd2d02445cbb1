import { callNative } from './errors.js';
import { datapathNative } from './native.js';

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
 * Sends one complete Ethernet frame (destination MAC first) out of `ifname` through an AF_PACKET socket;
 * returns the bytes sent. For gratuitous ARP / unsolicited NA, which XDP cannot originate.
 */
export function sendRawFrame(ifname: string, frame: Buffer): number {
  const ifindex = interfaceIndex(ifname);
  return callNative(`interface ${ifname}`, () => datapathNative().packetSend(ifindex, frame));
}

/** MAC text helpers live with the other pure encoders. */
export { formatMac, parseMac } from './xdp-layout.js';
