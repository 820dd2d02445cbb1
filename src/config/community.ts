/** BGP community strings as MetalLB writes them. */

export type ParsedCommunity =
  | { type: 'standard'; value: number } // RFC 1997: high 16 bits : low 16 bits
  | { type: 'large'; global: number; local1: number; local2: number }; // RFC 8092

/** Well-known names MetalLB documents; Herald accepts them directly too. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, string>> = {
  NO_EXPORT: '65535:65281',
  NO_ADVERTISE: '65535:65282',
  NO_EXPORT_SUBCONFED: '65535:65283',
};

const u = (s: string, max: number): number | undefined => {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
};

/** Parses `65000:100` or `large:65000:1:2`; returns a message saying what is wrong otherwise. */
export function parseCommunity(text: string): ParsedCommunity | string {
  const parts = text.split(':');
  if (parts[0] === 'large') {
    if (parts.length !== 4) return `"${text}" is not a large community: expected large:GLOBAL:LOCAL1:LOCAL2`;
    const [g, a, b] = parts.slice(1).map((p) => u(p, 0xffffffff));
    if (g === undefined || a === undefined || b === undefined) {
      return `"${text}" is not a large community: each part must be a number 0..4294967295`;
    }
    return { type: 'large', global: g, local1: a, local2: b };
  }
  if (parts.length !== 2) {
    return `"${text}" is not a community: expected two 16-bit numbers like 65000:100, large:A:B:C, or an alias defined in a Community object`;
  }
  const hi = u(parts[0] as string, 0xffff);
  const lo = u(parts[1] as string, 0xffff);
  if (hi === undefined || lo === undefined)
    return `"${text}" is not a community: both parts must be numbers 0..65535`;
  return { type: 'standard', value: hi * 65536 + lo };
}

/** True when the text looks like a community value rather than an alias name. */
export const looksLikeCommunityValue = (text: string): boolean => text.includes(':');
