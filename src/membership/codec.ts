/**
 * Wire codec: protobufjs over proto/membership.proto (loaded at runtime), with every decoded field
 * checked before the protocol sees it. Messages are encoded once and carried as raw bytes so a probe can
 * piggyback queued broadcasts without re-encoding them.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { projectRoot } from '../util/paths.js';
import type { MemberState } from './types.js';

/** Protocol version this build speaks; MIN_VERSION is the oldest it still understands. */
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

export interface Ping {
  kind: 'ping';
  seqNo: number;
  target: string;
  sourceNode: string;
  sourceAddr: string;
  sourcePort: number;
}
export interface IndirectPing {
  kind: 'indirectPing';
  seqNo: number;
  target: string;
  targetAddr: string;
  targetPort: number;
  nack: boolean;
  sourceNode: string;
  sourceAddr: string;
  sourcePort: number;
}
export interface Ack {
  kind: 'ack';
  seqNo: number;
  payload: Buffer;
}
export interface Nack {
  kind: 'nack';
  seqNo: number;
}
export interface Alive {
  kind: 'alive';
  incarnation: number;
  node: string;
  addr: string;
  port: number;
  meta: Buffer;
  protocolMin: number;
  protocolMax: number;
}
export interface Suspect {
  kind: 'suspect';
  incarnation: number;
  node: string;
  from: string;
}
export interface Dead {
  kind: 'dead';
  incarnation: number;
  node: string;
  from: string;
}
export interface UserMessage {
  kind: 'user';
  from: string;
  id: number;
  payload: Buffer;
  key: string;
}
export type WireMessage = Ping | IndirectPing | Ack | Nack | Alive | Suspect | Dead | UserMessage;

export interface NodeState {
  name: string;
  addr: string;
  port: number;
  meta: Buffer;
  incarnation: number;
  state: MemberState;
  protocolMin: number;
  protocolMax: number;
}
export interface PushPull {
  join: boolean;
  states: NodeState[];
}

export interface Envelope {
  version: number;
  minVersion: number;
  cluster: string;
  messages: WireMessage[];
  pushPull?: PushPull;
  /** Messages that failed validation or had an unknown kind (dropped, counted by the caller). */
  invalid: number;
}

export class CodecError extends Error {
  constructor(
    readonly reason: 'truncated' | 'malformed' | 'version' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];
const MAX_NAME = 128;

let root: { envelope: protobuf.Type; message: protobuf.Type } | undefined;
function types(): { envelope: protobuf.Type; message: protobuf.Type } {
  if (!root) {
    const file = join(projectRoot(), 'proto', 'membership.proto');
    const r = protobuf.loadSync(file);
    root = {
      envelope: r.lookupType('herald.membership.v1.Envelope'),
      message: r.lookupType('herald.membership.v1.Message'),
    };
  }
  return root;
}

/** Encodes one message as the bytes of a `Message` (to be embedded in an envelope). */
export function encodeMessage(m: WireMessage): Buffer {
  const { kind, ...body } = m;
  const t = types().message;
  return Buffer.from(t.encode(t.fromObject({ [kind]: body })).finish());
}

/** Builds an envelope from pre-encoded messages (field 4, length-delimited, concatenated). */
export function encodeEnvelope(
  hdr: { cluster: string; pushPull?: PushPull },
  messages: readonly Buffer[] = [],
): Buffer {
  const t = types().envelope;
  const head = t
    .encode(
      t.fromObject({
        version: PROTOCOL_VERSION,
        minVersion: MIN_PROTOCOL_VERSION,
        cluster: hdr.cluster,
        ...(hdr.pushPull
          ? {
              pushPull: {
                join: hdr.pushPull.join,
                states: hdr.pushPull.states.map((s) => ({ ...s, state: STATES.indexOf(s.state) })),
              },
            }
          : {}),
      }),
    )
    .finish();
  if (messages.length === 0) return Buffer.from(head);
  const w = protobuf.Writer.create();
  for (const m of messages) w.uint32((4 << 3) | 2).bytes(m);
  return Buffer.concat([head, w.finish()]);
}

/** Bytes an embedded message adds to an envelope beyond its own length (tag + length varint). */
export const MESSAGE_OVERHEAD = 4;

type Obj = Record<string, unknown>;

function str(o: Obj, k: string, max = 256): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw new CodecError('invalid', `${k}: bad string`);
  return v;
}
function name(o: Obj, k: string): string {
  const v = str(o, k, MAX_NAME);
  if (v.length === 0) throw new CodecError('invalid', `${k}: empty`);
  return v;
}
function uint(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new CodecError('invalid', `${k}: bad number`);
  return v;
}
function port(o: Obj, k: string): number {
  const v = uint(o, k);
  if (v < 1 || v > 65535) throw new CodecError('invalid', `${k}: port out of range`);
  return v;
}
function addr(o: Obj, k: string): string {
  const v = str(o, k, 64);
  if (isIP(v) === 0) throw new CodecError('invalid', `${k}: not an IP address`);
  return v;
}
function bytes(o: Obj, k: string, max: number): Buffer {
  const v = o[k];
  if (!(v instanceof Uint8Array)) throw new CodecError('invalid', `${k}: bad bytes`);
  if (v.length > max) throw new CodecError('invalid', `${k}: ${v.length} bytes exceeds ${max}`);
  return Buffer.from(v.buffer, v.byteOffset, v.length);
}
function obj(v: unknown): Obj {
  if (typeof v !== 'object' || v === null) throw new CodecError('invalid', 'missing body');
  return v as Obj;
}

export interface DecodeLimits {
  metaMaxSize: number;
  userMessageMaxSize: number;
}

function decodeOne(kind: string, b: Obj, lim: DecodeLimits): WireMessage {
  switch (kind) {
    case 'ping':
      return {
        kind,
        seqNo: uint(b, 'seqNo'),
        target: str(b, 'target', MAX_NAME),
        sourceNode: name(b, 'sourceNode'),
        sourceAddr: addr(b, 'sourceAddr'),
        sourcePort: port(b, 'sourcePort'),
      };
    case 'indirectPing':
      return {
        kind,
        seqNo: uint(b, 'seqNo'),
        target: name(b, 'target'),
        targetAddr: addr(b, 'targetAddr'),
        targetPort: port(b, 'targetPort'),
        nack: b.nack === true,
        sourceNode: name(b, 'sourceNode'),
        sourceAddr: addr(b, 'sourceAddr'),
        sourcePort: port(b, 'sourcePort'),
      };
    case 'ack':
      return { kind, seqNo: uint(b, 'seqNo'), payload: bytes(b, 'payload', 1024) };
    case 'nack':
      return { kind, seqNo: uint(b, 'seqNo') };
    case 'alive':
      return {
        kind,
        incarnation: uint(b, 'incarnation'),
        node: name(b, 'node'),
        addr: addr(b, 'addr'),
        port: port(b, 'port'),
        meta: bytes(b, 'meta', lim.metaMaxSize),
        protocolMin: uint(b, 'protocolMin'),
        protocolMax: uint(b, 'protocolMax'),
      };
    case 'suspect':
    case 'dead':
      return { kind, incarnation: uint(b, 'incarnation'), node: name(b, 'node'), from: name(b, 'from') };
    case 'user':
      return {
        kind,
        from: name(b, 'from'),
        id: uint(b, 'id'),
        payload: bytes(b, 'payload', lim.userMessageMaxSize),
        key: str(b, 'key', MAX_NAME),
      };
    default:
      throw new CodecError('invalid', `unknown message kind ${kind}`);
  }
}

function decodeState(s: Obj, lim: DecodeLimits): NodeState {
  const st = uint(s, 'state');
  const state = STATES[st];
  if (!state) throw new CodecError('invalid', `state: unknown ${st}`);
  return {
    name: name(s, 'name'),
    addr: addr(s, 'addr'),
    port: port(s, 'port'),
    meta: bytes(s, 'meta', lim.metaMaxSize),
    incarnation: uint(s, 'incarnation'),
    state,
    protocolMin: uint(s, 'protocolMin'),
    protocolMax: uint(s, 'protocolMax'),
  };
}

/**
 * Decodes and validates an envelope. Throws CodecError for an undecodable buffer, a wrong version or an
 * invalid push-pull state; single invalid messages are skipped and counted in `invalid`.
 */
export function decodeEnvelope(buf: Buffer, lim: DecodeLimits): Envelope {
  const t = types().envelope;
  let raw: Obj;
  try {
    raw = t.toObject(t.decode(buf), { longs: Number, defaults: true, oneofs: true }) as Obj;
  } catch (error) {
    const msg = (error as Error).message;
    const reason = /index out of range|premature|truncat/i.test(msg) ? 'truncated' : 'malformed';
    throw new CodecError(reason, `undecodable envelope: ${msg}`);
  }
  const version = uint(raw, 'version');
  const minVersion = uint(raw, 'minVersion');
  if (version === 0 || minVersion > PROTOCOL_VERSION)
    throw new CodecError('version', `envelope needs protocol ${minVersion}..${version}`);
  const env: Envelope = {
    version,
    minVersion,
    cluster: str(raw, 'cluster', 64),
    messages: [],
    invalid: 0,
  };
  const list = Array.isArray(raw.messages) ? (raw.messages as unknown[]) : [];
  for (const item of list) {
    try {
      const m = obj(item);
      const kind = typeof m.body === 'string' ? m.body : '';
      env.messages.push(decodeOne(kind, obj(m[kind]), lim));
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      env.invalid++;
    }
  }
  if (raw.pushPull !== undefined && raw.pushPull !== null) {
    const pp = obj(raw.pushPull);
    const states = Array.isArray(pp.states) ? (pp.states as unknown[]) : [];
    env.pushPull = { join: pp.join === true, states: states.map((s) => decodeState(obj(s), lim)) };
  }
  return env;
}
