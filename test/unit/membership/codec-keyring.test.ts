import fc from 'fast-check';
import t from 'tap';
import {
  type Alive,
  CodecError,
  PROTOCOL_VERSION,
  type WireMessage,
  decodeEnvelope,
  encodeEnvelope,
  encodeMessage,
} from '../../../src/membership/codec.js';
import { FRAME_GCM, Keyring, REPLAY_WINDOW_MS, parseKey } from '../../../src/membership/keyring.js';
import { Stats } from '../../../src/membership/stats.js';
import type { DropReport } from '../../../src/membership/types.js';
import { parseGossipAddress, pushPullInterval } from '../../../src/membership/push-pull.js';

const lim = { metaMaxSize: 512, userMessageMaxSize: 1024 };

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CodecError ? error.reason : `not a CodecError: ${String(error)}`;
  }
  return undefined;
}

const samples: WireMessage[] = [
  { kind: 'ping', seqNo: 7, target: 'b', sourceNode: 'a', sourceAddr: '10.0.0.1', sourcePort: 7946 },
  {
    kind: 'indirectPing',
    seqNo: 4294967295,
    target: 'c',
    targetAddr: 'fd00::3',
    targetPort: 1,
    nack: true,
    sourceNode: 'a',
    sourceAddr: '10.0.0.1',
    sourcePort: 65535,
  },
  { kind: 'ack', seqNo: 1, payload: Buffer.from('x') },
  { kind: 'nack', seqNo: 2 },
  {
    kind: 'alive',
    incarnation: 3,
    node: 'n',
    addr: '192.0.2.1',
    port: 7946,
    meta: Buffer.from('{"if":["eth0"]}'),
    protocolMin: 1,
    protocolMax: 2,
  },
  { kind: 'suspect', incarnation: 9, node: 'n', from: 'm' },
  { kind: 'dead', incarnation: 9, node: 'n', from: 'n' },
  { kind: 'user', from: 'n', id: 1795432288959001, payload: Buffer.from('rates'), key: 'vip-rates' },
];

t.test('every message kind round-trips through an envelope', async (t) => {
  const env = decodeEnvelope(encodeEnvelope({ cluster: 'c1' }, samples.map(encodeMessage)), lim);
  t.equal(env.version, PROTOCOL_VERSION);
  t.equal(env.cluster, 'c1');
  t.equal(env.invalid, 0);
  t.same(env.messages, samples);
});

t.test('push-pull state round-trips', async (t) => {
  const states = [
    {
      name: 'a',
      addr: '10.0.0.1',
      port: 1,
      meta: Buffer.alloc(0),
      incarnation: 0,
      state: 'alive' as const,
      protocolMin: 1,
      protocolMax: 1,
    },
    {
      name: 'b',
      addr: '::1',
      port: 2,
      meta: Buffer.from('m'),
      incarnation: 5,
      state: 'left' as const,
      protocolMin: 1,
      protocolMax: 1,
    },
    {
      name: 'c',
      addr: '10.0.0.3',
      port: 3,
      meta: Buffer.alloc(0),
      incarnation: 2,
      state: 'suspect' as const,
      protocolMin: 1,
      protocolMax: 1,
    },
  ];
  const env = decodeEnvelope(encodeEnvelope({ cluster: 'x', pushPull: { join: true, states } }), lim);
  t.same(env.pushPull, { join: true, states });
});

t.test('rolling upgrade: unknown fields from a newer version are ignored', async (t) => {
  const env = encodeEnvelope({ cluster: 'c' }, [encodeMessage(samples[5]!)]);
  // Field 15 (varint) on the envelope, and field 9 (bytes) inside a message: unknown to this version.
  const msgWithExtra = Buffer.concat([encodeMessage(samples[3]!), Buffer.from([0x4a, 0x02, 0xaa, 0xbb])]);
  const newer = Buffer.concat([
    env,
    Buffer.from([0x78, 0x01]),
    Buffer.from([0x22, msgWithExtra.length]),
    msgWithExtra,
  ]);
  const got = decodeEnvelope(newer, lim);
  t.same(got.messages, [samples[5], samples[3]]);
  t.equal(got.invalid, 0);
});

t.test('invalid messages are skipped and counted; the rest survive', async (t) => {
  const alive = (over: Partial<Alive>): Alive => ({
    kind: 'alive',
    incarnation: 1,
    node: 'n',
    addr: '10.0.0.1',
    port: 1,
    meta: Buffer.alloc(0),
    protocolMin: 1,
    protocolMax: 1,
    ...over,
  });
  const bad: WireMessage[] = [
    alive({ addr: 'not-an-ip' }),
    alive({ node: '' }),
    alive({ port: 0 }),
    alive({ meta: Buffer.alloc(600) }),
  ];
  const env = decodeEnvelope(
    encodeEnvelope({ cluster: 'c' }, [...bad.map(encodeMessage), encodeMessage(samples[3]!)]),
    lim,
  );
  t.equal(env.invalid, 4);
  t.same(env.messages, [samples[3]]);
  const empty = decodeEnvelope(encodeEnvelope({ cluster: 'c' }, [Buffer.alloc(0)]), lim);
  t.equal(empty.invalid, 1, 'a message with no known kind (e.g. from a newer version) is skipped');
});

t.test('garbage, truncation and future versions throw CodecError, never anything else', async (t) => {
  const good = encodeEnvelope({ cluster: 'c' }, samples.map(encodeMessage));
  t.equal(
    reasonOf(() => decodeEnvelope(good.subarray(0, good.length - 3), lim)),
    'truncated',
  );
  t.equal(
    reasonOf(() => decodeEnvelope(Buffer.alloc(0), lim)),
    'version',
    'empty = version 0',
  );
  // Later fields win in protobuf: version 9, min_version 9.
  const future = Buffer.concat([good, Buffer.from([0x08, 0x09, 0x10, 0x09])]);
  t.equal(
    reasonOf(() => decodeEnvelope(future, lim)),
    'version',
  );
  const onlyCodecErrors = (buf: Buffer): void => {
    try {
      decodeEnvelope(buf, lim);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyCodecErrors(Buffer.from(bytes))),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.nat(255), (i, v) => {
      const mutated = Buffer.from(good);
      mutated[i] = v;
      onlyCodecErrors(mutated);
    }),
    { numRuns: 2000 },
  );
});

t.test('keyring: seal/open, rotation, wrong key, plaintext policy, tampering', async (t) => {
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(32, 2);
  const a = new Keyring([k1]);
  const frame = a.seal(Buffer.from('hello'));
  t.equal(frame[0], FRAME_GCM);
  t.same(a.open(frame), { ok: true, plain: Buffer.from('hello') });
  t.same(new Keyring([k2]).open(frame), { ok: false, reason: 'unauthenticated' });
  const both = new Keyring([k2, k1]);
  t.ok(both.open(frame).ok, 'a secondary key still decrypts (rotation)');
  both.useKey(k1);
  t.ok(a.open(both.seal(Buffer.from('x'))).ok, 'after useKey the new primary encrypts');
  t.throws(() => both.removeKey(k1), /primary/);
  both.removeKey(k2);
  t.equal(both.list().length, 1);
  const tampered = Buffer.from(frame);
  tampered[15] = (tampered[15] ?? 0) ^ 1;
  t.same(a.open(tampered), { ok: false, reason: 'unauthenticated' });
  t.same(a.open(frame.subarray(0, 20)), { ok: false, reason: 'truncated' });
  const plain = new Keyring().seal(Buffer.from('p'));
  t.same(a.open(plain), { ok: false, reason: 'plaintext' }, 'plaintext refused when keys are set');
  t.ok(new Keyring([k1], true).open(plain).ok, 'accepted when allowPlaintext');
  t.same(
    new Keyring().open(frame),
    { ok: false, reason: 'unauthenticated' },
    'no keys cannot read encrypted',
  );
  t.same(a.open(Buffer.from([0x7f, 1, 2])), { ok: false, reason: 'malformed' });
  t.same(a.open(Buffer.alloc(0)), { ok: false, reason: 'truncated' });
  t.throws(() => new Keyring([Buffer.alloc(16)]), /32 bytes/);
  t.same(parseKey('01'.repeat(32)), Buffer.alloc(32, 1));
  t.same(parseKey(Buffer.alloc(32, 2).toString('base64')), k2);
});

t.test('push-pull interval scaling and address parsing', async (t) => {
  t.equal(pushPullInterval(30_000, 10), 30_000);
  t.equal(pushPullInterval(30_000, 32), 30_000);
  t.equal(pushPullInterval(30_000, 33), 60_000);
  t.equal(pushPullInterval(30_000, 64), 60_000);
  t.equal(pushPullInterval(30_000, 65), 90_000);
  t.same(parseGossipAddress('10.0.0.1:7000'), { host: '10.0.0.1', port: 7000 });
  t.same(parseGossipAddress('[fd00::1]:7000'), { host: 'fd00::1', port: 7000 });
  t.same(parseGossipAddress('10.0.0.1'), { host: '10.0.0.1', port: 7946 });
  t.throws(() => parseGossipAddress('host.example:1'), /bad address/);
  t.throws(() => parseGossipAddress('10.0.0.1:99999'), /bad address/);
});

t.test('keyring: an encrypted frame is accepted once, and only near its send time', async (t) => {
  const k = Buffer.alloc(32, 3);
  const ring = new Keyring([k]);
  const now = 1_800_000_000_000;
  const frame = new Keyring([k]).seal(Buffer.from('left'), now);
  t.same(ring.open(frame, now + 5), { ok: true, plain: Buffer.from('left') });
  t.same(ring.open(frame, now + 10), { ok: false, reason: 'replayed' }, 'the same frame again');
  t.same(
    ring.open(frame, now + REPLAY_WINDOW_MS + 1000),
    { ok: false, reason: 'expired' },
    'a capture replayed after the window',
  );
  const early = new Keyring([k]).seal(Buffer.from('x'), now + REPLAY_WINDOW_MS + 1);
  t.same(ring.open(early, now), { ok: false, reason: 'expired' }, 'a sender clock far ahead');
  const fresh = new Keyring([k]).seal(Buffer.from('y'), now - REPLAY_WINDOW_MS + 1);
  t.ok(ring.open(fresh, now).ok, 'within the window either way');
  const forged = Buffer.from(new Keyring([k]).seal(Buffer.from('z'), now - 10 * REPLAY_WINDOW_MS));
  forged.writeBigUInt64BE(BigInt(now), 1);
  t.same(ring.open(forged, now), { ok: false, reason: 'unauthenticated' }, 'the send time is authenticated');
});

t.test('drop reports: the first at once with its source, then one summary per interval', async (t) => {
  const reports: DropReport[] = [];
  const s = new Stats((r) => reports.push(r), 100);
  t.teardown(() => s.stop());
  s.drop('unauthenticated', 1, '10.0.0.9:7946');
  t.same(reports, [{ reason: 'unauthenticated', count: 1, sources: ['10.0.0.9:7946'] }]);
  for (let i = 0; i < 50; i++) s.drop('unauthenticated', 1, `10.0.0.${i % 8}:1`);
  s.drop('plaintext', 1, '10.0.0.7:7946');
  t.equal(reports.length, 2, 'another reason reports at once; the flood waits');
  await new Promise((r) => setTimeout(r, 150));
  t.equal(reports.length, 3);
  t.equal(reports[2]?.count, 50);
  t.equal(reports[2]?.sources.length, 5, 'a few sources, not all');
  t.equal(s.snapshot(0).dropped.unauthenticated, 51, 'every drop counted');
});
