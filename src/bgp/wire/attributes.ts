import { AS_TRANS, Afi, AttrFlag, AttrType, ErrorCode, UpdateSubcode } from './constants.js';
import { BgpError, Cursor } from './errors.js';
import { addressBytes, addressText, decodePrefixes, encodePrefix, type Family } from './prefix.js';

export type Origin = 0 | 1 | 2; // IGP, EGP, INCOMPLETE

export interface AsPathSegment {
  type: 'set' | 'sequence';
  asns: number[];
}

export type LargeCommunity = readonly [number, number, number];

export interface MpReach {
  afi: number;
  safi: number;
  /** One address, or global + link-local for IPv6 (RFC 2545). */
  nextHops: string[];
  nlri: string[];
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn: string[];
}

export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  communities?: number[];
  largeCommunities?: LargeCommunity[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** Attributes this codec does not interpret (optional ones), kept verbatim. */
  unknown?: Array<{ flags: number; code: number; value: Buffer }>;
}

/** A problem RFC 7606 handles without resetting the session. */
export interface AttributeProblem {
  action: 'treat-as-withdraw' | 'attribute-discard';
  code: number;
  subcode: number;
  message: string;
}

export interface AttrContext {
  /** Both sides announced the 4-octet AS capability (RFC 6793): AS_PATH carries 4-octet ASNs. */
  fourOctetAs: boolean;
}

const WELL_KNOWN_FLAGS: Readonly<Record<number, number>> = {
  [AttrType.ORIGIN]: AttrFlag.TRANSITIVE,
  [AttrType.AS_PATH]: AttrFlag.TRANSITIVE,
  [AttrType.NEXT_HOP]: AttrFlag.TRANSITIVE,
  [AttrType.MED]: AttrFlag.OPTIONAL,
  [AttrType.LOCAL_PREF]: AttrFlag.TRANSITIVE,
  [AttrType.ATOMIC_AGGREGATE]: AttrFlag.TRANSITIVE,
  [AttrType.AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.MP_REACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.MP_UNREACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.AS4_PATH]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.AS4_AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.LARGE_COMMUNITY]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
};

export function familyOfAfi(afi: number): Family | undefined {
  return afi === Afi.IPV4 ? 'ipv4' : afi === Afi.IPV6 ? 'ipv6' : undefined;
}

// ---------------------------------------------------------------- encoding

function attr(code: number, value: Buffer): Buffer {
  const flags = WELL_KNOWN_FLAGS[code] ?? AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
  return rawAttr(flags, code, value);
}

function rawAttr(flags: number, code: number, value: Buffer): Buffer {
  if (value.length > 255) {
    const h = Buffer.alloc(4);
    h.writeUInt8(flags | AttrFlag.EXTENDED_LENGTH, 0);
    h.writeUInt8(code, 1);
    h.writeUInt16BE(value.length, 2);
    return Buffer.concat([h, value]);
  }
  return Buffer.concat([Buffer.from([flags & ~AttrFlag.EXTENDED_LENGTH, code, value.length]), value]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

function encodeAsPath(segments: AsPathSegment[], width: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    for (let i = 0; i < seg.asns.length || i === 0; i += 255) {
      const chunk = seg.asns.slice(i, i + 255);
      const b = Buffer.alloc(2 + width * chunk.length);
      b.writeUInt8(seg.type === 'set' ? 1 : 2, 0);
      b.writeUInt8(chunk.length, 1);
      chunk.forEach((asn, j) => {
        if (width === 4) b.writeUInt32BE(asn >>> 0, 2 + 4 * j);
        else b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + 2 * j);
      });
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function encodeMpReach(mp: MpReach): Buffer {
  const nh = Buffer.concat(mp.nextHops.map(addressBytes));
  const head = Buffer.alloc(4);
  head.writeUInt16BE(mp.afi, 0);
  head.writeUInt8(mp.safi, 2);
  head.writeUInt8(nh.length, 3);
  return Buffer.concat([head, nh, Buffer.from([0]), ...mp.nlri.map(encodePrefix)]);
}

function encodeMpUnreach(mp: MpUnreach): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(mp.afi, 0);
  head.writeUInt8(mp.safi, 2);
  return Buffer.concat([head, ...mp.withdrawn.map(encodePrefix)]);
}

/** Encodes path attributes in type-code order. With 2-octet peers, adds AS4_PATH when needed. */
export function encodeAttributes(a: PathAttributes, ctx: AttrContext): Buffer {
  const out: Buffer[] = [];
  if (a.origin !== undefined) out.push(attr(AttrType.ORIGIN, Buffer.from([a.origin])));
  if (a.asPath !== undefined) {
    out.push(attr(AttrType.AS_PATH, encodeAsPath(a.asPath, ctx.fourOctetAs ? 4 : 2)));
  }
  if (a.nextHop !== undefined) out.push(attr(AttrType.NEXT_HOP, addressBytes(a.nextHop)));
  if (a.med !== undefined) out.push(attr(AttrType.MED, u32(a.med)));
  if (a.localPref !== undefined) out.push(attr(AttrType.LOCAL_PREF, u32(a.localPref)));
  if (a.atomicAggregate) out.push(attr(AttrType.ATOMIC_AGGREGATE, Buffer.alloc(0)));
  if (a.aggregator !== undefined) {
    const four = ctx.fourOctetAs;
    const v = Buffer.alloc(four ? 8 : 6);
    if (four) v.writeUInt32BE(a.aggregator.asn >>> 0, 0);
    else v.writeUInt16BE(a.aggregator.asn > 0xffff ? AS_TRANS : a.aggregator.asn, 0);
    addressBytes(a.aggregator.address).copy(v, four ? 4 : 2);
    out.push(attr(AttrType.AGGREGATOR, v));
  }
  if (a.communities !== undefined && a.communities.length > 0)
    out.push(attr(AttrType.COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  if (a.mpReach !== undefined) out.push(attr(AttrType.MP_REACH_NLRI, encodeMpReach(a.mpReach)));
  if (a.mpUnreach !== undefined) out.push(attr(AttrType.MP_UNREACH_NLRI, encodeMpUnreach(a.mpUnreach)));
  if (!ctx.fourOctetAs && a.asPath?.some((s) => s.asns.some((n) => n > 0xffff)))
    out.push(attr(AttrType.AS4_PATH, encodeAsPath(a.asPath, 4)));
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0)
    out.push(attr(AttrType.LARGE_COMMUNITY, Buffer.concat(a.largeCommunities.flatMap((lc) => lc.map(u32)))));
  for (const u of a.unknown ?? []) out.push(rawAttr(u.flags, u.code, u.value));
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- decoding

const updateError = (subcode: number, why: string): BgpError =>
  new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, `UPDATE: ${why}`);

/**
 * Decodes the path attribute field following RFC 4271 §6.3 as revised by RFC 7606: errors that let the
 * NLRI still be located become `problems` (treat-as-withdraw or attribute-discard); errors that do not
 * (duplicate or malformed MP_REACH/MP_UNREACH, unrecognized well-known attributes) throw a BgpError.
 */
export function decodeAttributes(
  buf: Buffer,
  ctx: AttrContext,
): { attributes: PathAttributes; problems: AttributeProblem[] } {
  const a: PathAttributes = {};
  const problems: AttributeProblem[] = [];
  const seen = new Set<number>();
  const withdraw = (subcode: number, message: string) =>
    problems.push({ action: 'treat-as-withdraw', code: ErrorCode.UPDATE_MESSAGE, subcode, message });
  const discard = (subcode: number, message: string) =>
    problems.push({ action: 'attribute-discard', code: ErrorCode.UPDATE_MESSAGE, subcode, message });
  let as4Path: AsPathSegment[] | undefined;

  let off = 0;
  while (off < buf.length) {
    // RFC 7606 §4: an attribute header or value overrunning the attribute field → treat-as-withdraw.
    if (buf.length - off < 3) {
      withdraw(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'truncated attribute header');
      break;
    }
    const flags = buf.readUInt8(off);
    const code = buf.readUInt8(off + 1);
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    if (ext && buf.length - off < 4) {
      withdraw(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'truncated attribute header');
      break;
    }
    const len = ext ? buf.readUInt16BE(off + 2) : buf.readUInt8(off + 2);
    const start = off + (ext ? 4 : 3);
    if (start + len > buf.length) {
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI)
        throw updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE, `attribute ${code} overruns the attribute field`);
      withdraw(UpdateSubcode.ATTRIBUTE_LENGTH, `attribute ${code} overruns the attribute field`);
      break;
    }
    const value = buf.subarray(start, start + len);
    off = start + len;

    if (seen.has(code)) {
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI)
        throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `duplicate attribute ${code}`);
      continue; // RFC 7606 §3.g: keep the first
    }
    seen.add(code);

    const expected = WELL_KNOWN_FLAGS[code];
    if (expected === undefined) {
      if ((flags & AttrFlag.OPTIONAL) === 0)
        throw updateError(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${code}`);
      (a.unknown ??= []).push({ flags, code, value: Buffer.from(value) });
      continue;
    }
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== expected) {
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI)
        throw updateError(UpdateSubcode.ATTRIBUTE_FLAGS, `bad flags 0x${flags.toString(16)} on ${code}`);
      withdraw(UpdateSubcode.ATTRIBUTE_FLAGS, `bad flags 0x${flags.toString(16)} on attribute ${code}`);
      continue;
    }
    switch (code) {
      case AttrType.ORIGIN:
        if (len !== 1) withdraw(UpdateSubcode.ATTRIBUTE_LENGTH, `ORIGIN length ${len}`);
        else if (value[0]! > 2) withdraw(UpdateSubcode.INVALID_ORIGIN, `ORIGIN ${value[0]}`);
        else a.origin = value[0] as Origin;
        break;
      case AttrType.AS_PATH: {
        const p = decodeAsPath(value, ctx.fourOctetAs ? 4 : 2);
        if (p === undefined) withdraw(UpdateSubcode.MALFORMED_AS_PATH, 'malformed AS_PATH');
        else a.asPath = p;
        break;
      }
      case AttrType.AS4_PATH: {
        const p = decodeAsPath(value, 4);
        if (p === undefined) discard(UpdateSubcode.MALFORMED_AS_PATH, 'malformed AS4_PATH');
        else as4Path = p;
        break;
      }
      case AttrType.NEXT_HOP:
        if (len !== 4) withdraw(UpdateSubcode.ATTRIBUTE_LENGTH, `NEXT_HOP length ${len}`);
        else a.nextHop = addressText(value);
        break;
      case AttrType.MED:
        if (len !== 4) withdraw(UpdateSubcode.ATTRIBUTE_LENGTH, `MED length ${len}`);
        else a.med = value.readUInt32BE(0);
        break;
      case AttrType.LOCAL_PREF:
        if (len !== 4) withdraw(UpdateSubcode.ATTRIBUTE_LENGTH, `LOCAL_PREF length ${len}`);
        else a.localPref = value.readUInt32BE(0);
        break;
      case AttrType.ATOMIC_AGGREGATE:
        if (len !== 0) discard(UpdateSubcode.ATTRIBUTE_LENGTH, `ATOMIC_AGGREGATE length ${len}`);
        else a.atomicAggregate = true;
        break;
      case AttrType.AGGREGATOR: {
        const w = ctx.fourOctetAs ? 4 : 2;
        if (len !== w + 4) discard(UpdateSubcode.ATTRIBUTE_LENGTH, `AGGREGATOR length ${len}`);
        else
          a.aggregator = {
            asn: w === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0),
            address: addressText(value.subarray(w)),
          };
        break;
      }
      case AttrType.AS4_AGGREGATOR:
        if (len !== 8) discard(UpdateSubcode.ATTRIBUTE_LENGTH, `AS4_AGGREGATOR length ${len}`);
        break;
      case AttrType.COMMUNITIES:
        if (len === 0 || len % 4 !== 0)
          withdraw(UpdateSubcode.OPTIONAL_ATTRIBUTE, `COMMUNITIES length ${len}`);
        else a.communities = Array.from({ length: len / 4 }, (_, i) => value.readUInt32BE(4 * i));
        break;
      case AttrType.LARGE_COMMUNITY:
        if (len === 0 || len % 12 !== 0)
          withdraw(UpdateSubcode.OPTIONAL_ATTRIBUTE, `LARGE_COMMUNITY length ${len}`);
        else
          a.largeCommunities = Array.from(
            { length: len / 12 },
            (_, i) =>
              [
                value.readUInt32BE(12 * i),
                value.readUInt32BE(12 * i + 4),
                value.readUInt32BE(12 * i + 8),
              ] as const,
          );
        break;
      case AttrType.MP_REACH_NLRI:
        a.mpReach = decodeMpReach(value);
        break;
      case AttrType.MP_UNREACH_NLRI:
        a.mpUnreach = decodeMpUnreach(value);
        break;
    }
  }
  if (as4Path !== undefined && a.asPath !== undefined && !ctx.fourOctetAs)
    a.asPath = mergeAs4(a.asPath, as4Path);
  return { attributes: a, problems };
}

function decodeAsPath(buf: Buffer, width: 2 | 4): AsPathSegment[] | undefined {
  const segs: AsPathSegment[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 2) return undefined;
    const t = buf.readUInt8(off);
    const n = buf.readUInt8(off + 1);
    if ((t !== 1 && t !== 2) || n === 0) return undefined;
    off += 2;
    if (off + n * width > buf.length) return undefined;
    const asns: number[] = [];
    for (let i = 0; i < n; i++, off += width)
      asns.push(width === 4 ? buf.readUInt32BE(off) : buf.readUInt16BE(off));
    segs.push({ type: t === 1 ? 'set' : 'sequence', asns });
  }
  return segs;
}

/** RFC 6793 §4.2.3: replace the trailing part of AS_PATH by AS4_PATH when AS4_PATH is not longer. */
function mergeAs4(asPath: AsPathSegment[], as4: AsPathSegment[]): AsPathSegment[] {
  const count = (p: AsPathSegment[]) => p.reduce((s, g) => s + (g.type === 'set' ? 1 : g.asns.length), 0);
  const n = count(asPath);
  const m = count(as4);
  if (m > n) return asPath;
  const keep: AsPathSegment[] = [];
  let left = n - m;
  for (const seg of asPath) {
    if (left <= 0) break;
    if (seg.type === 'set') {
      keep.push(seg);
      left -= 1;
    } else {
      const take = seg.asns.slice(0, left);
      keep.push({ type: 'sequence', asns: take });
      left -= take.length;
    }
  }
  return [...keep, ...as4];
}

const mpError = (why: string): BgpError => updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE, why);

function decodeMpReach(value: Buffer): MpReach {
  const c = new Cursor(value, (what) => mpError(`MP_REACH_NLRI truncated ${what}`));
  const afi = c.u16('AFI');
  const safi = c.u8('SAFI');
  const nhLen = c.u8('next hop length');
  const nh = c.bytes(nhLen, 'next hop');
  c.u8('reserved');
  const family = familyOfAfi(afi);
  const nextHops: string[] = [];
  if (family === 'ipv4') {
    if (nhLen !== 4) throw mpError(`MP_REACH_NLRI IPv4 next hop length ${nhLen}`);
    nextHops.push(addressText(nh));
  } else if (family === 'ipv6') {
    if (nhLen !== 16 && nhLen !== 32) throw mpError(`MP_REACH_NLRI IPv6 next hop length ${nhLen}`);
    for (let i = 0; i < nhLen; i += 16) nextHops.push(addressText(nh.subarray(i, i + 16)));
  }
  const rest = value.subarray(c.offset);
  const nlri =
    family === undefined ? [] : decodePrefixes(rest, family, (why) => mpError(`MP_REACH_NLRI ${why}`));
  return { afi, safi, nextHops, nlri };
}

function decodeMpUnreach(value: Buffer): MpUnreach {
  const c = new Cursor(value, (what) => mpError(`MP_UNREACH_NLRI truncated ${what}`));
  const afi = c.u16('AFI');
  const safi = c.u8('SAFI');
  const family = familyOfAfi(afi);
  const rest = value.subarray(c.offset);
  const withdrawn =
    family === undefined ? [] : decodePrefixes(rest, family, (why) => mpError(`MP_UNREACH_NLRI ${why}`));
  return { afi, safi, withdrawn };
}
