import ipaddr from 'ipaddr.js';
import type { BgpError } from './errors.js';

export type Family = 'ipv4' | 'ipv6';

/** Address family of a prefix or address written in text ("10.0.0.1/32", "2001:db8::1"). */
export function familyOf(text: string): Family {
  return text.includes(':') ? 'ipv6' : 'ipv4';
}

export function addressBytes(addr: string): Buffer {
  if (!ipaddr.isValid(addr)) throw new Error(`invalid IP address: ${addr}`);
  return Buffer.from(ipaddr.parse(addr).toByteArray());
}

export function addressText(bytes: Buffer): string {
  return ipaddr.fromByteArray([...bytes]).toString();
}

/** Canonical text of a prefix: host bits cleared, RFC 5952 IPv6. Throws on invalid input. */
export function normalizePrefix(prefix: string): string {
  const [addr, len] = ipaddr.parseCIDR(prefix.includes('/') ? prefix : withHostLength(prefix));
  const bytes = addr.toByteArray();
  maskBytes(bytes, len);
  return `${ipaddr.fromByteArray(bytes).toString()}/${len}`;
}

function withHostLength(addr: string): string {
  return `${addr}/${familyOf(addr) === 'ipv4' ? 32 : 128}`;
}

function maskBytes(bytes: number[], len: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
}

/** NLRI encoding of one prefix (RFC 4271 §4.3): length in bits, then the minimum number of octets. */
export function encodePrefix(prefix: string): Buffer {
  const [addr, len] = ipaddr.parseCIDR(prefix);
  const bytes = addr.toByteArray();
  const n = Math.ceil(len / 8);
  const out = Buffer.alloc(1 + n);
  out[0] = len;
  for (let i = 0; i < n; i++) out[i + 1] = bytes[i] ?? 0;
  return out;
}

export function encodedPrefixLength(prefix: string): number {
  const slash = prefix.lastIndexOf('/');
  return 1 + Math.ceil(Number(prefix.slice(slash + 1)) / 8);
}

/**
 * Decodes a run of NLRI prefixes. Malformed input (length over the family's maximum, truncated prefix)
 * throws a BgpError built by `fail`, so the caller picks the RFC's code/subcode for its context.
 */
export function decodePrefixes(buf: Buffer, family: Family, fail: (why: string) => BgpError): string[] {
  const max = family === 'ipv4' ? 32 : 128;
  const size = max / 8;
  const out: string[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = buf.readUInt8(off++);
    if (len > max) throw fail(`prefix length ${len} exceeds ${max}`);
    const n = Math.ceil(len / 8);
    if (off + n > buf.length) throw fail(`prefix /${len} truncated`);
    const bytes = new Array<number>(size).fill(0);
    for (let i = 0; i < n; i++) bytes[i] = buf.readUInt8(off + i);
    maskBytes(bytes, len);
    off += n;
    out.push(`${ipaddr.fromByteArray(bytes).toString()}/${len}`);
  }
  return out;
}
