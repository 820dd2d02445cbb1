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

/** 'aa:bb:cc:dd:ee:ff' → 6 bytes. */
export function parseMac(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new Error(`malformed MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** 6 bytes → 'aa:bb:cc:dd:ee:ff'. */
export function formatMac(mac: Buffer): string {
  if (mac.length !== 6) throw new Error(`a MAC address has 6 bytes, got ${mac.length}`);
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
