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
 * Sends one complete Ethernet frame (destination MAC first) out of `ifname` through a throwaway AF_PACKET
 * socket; returns the bytes sent. For tools and tests: its close waits in synchronize_net() (10-20 ms), so
 * anything sending more than a few frames uses a long-lived PacketSocket or a FrameSender.
 */
export function sendRawFrame(ifname: string, frame: Buffer): number {
  const ifindex = interfaceIndex(ifname);
  return callNative(`interface ${ifname}`, () => datapathNative().packetSend(ifindex, frame));
}

/** MAC text helpers live with the other pure encoders. */
export { formatMac, parseMac } from './xdp-layout.js';
