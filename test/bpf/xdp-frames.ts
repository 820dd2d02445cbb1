/**
 * Frame builders and an independent RFC 1071 checksum for the XDP program tests. Written from the RFCs
 * (826, 4861, 8200), deliberately sharing no code with bpf/ or src/datapath/.
 */
import { isIPv4 } from 'node:net';

export const BROADCAST = Buffer.from('ffffffffffff', 'hex');
export const CLIENT_MAC = Buffer.from('020000000001', 'hex');
export const VIP_MAC = Buffer.from('0200000000aa', 'hex');

export interface Tag {
  tpid: number; // 0x8100 or 0x88a8
  vid: number;
  pcp?: number;
}

export function v4(ip: string): Buffer {
  if (!isIPv4(ip)) throw new Error(`bad IPv4 ${ip}`);
  return Buffer.from(ip.split('.').map(Number));
}

/** Minimal IPv6 text parser (handles :: compression), independent of ipaddr.js. */
export function v6(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad IPv6 ${ip}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function ethHeader(dst: Buffer, src: Buffer, tags: Tag[], ethertype: number): Buffer {
  const parts = [dst, src];
  for (const tag of tags) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tag.tpid, 0);
    t.writeUInt16BE(((tag.pcp ?? 0) << 13) | tag.vid, 2);
    parts.push(t);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(ethertype, 0);
  parts.push(et);
  return Buffer.concat(parts);
}

export interface ArpOpts {
  op?: number;
  sha?: Buffer;
  spa: string;
  tha?: Buffer;
  tpa: string;
  tags?: Tag[];
  ethDst?: Buffer;
  ethSrc?: Buffer;
  padTo?: number; // Ethernet minimum frame padding (without FCS): 60
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
}

export function arpBody(o: ArpOpts): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(o.htype ?? 1, 0);
  b.writeUInt16BE(o.ptype ?? 0x0800, 2);
  b[4] = o.hlen ?? 6;
  b[5] = o.plen ?? 4;
  b.writeUInt16BE(o.op ?? 1, 6);
  (o.sha ?? CLIENT_MAC).copy(b, 8);
  v4(o.spa).copy(b, 14);
  (o.tha ?? Buffer.alloc(6)).copy(b, 18);
  v4(o.tpa).copy(b, 24);
  return b;
}

export function arpFrame(o: ArpOpts): Buffer {
  const f = Buffer.concat([
    ethHeader(o.ethDst ?? BROADCAST, o.ethSrc ?? o.sha ?? CLIENT_MAC, o.tags ?? [], 0x0806),
    arpBody(o),
  ]);
  return o.padTo && f.length < o.padTo ? Buffer.concat([f, Buffer.alloc(o.padTo - f.length)]) : f;
}

/** RFC 1071 ones-complement sum of 16-bit big-endian words, folded and complemented. */
export function internetChecksum(...chunks: Buffer[]): number {
  const all = Buffer.concat(chunks);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i] ?? 0) * 256 + (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function icmpv6Checksum(src: Buffer, dst: Buffer, msg: Buffer): number {
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(msg.length, 32);
  pseudo[39] = 58;
  return internetChecksum(pseudo, msg);
}

export function ipv6Header(
  src: Buffer,
  dst: Buffer,
  payloadLen: number,
  nextHeader: number,
  hopLimit: number,
): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLen, 4);
  h[6] = nextHeader;
  h[7] = hopLimit;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

/** Solicited-node multicast address ff02::1:ffXX:XXXX of target, and its 33:33 MAC. */
export function solicitedNode(target: Buffer): { ip: Buffer; mac: Buffer } {
  const ip = v6('ff02::1:ff00:0');
  target.copy(ip, 13, 13, 16);
  const mac = Buffer.concat([Buffer.from([0x33, 0x33]), ip.subarray(12, 16)]);
  return { ip, mac };
}

export interface NsOpts {
  src: string; // '::' for DAD
  target: string;
  slla?: Buffer | null; // null = no option
  extraOptions?: Buffer; // appended after SLLA (e.g. a nonce option)
  tags?: Tag[];
  hopLimit?: number;
  ethSrc?: Buffer;
  dst?: string; // default: solicited-node multicast of target
}

export function nsFrame(o: NsOpts): Buffer {
  const target = v6(o.target);
  const sn = solicitedNode(target);
  const dst = o.dst ? v6(o.dst) : sn.ip;
  const ethDst = o.dst ? VIP_MAC : sn.mac;
  const opts: Buffer[] = [];
  const slla = o.slla === undefined ? (o.ethSrc ?? CLIENT_MAC) : o.slla;
  if (slla) opts.push(Buffer.concat([Buffer.from([1, 1]), slla]));
  if (o.extraOptions) opts.push(o.extraOptions);
  const msg = Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), target, ...opts]);
  msg.writeUInt16BE(icmpv6Checksum(v6(o.src), dst, msg), 2);
  return Buffer.concat([
    ethHeader(ethDst, o.ethSrc ?? CLIENT_MAC, o.tags ?? [], 0x86dd),
    ipv6Header(v6(o.src), dst, msg.length, 58, o.hopLimit ?? 255),
    msg,
  ]);
}

/** The NA the responder must send, built independently: every byte and the checksum. */
export function expectedNa(o: {
  reqMac: Buffer;
  src: string;
  target: string;
  mac: Buffer;
  tags?: Tag[];
}): Buffer {
  const dad = o.src === '::';
  const dst = dad ? v6('ff02::1') : v6(o.src);
  const ethDst = dad ? Buffer.from('333300000001', 'hex') : o.reqMac;
  const msg = Buffer.concat([
    Buffer.from([136, 0, 0, 0, dad ? 0x20 : 0x60, 0, 0, 0]),
    v6(o.target),
    Buffer.from([2, 1]),
    o.mac,
  ]);
  msg.writeUInt16BE(icmpv6Checksum(v6(o.target), dst, msg), 2);
  return Buffer.concat([
    ethHeader(ethDst, o.mac, o.tags ?? [], 0x86dd),
    ipv6Header(v6(o.target), dst, msg.length, 58, 255),
    msg,
  ]);
}

export function ipv4Frame(o: { src: string; dst: string; payload?: number; tags?: Tag[] }): Buffer {
  const payload = Buffer.alloc(o.payload ?? 8);
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = 17;
  v4(o.src).copy(h, 12);
  v4(o.dst).copy(h, 16);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([ethHeader(VIP_MAC, CLIENT_MAC, o.tags ?? [], 0x0800), h, payload]);
}

export function ipv6Frame(o: { src: string; dst: string; payload?: number; tags?: Tag[] }): Buffer {
  const payload = Buffer.alloc(o.payload ?? 8);
  return Buffer.concat([
    ethHeader(VIP_MAC, CLIENT_MAC, o.tags ?? [], 0x86dd),
    ipv6Header(v6(o.src), v6(o.dst), payload.length, 17, 64),
    payload,
  ]);
}
