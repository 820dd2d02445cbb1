import ipaddr from 'ipaddr.js';

/** IP address arithmetic on bigints: one representation for IPv4 and IPv6, no per-address memory. */

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  value: bigint;
}

/** An inclusive range of addresses of one family, as written in a pool (`CIDR` or `start-end`). */
export interface AddressRange {
  family: Family;
  start: bigint;
  end: bigint;
  /** Prefix length when the range was written as a CIDR. */
  prefix?: number;
  /** The text it was parsed from. */
  text: string;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a plain IPv4 dotted quad or IPv6 address (no zone, no prefix). */
export function parseIp(text: string): ParsedIp | undefined {
  const m = V4_RE.exec(text);
  if (m) {
    let v = 0;
    for (let i = 1; i <= 4; i++) {
      const part = m[i] as string;
      if (part.length > 1 && part.startsWith('0')) return undefined;
      const n = Number(part);
      if (n > 255) return undefined;
      v = v * 256 + n;
    }
    return { family: 4, value: BigInt(v) };
  }
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  const bytes = ipaddr.IPv6.parse(text).toByteArray();
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: 6, value: v };
}

/** Formats an address canonically (dotted quad; RFC 5952 for IPv6). */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const bytes: number[] = new Array<number>(16);
  let v = value;
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(v & 255n);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical text of an address, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const p = parseIp(text);
  return p ? formatIp(p.family, p.value) : undefined;
}

export const isIp = (text: string): boolean => parseIp(text) !== undefined;
export const isIpv4 = (text: string): boolean => parseIp(text)?.family === 4;

/** Parses `10.0.0.0/24`, `10.0.0.5-10.0.0.9` (spaces allowed around `-`) or a single address. */
export function parseAddressRange(text: string): AddressRange | string {
  const t = text.trim();
  if (t.includes('/')) {
    const [addr = '', len = '', ...rest] = t.split('/');
    const ip = parseIp(addr);
    if (!ip || rest.length > 0) return `"${text}" is not a valid CIDR: "${addr}" is not an IP address`;
    const bits = familyBits(ip.family);
    if (!/^\d{1,3}$/.test(len) || Number(len) > bits) {
      return `"${text}" is not a valid CIDR: prefix length must be 0..${bits}`;
    }
    const prefix = Number(len);
    const hostBits = BigInt(bits - prefix);
    const start = (ip.value >> hostBits) << hostBits;
    const end = start + (1n << hostBits) - 1n;
    return { family: ip.family, start, end, prefix, text };
  }
  if (t.includes('-')) {
    const parts = t.split('-').map((s) => s.trim());
    if (parts.length !== 2) return `"${text}" is not a valid range: expected START-END`;
    const a = parseIp(parts[0] as string);
    const b = parseIp(parts[1] as string);
    if (!a) return `"${text}" is not a valid range: "${parts[0]}" is not an IP address`;
    if (!b) return `"${text}" is not a valid range: "${parts[1]}" is not an IP address`;
    if (a.family !== b.family) return `"${text}" mixes IPv4 and IPv6`;
    if (a.value > b.value)
      return `"${text}" is not a valid range: start ${parts[0]} is after end ${parts[1]}`;
    return { family: a.family, start: a.value, end: b.value, text };
  }
  const ip = parseIp(t);
  if (!ip) return `"${text}" is neither a CIDR, a START-END range nor an IP address`;
  return { family: ip.family, start: ip.value, end: ip.value, prefix: familyBits(ip.family), text };
}

/** The smallest list of CIDR blocks exactly covering a range. */
export function rangeToCidrs(r: AddressRange): Array<{ value: bigint; prefix: number }> {
  const bits = familyBits(r.family);
  const out: Array<{ value: bigint; prefix: number }> = [];
  let cur = r.start;
  while (cur <= r.end) {
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const mask = (1n << BigInt(next)) - 1n;
      if ((cur & mask) !== 0n || cur + mask > r.end) break;
      size = next;
    }
    out.push({ value: cur, prefix: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/** Number of addresses in a range. */
export const rangeSize = (r: AddressRange): bigint => r.end - r.start + 1n;

export const rangesOverlap = (a: AddressRange, b: AddressRange): boolean =>
  a.family === b.family && a.start <= b.end && b.start <= a.end;

/** MetalLB's "buggy IPs": IPv4 addresses ending in .0 or .255 (broken CPE drops them). */
export const isBuggyIp = (family: Family, value: bigint): boolean => {
  if (family !== 4) return false;
  const last = value & 255n;
  return last === 0n || last === 255n;
};
