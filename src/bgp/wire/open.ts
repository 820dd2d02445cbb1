import { AS_TRANS, Afi, CapabilityCode, ErrorCode, OpenSubcode, Safi } from './constants.js';
import { BgpError, Cursor } from './errors.js';
import { addressBytes, addressText } from './prefix.js';

export interface AfiSafi {
  afi: number;
  safi: number;
}

export interface GracefulRestartCapability {
  /** R bit: the sender has restarted. */
  restarting: boolean;
  /** N bit (RFC 8538), carried through. */
  notification: boolean;
  restartTimeSec: number;
  families: Array<AfiSafi & { forwardingPreserved: boolean }>;
}

export interface Capabilities {
  multiprotocol: AfiSafi[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The real ASN announced in the 4-octet AS capability (RFC 6793), if present. */
  fourOctetAsn?: number;
  gracefulRestart?: GracefulRestartCapability;
  /** Capabilities this codec does not interpret, kept verbatim. */
  unknown: Array<{ code: number; value: Buffer }>;
}

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real ASN needs 4 octets). */
  myAs: number;
  holdTime: number;
  routerId: string;
  capabilities: Capabilities;
}

export function emptyCapabilities(): Capabilities {
  return { multiprotocol: [], routeRefresh: false, enhancedRouteRefresh: false, unknown: [] };
}

/** The peer's real ASN: the 4-octet capability when present, else the 2-octet field. */
export function openAsn(open: OpenMessage): number {
  return open.capabilities.fourOctetAsn ?? open.myAs;
}

/** Builds an OPEN for our side: 4-octet AS, MP IPv4/IPv6 unicast, route refresh, optional GR. */
export function makeOpen(opts: {
  asn: number;
  holdTime: number;
  routerId: string;
  families?: AfiSafi[];
  gracefulRestart?: GracefulRestartCapability;
  enhancedRouteRefresh?: boolean;
}): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAs: opts.asn > 0xffff ? AS_TRANS : opts.asn,
    holdTime: opts.holdTime,
    routerId: opts.routerId,
    capabilities: {
      multiprotocol: opts.families ?? [
        { afi: Afi.IPV4, safi: Safi.UNICAST },
        { afi: Afi.IPV6, safi: Safi.UNICAST },
      ],
      routeRefresh: true,
      enhancedRouteRefresh: opts.enhancedRouteRefresh ?? false,
      fourOctetAsn: opts.asn,
      ...(opts.gracefulRestart ? { gracefulRestart: opts.gracefulRestart } : {}),
      unknown: [],
    },
  };
}

function capability(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

function encodeCapabilities(caps: Capabilities): Buffer[] {
  const out: Buffer[] = [];
  for (const f of caps.multiprotocol) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(f.afi, 0);
    v.writeUInt8(f.safi, 3);
    out.push(capability(CapabilityCode.MULTIPROTOCOL, v));
  }
  if (caps.routeRefresh) out.push(capability(CapabilityCode.ROUTE_REFRESH, Buffer.alloc(0)));
  if (caps.enhancedRouteRefresh) out.push(capability(CapabilityCode.ENHANCED_ROUTE_REFRESH, Buffer.alloc(0)));
  if (caps.gracefulRestart) {
    const gr = caps.gracefulRestart;
    const v = Buffer.alloc(2 + 4 * gr.families.length);
    v.writeUInt16BE(
      (gr.restarting ? 0x8000 : 0) | (gr.notification ? 0x4000 : 0) | (gr.restartTimeSec & 0x0fff),
      0,
    );
    gr.families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v.writeUInt8(f.safi, 4 + 4 * i);
      v.writeUInt8(f.forwardingPreserved ? 0x80 : 0, 5 + 4 * i);
    });
    out.push(capability(CapabilityCode.GRACEFUL_RESTART, v));
  }
  if (caps.fourOctetAsn !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(caps.fourOctetAsn >>> 0, 0);
    out.push(capability(CapabilityCode.FOUR_OCTET_AS, v));
  }
  for (const u of caps.unknown) out.push(capability(u.code, u.value));
  return out;
}

/** OPEN body (after the header). Each capability goes in its own optional parameter of type 2. */
export function encodeOpenBody(open: OpenMessage): Buffer {
  const params = encodeCapabilities(open.capabilities).map((c) =>
    Buffer.concat([Buffer.from([2, c.length]), c]),
  );
  const paramBytes = Buffer.concat(params);
  if (paramBytes.length > 255) throw new Error('OPEN optional parameters exceed 255 octets');
  const head = Buffer.alloc(10);
  head.writeUInt8(open.version, 0);
  head.writeUInt16BE(open.myAs, 1);
  head.writeUInt16BE(open.holdTime, 3);
  addressBytes(open.routerId).copy(head, 5);
  head.writeUInt8(paramBytes.length, 9);
  return Buffer.concat([head, paramBytes]);
}

const openError = (subcode: number, why: string, data?: Buffer): BgpError =>
  new BgpError(ErrorCode.OPEN_MESSAGE, subcode, `OPEN: ${why}`, data);

/** Decodes an OPEN body, applying the checks of RFC 4271 §6.2 that need no session context. */
export function decodeOpenBody(body: Buffer): OpenMessage {
  const c = new Cursor(body, (what) => openError(OpenSubcode.UNSPECIFIC, `truncated ${what}`));
  const version = c.u8('version');
  if (version !== 4) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(4, 0);
    throw openError(OpenSubcode.UNSUPPORTED_VERSION, `unsupported version ${version}`, data);
  }
  const myAs = c.u16('my AS');
  const holdTime = c.u16('hold time');
  const routerIdBytes = c.bytes(4, 'BGP identifier');
  const optLen = c.u8('optional parameters length');
  if (optLen !== c.remaining)
    throw openError(OpenSubcode.UNSPECIFIC, `optional parameters length ${optLen} != ${c.remaining}`);
  const capabilities = emptyCapabilities();
  while (c.remaining > 0) {
    const ptype = c.u8('parameter type');
    const plen = c.u8('parameter length');
    const pval = c.bytes(plen, 'parameter value');
    if (ptype !== 2)
      throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unsupported optional parameter ${ptype}`);
    decodeCapabilities(pval, capabilities);
  }
  if (myAs === 0) throw openError(OpenSubcode.BAD_PEER_AS, 'peer AS 0');
  if (capabilities.fourOctetAsn === 0) throw openError(OpenSubcode.BAD_PEER_AS, 'peer 4-octet AS 0');
  if (holdTime === 1 || holdTime === 2)
    throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} s`);
  if (routerIdBytes.readUInt32BE(0) === 0)
    throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP identifier 0');
  return { type: 'open', version, myAs, holdTime, routerId: addressText(routerIdBytes), capabilities };
}

function decodeCapabilities(buf: Buffer, caps: Capabilities): void {
  const c = new Cursor(buf, (what) => openError(OpenSubcode.UNSPECIFIC, `truncated capability ${what}`));
  while (c.remaining > 0) {
    const code = c.u8('code');
    const len = c.u8('length');
    const value = c.bytes(len, 'value');
    const bad = () => openError(OpenSubcode.UNSPECIFIC, `capability ${code} has bad length ${len}`);
    switch (code) {
      case CapabilityCode.MULTIPROTOCOL:
        if (len !== 4) throw bad();
        caps.multiprotocol.push({ afi: value.readUInt16BE(0), safi: value.readUInt8(3) });
        break;
      case CapabilityCode.ROUTE_REFRESH:
        caps.routeRefresh = true;
        break;
      case CapabilityCode.ENHANCED_ROUTE_REFRESH:
        caps.enhancedRouteRefresh = true;
        break;
      case CapabilityCode.FOUR_OCTET_AS:
        if (len !== 4) throw bad();
        caps.fourOctetAsn = value.readUInt32BE(0);
        break;
      case CapabilityCode.GRACEFUL_RESTART: {
        if (len < 2 || (len - 2) % 4 !== 0) throw bad();
        const flags = value.readUInt16BE(0);
        const families: GracefulRestartCapability['families'] = [];
        for (let off = 2; off < len; off += 4)
          families.push({
            afi: value.readUInt16BE(off),
            safi: value.readUInt8(off + 2),
            forwardingPreserved: (value.readUInt8(off + 3) & 0x80) !== 0,
          });
        caps.gracefulRestart = {
          restarting: (flags & 0x8000) !== 0,
          notification: (flags & 0x4000) !== 0,
          restartTimeSec: flags & 0x0fff,
          families,
        };
        break;
      }
      default:
        caps.unknown.push({ code, value: Buffer.from(value) });
    }
  }
}
