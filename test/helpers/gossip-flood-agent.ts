/**
 * A bounded flood of bad gossip at one member, run inside a namespace by gossip-rails.test.ts:
 *   gossip-flood-agent '<json FloodConfig>'
 * Cycles through five kinds of datagram: random bytes, frames claiming encryption that no key opens,
 * plaintext frames (dropped by a keyed member), authentic frames sent long ago (a captured accusation:
 * "n2 is dead"), and one authentic fresh frame replayed over and over. Sends `pps` datagrams per second
 * for `durationMs`, then prints one JSON line { sent: { kind: count } } and exits.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { encodeEnvelope, encodeMessage, type WireMessage } from '../../src/membership/codec.js';
import { Keyring, parseKey } from '../../src/membership/keyring.js';

export interface FloodConfig {
  target: string;
  port: number;
  /** The cluster's key (hex): lets the agent forge what a capture would hold. */
  key: string;
  cluster: string;
  /** A member the expired accusation names. */
  victim: string;
  pps: number;
  durationMs: number;
}

export const FLOOD_KINDS = ['garbage', 'unauthenticated', 'plaintext', 'expired', 'replayed'] as const;
type Kind = (typeof FLOOD_KINDS)[number];

const config = JSON.parse(process.argv[2] ?? '{}') as FloodConfig;
const keyring = new Keyring([parseKey(config.key)]);
const envelope = (m: WireMessage): Buffer => encodeEnvelope({ cluster: config.cluster }, [encodeMessage(m)]);
const accusation = envelope({ kind: 'dead', incarnation: 2 ** 20, node: config.victim, from: 'flood' });
const ping = envelope({
  kind: 'ping',
  seqNo: 1,
  target: '',
  sourceNode: 'flood',
  sourceAddr: '',
  sourcePort: 0,
});
// Captured ten minutes ago (outside the freshness window), and one fresh frame to replay.
const expired = keyring.seal(accusation, Date.now() - 600_000);
const replayed = keyring.seal(ping);

function frame(kind: Kind): Buffer {
  switch (kind) {
    case 'garbage':
      return randomBytes(1 + Math.floor(Math.random() * 1200));
    case 'unauthenticated':
      return Buffer.concat([Buffer.from([0x02]), randomBytes(40 + Math.floor(Math.random() * 400))]);
    case 'plaintext':
      return Buffer.concat([Buffer.from([0x01]), accusation]);
    case 'expired':
      return expired;
    case 'replayed':
      return replayed;
  }
}

const socket = createSocket('udp4');
const sent = Object.fromEntries(FLOOD_KINDS.map((k) => [k, 0])) as Record<Kind, number>;
const started = Date.now();
let n = 0;
const timer = setInterval(() => {
  const elapsed = Date.now() - started;
  if (elapsed >= config.durationMs) {
    clearInterval(timer);
    socket.close();
    process.stdout.write(`${JSON.stringify({ sent })}\n`);
    return;
  }
  // Catch up with the schedule when timers fire late, but never more than a second's worth at once.
  const due = Math.min(Math.floor((elapsed * config.pps) / 1000) - n, config.pps);
  for (let i = 0; i < due; i++, n++) {
    const kind = FLOOD_KINDS[n % FLOOD_KINDS.length]!;
    sent[kind]++;
    socket.send(frame(kind), config.port, config.target);
  }
}, 10);
