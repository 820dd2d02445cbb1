/** BFD control packet (RFC 5880 §4.1), without authentication. Intervals are in microseconds. */

export const BFD_PORT = 3784;
export const BFD_PACKET_LENGTH = 24;

export const BfdStateCode = { ADMIN_DOWN: 0, DOWN: 1, INIT: 2, UP: 3 } as const;
export type BfdSessionState = 'admin-down' | 'down' | 'init' | 'up';
const STATE_NAMES: BfdSessionState[] = ['admin-down', 'down', 'init', 'up'];

/** Diagnostic codes (RFC 5880 §4.1). */
export const BfdDiag = {
  NONE: 0,
  DETECTION_TIME_EXPIRED: 1,
  ECHO_FAILED: 2,
  NEIGHBOR_DOWN: 3,
  ADMIN_DOWN: 7,
} as const;

export interface BfdPacket {
  version: number;
  diag: number;
  state: BfdSessionState;
  poll: boolean;
  final: boolean;
  controlPlaneIndependent: boolean;
  authPresent: boolean;
  demand: boolean;
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
}

export function encodeBfd(
  p: Omit<BfdPacket, 'version' | 'controlPlaneIndependent' | 'authPresent' | 'demand' | 'multipoint'>,
): Buffer {
  const b = Buffer.alloc(BFD_PACKET_LENGTH);
  b.writeUInt8((1 << 5) | (p.diag & 0x1f), 0);
  b.writeUInt8((STATE_NAMES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0), 1);
  b.writeUInt8(p.detectMult, 2);
  b.writeUInt8(BFD_PACKET_LENGTH, 3);
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTxUs >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRxUs >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRxUs >>> 0, 20);
  return b;
}

/**
 * Decodes and validates a received control packet (RFC 5880 §6.8.6 first checks). Returns a reason
 * string for packets that must be discarded; never throws.
 */
export function decodeBfd(b: Buffer): BfdPacket | string {
  if (b.length < BFD_PACKET_LENGTH) return `short packet (${b.length} bytes)`;
  const version = b.readUInt8(0) >> 5;
  if (version !== 1) return `version ${version}`;
  const length = b.readUInt8(3);
  const flags = b.readUInt8(1);
  const authPresent = (flags & 0x04) !== 0;
  if (length < BFD_PACKET_LENGTH || length > b.length) return `length field ${length}`;
  if (authPresent) return 'authentication not supported';
  const p: BfdPacket = {
    version,
    diag: b.readUInt8(0) & 0x1f,
    state: STATE_NAMES[flags >> 6] ?? 'down',
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    controlPlaneIndependent: (flags & 0x08) !== 0,
    authPresent,
    demand: (flags & 0x02) !== 0,
    multipoint: (flags & 0x01) !== 0,
    detectMult: b.readUInt8(2),
    myDiscriminator: b.readUInt32BE(4),
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTxUs: b.readUInt32BE(12),
    requiredMinRxUs: b.readUInt32BE(16),
    requiredMinEchoRxUs: b.readUInt32BE(20),
  };
  if (p.detectMult === 0) return 'detect multiplier 0';
  if (p.multipoint) return 'multipoint bit set';
  if (p.myDiscriminator === 0) return 'my discriminator 0';
  if (p.yourDiscriminator === 0 && p.state !== 'down' && p.state !== 'admin-down')
    return `your discriminator 0 in state ${p.state}`;
  if (p.poll && p.final) return 'poll and final both set';
  return p;
}
