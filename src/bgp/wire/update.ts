import { Afi, ErrorCode, Safi, UpdateSubcode } from './constants.js';
import {
  type AttrContext,
  type AttributeProblem,
  decodeAttributes,
  encodeAttributes,
  type PathAttributes,
} from './attributes.js';
import { BgpError } from './errors.js';
import { decodePrefixes, encodePrefix } from './prefix.js';

export interface UpdateMessage {
  type: 'update';
  /** IPv4 withdrawn routes (the classic field). */
  withdrawn: string[];
  attributes: PathAttributes;
  /** IPv4 NLRI (the classic field). */
  nlri: string[];
  /** RFC 7606 outcomes that did not reset the session. */
  problems: AttributeProblem[];
  /** True when a problem requires the announced routes to be treated as withdrawn. */
  treatAsWithdraw: boolean;
}

export function makeUpdate(
  parts: Partial<Pick<UpdateMessage, 'withdrawn' | 'attributes' | 'nlri'>>,
): UpdateMessage {
  return {
    type: 'update',
    withdrawn: parts.withdrawn ?? [],
    attributes: parts.attributes ?? {},
    nlri: parts.nlri ?? [],
    problems: [],
    treatAsWithdraw: false,
  };
}

export function encodeUpdateBody(u: UpdateMessage, ctx: AttrContext): Buffer {
  const withdrawn = Buffer.concat(u.withdrawn.map(encodePrefix));
  const attrs = encodeAttributes(u.attributes, ctx);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(withdrawn.length, 0);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(attrs.length, 0);
  return Buffer.concat([wl, withdrawn, al, attrs, ...u.nlri.map(encodePrefix)]);
}

const updateError = (subcode: number, why: string): BgpError =>
  new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, `UPDATE: ${why}`);

export function decodeUpdateBody(body: Buffer, ctx: AttrContext & { ibgp?: boolean }): UpdateMessage {
  // RFC 4271 §6.3: lengths inconsistent with the message → Malformed Attribute List.
  if (body.length < 4)
    throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'body shorter than 4 octets');
  const wlen = body.readUInt16BE(0);
  if (2 + wlen + 2 > body.length)
    throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${wlen} too large`);
  const alen = body.readUInt16BE(2 + wlen);
  if (4 + wlen + alen > body.length)
    throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `total attribute length ${alen} too large`);
  const netField = (why: string) => updateError(UpdateSubcode.INVALID_NETWORK_FIELD, why);
  const withdrawn = decodePrefixes(body.subarray(2, 2 + wlen), 'ipv4', (w) =>
    netField(`withdrawn routes: ${w}`),
  );
  const { attributes, problems } = decodeAttributes(body.subarray(4 + wlen, 4 + wlen + alen), ctx);
  const nlri = decodePrefixes(body.subarray(4 + wlen + alen), 'ipv4', (w) => netField(`NLRI: ${w}`));

  // Missing well-known mandatory attributes matter only when something is announced (RFC 7606 §3.d).
  const announces = nlri.length > 0 || (attributes.mpReach?.nlri.length ?? 0) > 0;
  if (announces && problems.length === 0) {
    const missing: string[] = [];
    if (attributes.origin === undefined) missing.push('ORIGIN');
    if (attributes.asPath === undefined) missing.push('AS_PATH');
    if (nlri.length > 0 && attributes.nextHop === undefined) missing.push('NEXT_HOP');
    if (ctx.ibgp && attributes.localPref === undefined) missing.push('LOCAL_PREF');
    for (const m of missing)
      problems.push({
        action: 'treat-as-withdraw',
        code: ErrorCode.UPDATE_MESSAGE,
        subcode: UpdateSubcode.MISSING_WELL_KNOWN,
        message: `missing well-known attribute ${m}`,
      });
  }
  return {
    type: 'update',
    withdrawn,
    attributes,
    nlri,
    problems,
    treatAsWithdraw: problems.some((p) => p.action === 'treat-as-withdraw'),
  };
}

/** End-of-RIB marker (RFC 4724 §2): empty UPDATE for IPv4, empty MP_UNREACH_NLRI otherwise. */
export function endOfRib(afi: number, safi: number = Safi.UNICAST): UpdateMessage {
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) return makeUpdate({});
  return makeUpdate({ attributes: { mpUnreach: { afi, safi, withdrawn: [] } } });
}

/** The address family an End-of-RIB marker closes, or undefined when the UPDATE is not one. */
export function endOfRibFamily(u: UpdateMessage): { afi: number; safi: number } | undefined {
  const a = u.attributes;
  const keys = Object.keys(a).filter((k) => a[k as keyof PathAttributes] !== undefined);
  if (u.withdrawn.length > 0 || u.nlri.length > 0) return undefined;
  if (keys.length === 0) return { afi: Afi.IPV4, safi: Safi.UNICAST };
  if (keys.length === 1 && a.mpUnreach && a.mpUnreach.withdrawn.length === 0)
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  return undefined;
}
