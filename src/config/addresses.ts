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
  return parseIpv6(text);
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** IPv6 text (RFC 4291 forms, including "::" and a trailing dotted quad) to its 128-bit value. */
function parseIpv6(text: string): ParsedIp | undefined {
  if (!text.includes(':') || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i] as string;
      if (last && i === items.length - 1 && g.includes('.')) {
        const v4 = parseIp(g);
        if (!v4 || v4.family !== 4) return undefined;
        const n = Number(v4.value);
        out.push(Math.floor(n / 65536), n & 0xffff);
      } else if (HEX_GROUP.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1] as string, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  // 32-bit words (a Number holds them exactly), combined as bigints
  const w = (i: number): bigint => BigInt((all[i] as number) * 65536 + (all[i + 1] as number));
  return { family: 6, value: (w(0) << 96n) | (w(2) << 64n) | (w(4) << 32n) | w(6) };
}

/** Formats an address canonically (dotted quad; RFC 5952 for IPv6). */
export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  return formatIpv6(value);
}

const M32 = 0xffffffffn;

/** RFC 5952 text of a 128-bit value: lowercase, no leading zeros, longest run (≥ 2) of zero groups as "::". */
function formatIpv6(value: bigint): string {
  const words = [
    Number((value >> 96n) & M32),
    Number((value >> 64n) & M32),
    Number((value >> 32n) & M32),
    Number(value & M32),
  ];
  const g: number[] = [];
  for (const w of words) g.push(Math.floor(w / 65536), w & 0xffff);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
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
