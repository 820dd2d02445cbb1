import { Afi, HEADER_LENGTH, MAX_MESSAGE_LENGTH, Safi } from './constants.js';
import { type AttrContext, encodeAttributes, type PathAttributes } from './attributes.js';
import { encodedPrefixLength, type Family } from './prefix.js';
import { makeUpdate, type UpdateMessage } from './update.js';

/** Room for NLRI in one message: 4096 − header − the two length fields − attributes. */
const BODY_ROOM = MAX_MESSAGE_LENGTH - HEADER_LENGTH - 4;

function chunk(prefixes: readonly string[], room: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let used = 0;
  for (const p of prefixes) {
    const n = encodedPrefixLength(p);
    if (used + n > room && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Announcements of many prefixes sharing one attribute set, packed into as few UPDATEs as fit in 4096
 * octets. IPv4 goes in the classic NLRI field with NEXT_HOP; IPv6 in MP_REACH_NLRI with `nextHops`
 * (global, optionally link-local).
 */
export function packAnnouncements(
  family: Family,
  prefixes: readonly string[],
  attributes: Omit<PathAttributes, 'nextHop' | 'mpReach' | 'mpUnreach'>,
  nextHops: string[],
  ctx: AttrContext,
): UpdateMessage[] {
  if (prefixes.length === 0) return [];
  if (family === 'ipv4') {
    const attrs: PathAttributes = { ...attributes, nextHop: nextHops[0] };
    const room = BODY_ROOM - encodeAttributes(attrs, ctx).length;
    return chunk(prefixes, room).map((nlri) => makeUpdate({ attributes: attrs, nlri }));
  }
  const base: PathAttributes = {
    ...attributes,
    mpReach: { afi: Afi.IPV6, safi: Safi.UNICAST, nextHops, nlri: [] },
  };
  // One spare octet: MP_REACH_NLRI switches to the extended length header when it passes 255 octets.
  const room = BODY_ROOM - encodeAttributes(base, ctx).length - 1;
  return chunk(prefixes, room).map((nlri) =>
    makeUpdate({ attributes: { ...base, mpReach: { afi: Afi.IPV6, safi: Safi.UNICAST, nextHops, nlri } } }),
  );
}

/** Withdrawals packed into as few UPDATEs as fit. */
export function packWithdrawals(family: Family, prefixes: readonly string[]): UpdateMessage[] {
  if (family === 'ipv4') return chunk(prefixes, BODY_ROOM).map((withdrawn) => makeUpdate({ withdrawn }));
  return chunk(prefixes, BODY_ROOM - 4 - 3).map((withdrawn) =>
    makeUpdate({ attributes: { mpUnreach: { afi: Afi.IPV6, safi: Safi.UNICAST, withdrawn } } }),
  );
}
