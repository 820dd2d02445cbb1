/**
 * Frames and the expected slot for the flow-steering tests, written from the RFCs (791, 8200) and the
 * MurmurHash3 reference (x86_32), sharing no code with bpf/ or src/datapath/.
 */
import { isIPv4 } from 'node:net';
import {
  CLIENT_MAC,
  ethHeader,
  internetChecksum,
  ipv6Header,
  v4,
  v6,
  VIP_MAC,
  type Tag,
} from './xdp-frames.js';

export const SLOTS = 4096;

function mul32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** MurmurHash3_x86_32(data, seed 0). */
export function murmur3(data: Buffer): number {
  let h = 0;
  const blocks = Math.floor(data.length / 4);
  for (let i = 0; i < blocks; i++) {
    let k = data.readUInt32LE(i * 4);
    k = mul32(k, 0xcc9e2d51);
    k = rotl(k, 15);
    k = mul32(k, 0x1b873593);
    h = (h ^ k) >>> 0;
    h = rotl(h, 13);
    h = (mul32(h, 5) + 0xe6546b64) >>> 0;
  }
  if (data.length % 4 !== 0) throw new Error('flow keys are a whole number of blocks');
  h = (h ^ data.length) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = mul32(h, 0x85ebca6b);
  h = (h ^ (h >>> 13)) >>> 0;
  h = mul32(h, 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}

function key16(ip: string): Buffer {
  if (!isIPv4(ip)) return v6(ip);
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  v4(ip).copy(b, 12);
  return b;
}

/** The documented 40-byte flow key: src[16], dst[16], sport, dport (network order), proto, 3 pad. */
export function flowSlot(src: string, dst: string, proto: number, sport = 0, dport = 0): number {
  const k = Buffer.alloc(40);
  key16(src).copy(k, 0);
  key16(dst).copy(k, 16);
  k.writeUInt16BE(sport, 32);
  k.writeUInt16BE(dport, 34);
  k[36] = proto;
  return murmur3(k) % SLOTS;
}

export interface L4 {
  proto: number;
  sport?: number;
  dport?: number;
  /** bytes after the ports (or the whole payload for other protocols) */
  payload?: number;
}

function l4Bytes(l4: L4): Buffer {
  if (l4.proto !== 6 && l4.proto !== 17) return Buffer.alloc(l4.payload ?? 8, 0xab);
  const hdr = Buffer.alloc(l4.proto === 6 ? 20 : 8);
  hdr.writeUInt16BE(l4.sport ?? 0, 0);
  hdr.writeUInt16BE(l4.dport ?? 0, 2);
  return Buffer.concat([hdr, Buffer.alloc(l4.payload ?? 0, 0xcd)]);
}

export interface FrameOpts {
  src: string;
  dst: string;
  l4: L4;
  tags?: Tag[];
  ethSrc?: Buffer;
  ethDst?: Buffer;
  /** IPv4: flags+offset field (0x2000 = MF); ignored for IPv6 */
  fragField?: number;
  /** IPv6 extension headers, each [type, body length in bytes ≥ 6] (fragment header: 8 bytes total) */
  ext?: Array<[number, number]>;
  /** cut the frame to this many bytes */
  truncate?: number;
}

export function flowFrame(o: FrameOpts): Buffer {
  const eth = (et: number) => ethHeader(o.ethDst ?? VIP_MAC, o.ethSrc ?? CLIENT_MAC, o.tags ?? [], et);
  const body = l4Bytes(o.l4);
  let frame: Buffer;
  if (isIPv4(o.src)) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + body.length, 2);
    h.writeUInt16BE(0x1234, 4);
    h.writeUInt16BE(o.fragField ?? 0, 6);
    h[8] = 64;
    h[9] = o.l4.proto;
    v4(o.src).copy(h, 12);
    v4(o.dst).copy(h, 16);
    h.writeUInt16BE(internetChecksum(h), 10);
    frame = Buffer.concat([eth(0x0800), h, body]);
  } else {
    const exts: Buffer[] = [];
    const chain = o.ext ?? [];
    chain.forEach(([type, len], i) => {
      const next = chain[i + 1]?.[0] ?? o.l4.proto;
      if (type === 44) {
        const f = Buffer.alloc(8);
        f[0] = next;
        f.writeUInt16BE(len, 2); // offset/flags as given
        f.writeUInt32BE(0xbeef, 4);
        exts.push(f);
        return;
      }
      const total = Math.ceil((len + 2) / 8) * 8;
      const e = Buffer.alloc(total);
      e[0] = next;
      e[1] = total / 8 - 1;
      exts.push(e);
    });
    const payload = Buffer.concat([...exts, body]);
    const first = chain[0]?.[0] ?? o.l4.proto;
    frame = Buffer.concat([
      eth(0x86dd),
      ipv6Header(v6(o.src), v6(o.dst), payload.length, first, 64),
      payload,
    ]);
  }
  return o.truncate === undefined ? frame : frame.subarray(0, o.truncate);
}

/** The frame as the owner must send it to `mac`: only the two Ethernet addresses differ. */
export function steered(frame: Buffer, targetMac: Buffer, ownMac: Buffer = VIP_MAC): Buffer {
  const out = Buffer.from(frame);
  targetMac.copy(out, 0);
  ownMac.copy(out, 6);
  return out;
}
