import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * An IPv4 or IPv6 address as its 4 or 16 network-order bytes (v4-mapped IPv6 text gives the 4 IPv4 bytes);
 * throws on anything else.
 */
export function addressBytes(ip: string): Buffer {
  // isIPv4 admits only plain dotted decimal (no leading zeros, no other radix): split it directly, at
  // 10,000 VIPs per datapath write the parser's cost shows.
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (isIPv6(ip)) {
    const v6 = ipaddr.IPv6.parse(ip);
    return Buffer.from(v6.isIPv4MappedAddress() ? v6.toIPv4Address().toByteArray() : v6.toByteArray());
  }
  throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
}
