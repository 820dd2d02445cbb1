import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_LENGTH,
  RouteRefreshSubcode,
} from './constants.js';
import type { AttrContext } from './attributes.js';
import { BgpError } from './errors.js';
import { decodeOpenBody, encodeOpenBody, type OpenMessage } from './open.js';
import { decodeUpdateBody, encodeUpdateBody, type UpdateMessage } from './update.js';

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  /** 0 = normal request; 1/2 = beginning/end of route refresh (RFC 7313). */
  subtype: number;
  safi: number;
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** Session facts the codec needs. Defaults: 4-octet AS negotiated, eBGP. */
export interface CodecContext extends AttrContext {
  ibgp?: boolean;
}

export const DEFAULT_CONTEXT: CodecContext = { fourOctetAs: true };

const MARKER = Buffer.alloc(16, 0xff);

function frame(type: number, body: Buffer): Buffer {
  const len = HEADER_LENGTH + body.length;
  if (len > MAX_MESSAGE_LENGTH) throw new Error(`BGP message of ${len} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  const h = Buffer.alloc(HEADER_LENGTH);
  MARKER.copy(h);
  h.writeUInt16BE(len, 16);
  h.writeUInt8(type, 18);
  return Buffer.concat([h, body]);
}

export function encodeMessage(m: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): Buffer {
  switch (m.type) {
    case 'open':
      return frame(MessageType.OPEN, encodeOpenBody(m));
    case 'update':
      return frame(MessageType.UPDATE, encodeUpdateBody(m, ctx));
    case 'notification':
      return frame(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([m.code, m.subcode]), m.data]));
    case 'keepalive':
      return frame(MessageType.KEEPALIVE, Buffer.alloc(0));
    case 'route-refresh': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(m.afi, 0);
      b.writeUInt8(m.subtype, 2);
      b.writeUInt8(m.safi, 3);
      return frame(MessageType.ROUTE_REFRESH, b);
    }
  }
}

/**
 * Validates a message header (RFC 4271 §6.1) and returns the full message length. Throws BgpError
 * for a bad marker, length or type. Needs at least the 19 header octets.
 */
export function checkHeader(header: Buffer): { length: number; type: number } {
  if (!header.subarray(0, 16).equals(MARKER))
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.NOT_SYNCHRONIZED,
      'header: marker is not all ones',
    );
  const length = header.readUInt16BE(16);
  const type = header.readUInt8(18);
  const lenData = header.subarray(16, 18);
  const min = MIN_LENGTH[type];
  if (min === undefined)
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_TYPE,
      `header: unknown type ${type}`,
      Buffer.from([type]),
    );
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH || length < min)
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_LENGTH,
      `header: bad length ${length}`,
      Buffer.from(lenData),
    );
  if (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH)
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_LENGTH,
      `KEEPALIVE length ${length}`,
      Buffer.from(lenData),
    );
  return { length, type };
}

/** Decodes one complete message. Throws only BgpError, carrying the NOTIFICATION to send. */
export function decodeMessage(buf: Buffer, ctx: CodecContext = DEFAULT_CONTEXT): BgpMessage {
  if (buf.length < HEADER_LENGTH)
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_LENGTH, `message of ${buf.length} octets`);
  const { length, type } = checkHeader(buf);
  if (length !== buf.length) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(length, 0);
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderSubcode.BAD_LENGTH,
      `header length ${length} != ${buf.length} octets`,
      data,
    );
  }
  const body = buf.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.OPEN:
      return decodeOpenBody(body);
    case MessageType.UPDATE:
      return decodeUpdateBody(body, ctx);
    case MessageType.NOTIFICATION:
      return {
        type: 'notification',
        code: body.readUInt8(0),
        subcode: body.readUInt8(1),
        data: Buffer.from(body.subarray(2)),
      };
    case MessageType.KEEPALIVE:
      return { type: 'keepalive' };
    default: {
      if (body.length !== 4)
        throw new BgpError(
          ErrorCode.ROUTE_REFRESH,
          RouteRefreshSubcode.INVALID_LENGTH,
          `ROUTE-REFRESH length ${length}`,
          Buffer.from(buf),
        );
      return {
        type: 'route-refresh',
        afi: body.readUInt16BE(0),
        subtype: body.readUInt8(2),
        safi: body.readUInt8(3),
      };
    }
  }
}

/**
 * Splits a TCP byte stream into messages. `push` returns the complete messages' raw bytes; a bad header
 * throws BgpError as soon as its 19 octets arrive (before waiting for a bogus length).
 */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= HEADER_LENGTH) {
      const { length } = checkHeader(this.pending);
      if (this.pending.length < length) break;
      out.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return out;
  }
}
