import ipaddr from 'ipaddr.js';

/** Builders for the frames a new owner sends: XDP cannot originate packets, so these go out via AF_PACKET. */

const BROADCAST = Buffer.from('ffffffffffff', 'hex');
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;

function ethernet(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(14);
  dst.copy(header, 0);
  src.copy(header, 6);
  header.writeUInt16BE(type, 12);
  return Buffer.concat([header, payload]);
}

function arp(op: 1 | 2, senderMac: Buffer, senderIp: Buffer, targetMac: Buffer, targetIp: Buffer): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0); // Ethernet
  b.writeUInt16BE(0x0800, 2); // IPv4
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(op, 6);
  senderMac.copy(b, 8);
  senderIp.copy(b, 14);
  targetMac.copy(b, 18);
  targetIp.copy(b, 24);
  return b;
}

function ipv4Bytes(ip: string): Buffer {
  const a = ipaddr.parse(ip);
  if (a.kind() !== 'ipv4') throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(a.toByteArray());
}

function ipv6Bytes(ip: string): Buffer {
  const a = ipaddr.parse(ip);
  if (a.kind() !== 'ipv6') throw new Error(`not an IPv6 address: ${ip}`);
  return Buffer.from(a.toByteArray());
}

/** Gratuitous ARP as both a request and a reply (some stacks only honour one), broadcast. */
export function gratuitousArp(vip: string, mac: Buffer): Buffer[] {
  const ip = ipv4Bytes(vip);
  return [
    ethernet(BROADCAST, mac, ETH_P_ARP, arp(1, mac, ip, Buffer.alloc(6), ip)),
    ethernet(BROADCAST, mac, ETH_P_ARP, arp(2, mac, ip, BROADCAST, ip)),
  ];
}

/** Unicast ARP reply telling one client that `vip` is now at `mac` (spread-mode bucket moves). */
export function unicastArpReply(vip: string, mac: Buffer, clientIp: string, clientMac: Buffer): Buffer {
  return ethernet(clientMac, mac, ETH_P_ARP, arp(2, mac, ipv4Bytes(vip), clientMac, ipv4Bytes(clientIp)));
}

/** Unsolicited (or unicast) neighbor advertisement with Override and a target link-layer option. */
export function neighborAdvertisement(vip: string, mac: Buffer, to?: { ip: string; mac: Buffer }): Buffer {
  const src = ipv6Bytes(vip);
  const dstIp = to ? ipv6Bytes(to.ip) : ipv6Bytes('ff02::1');
  const dstMac = to ? to.mac : Buffer.from([0x33, 0x33, 0, 0, 0, 1]);
  const icmp = Buffer.alloc(32);
  icmp[0] = 136; // Neighbor Advertisement
  icmp[4] = 0x20; // Override; never Solicited, since nobody asked (RFC 4861 7.2.6)
  src.copy(icmp, 8);
  icmp[24] = 2; // target link-layer address option
  icmp[25] = 1;
  mac.copy(icmp, 26);
  icmp.writeUInt16BE(icmpv6Checksum(src, dstIp, icmp), 2);
  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = 58;
  ip6[7] = 255;
  src.copy(ip6, 8);
  dstIp.copy(ip6, 24);
  return ethernet(dstMac, mac, ETH_P_IPV6, Buffer.concat([ip6, icmp]));
}

export function icmpv6Checksum(src: Buffer, dst: Buffer, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  let sum = 0;
  const add = (buf: Buffer) => {
    for (let i = 0; i < buf.length; i += 2) sum += (buf[i] ?? 0) * 256 + (buf[i + 1] ?? 0);
  };
  add(pseudo);
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Frames announcing `vip` at `mac` to the whole segment. */
export function announcementFrames(vip: string, mac: Buffer): Buffer[] {
  return ipaddr.parse(vip).kind() === 'ipv4' ? gratuitousArp(vip, mac) : [neighborAdvertisement(vip, mac)];
}

/** Frame telling one learned client that `vip` is at `mac`. */
export function clientRedirectFrame(vip: string, mac: Buffer, clientIp: string, clientMac: Buffer): Buffer {
  return ipaddr.parse(vip).kind() === 'ipv4'
    ? unicastArpReply(vip, mac, clientIp, clientMac)
    : neighborAdvertisement(vip, mac, { ip: clientIp, mac: clientMac });
}
