import { createSocket } from 'node:dgram';
import t from 'tap';
import {
  detectionExpired,
  detectionTimeUs,
  initialState,
  jitter,
  packetFor,
  receive,
  SLOW_TX_US,
  txIntervalUs,
  type BfdMachineConfig,
} from '../../../src/bgp/bfd/machine.js';
import { decodeBfd, encodeBfd, type BfdPacket } from '../../../src/bgp/bfd/packet.js';
import { BfdEndpoint, BfdSession } from '../../../src/bgp/bfd/session.js';

const cfg: BfdMachineConfig = {
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
  detectMult: 3,
  passive: false,
};

function peerPacket(over: Partial<BfdPacket>): BfdPacket {
  return {
    version: 1,
    diag: 0,
    state: 'down',
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    authPresent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 77,
    yourDiscriminator: 0,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    requiredMinEchoRxUs: 0,
    ...over,
  };
}

t.test('packet round trip and validation', async (t) => {
  const s = initialState(42);
  const wire = encodeBfd(packetFor(s, cfg));
  t.equal(wire.length, 24);
  t.equal(wire[0], 0x20, 'version 1, diag 0');
  t.match(decodeBfd(wire), {
    state: 'down',
    myDiscriminator: 42,
    desiredMinTxUs: SLOW_TX_US,
    requiredMinRxUs: 300_000,
  });
  const bad = (mut: (b: Buffer) => void) => {
    const b = Buffer.from(wire);
    mut(b);
    return decodeBfd(b);
  };
  t.type(
    bad((b) => (b[0] = 0x40)),
    'string',
    'version 2',
  );
  t.type(
    bad((b) => (b[2] = 0)),
    'string',
    'detect mult 0',
  );
  t.type(
    bad((b) => b.writeUInt32BE(0, 4)),
    'string',
    'my discriminator 0',
  );
  t.type(
    bad((b) => (b[1] = 0xc0)),
    'string',
    'Up with your discriminator 0',
  );
  t.type(
    bad((b) => (b[3] = 30)),
    'string',
    'length beyond the datagram',
  );
  t.type(decodeBfd(Buffer.alloc(10)), 'string');
});

t.test('three-way handshake Down → Init → Up, poll sequence to the fast rate', async (t) => {
  let s = initialState(42);
  t.equal(txIntervalUs(s, cfg), SLOW_TX_US, '1 s while not Up');
  let r = receive(s, peerPacket({ state: 'down' }), cfg);
  t.equal(r.state.state, 'init');
  t.ok(r.changed && r.sendNow);
  s = r.state;
  r = receive(s, peerPacket({ state: 'up', yourDiscriminator: 42 }), cfg);
  t.equal(r.state.state, 'up');
  t.equal(r.state.desiredMinTxUs, 300_000);
  t.ok(r.state.polling, 'poll sequence started');
  t.ok(packetFor(r.state, cfg).poll);
  s = r.state;
  r = receive(s, peerPacket({ state: 'up', yourDiscriminator: 42, final: true }), cfg);
  t.notOk(r.state.polling, 'final ends the poll');
  t.equal(detectionTimeUs(r.state, cfg), 900_000);
  r = receive(r.state, peerPacket({ state: 'up', yourDiscriminator: 42, poll: true }), cfg);
  t.ok(r.sendNow && packetFor(r.state, cfg).final, 'peer poll answered with final');
  const down = receive(r.state, peerPacket({ state: 'down', yourDiscriminator: 42 }), cfg);
  t.same([down.state.state, down.state.diag], ['down', 3], 'neighbor signaled down');
  const expired = detectionExpired(r.state);
  t.same([expired.state.state, expired.state.diag, expired.state.desiredMinTxUs], ['down', 1, SLOW_TX_US]);
  const admin = receive(r.state, peerPacket({ state: 'admin-down', yourDiscriminator: 42 }), cfg);
  t.equal(admin.state.state, 'down');
});

t.test('jitter stays within 75–100 % (75–90 % with multiplier 1)', async (t) => {
  for (const r of [0, 0.5, 0.999]) {
    const v = jitter(300_000, 3, r);
    t.ok(v <= 300_000 && v >= 225_000);
    const w = jitter(300_000, 1, r);
    t.ok(w <= 300_000 && w >= 255_000);
  }
});

t.test(
  'two BFD sessions over the native TTL socket on loopback come Up; TTL 64 packets dropped',
  async (t) => {
    const a = new BfdEndpoint({ port: 43784 });
    const b = new BfdEndpoint({ port: 43785 });
    const fast = { transmitIntervalMs: 50, receiveIntervalMs: 50, detectMultiplier: 3, passive: false };
    const sa = new BfdSession('127.0.0.1', '127.0.0.1', fast, a, 43785);
    const sb = new BfdSession('127.0.0.1', '127.0.0.1', fast, b, 43784);
    // The BFD timers and the receive thread do not hold the event loop open (the BGP sockets do).
    const keepAlive = setInterval(() => undefined, 1000);
    t.teardown(() => {
      clearInterval(keepAlive);
      sa.stop();
      sb.stop();
      a.close();
      b.close();
    });
    const upA = new Promise<void>((resolve) => sa.on('state', (e) => e.state === 'up' && resolve()));
    sa.start();
    sb.start();
    await upA;
    const end = Date.now() + 2000;
    while (sb.state !== 'up' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    t.equal(sb.state, 'up', 'both ends Up');
    const u = createSocket('udp4');
    u.bind(0, '127.0.0.1');
    await new Promise((r) => u.once('listening', r));
    u.setTTL(64);
    await new Promise((r) =>
      u.send(encodeBfd(packetFor(initialState(9), { ...cfg })), 43784, '127.0.0.1', r),
    );
    await new Promise((r) => setTimeout(r, 100));
    u.close();
    t.ok(a.counters.droppedTtl >= 1, 'packet with TTL 64 dropped (RFC 5881 §5)');
    const downA = new Promise<{ diag: number }>((resolve) =>
      sa.on('state', (e) => e.state === 'down' && resolve(e)),
    );
    const t0 = Date.now();
    sb.stop();
    const ev = await downA;
    t.equal(ev.diag, 1, 'control detection time expired');
    t.ok(Date.now() - t0 < 1000, `detected in ${Date.now() - t0} ms (3 × 50 ms)`);
  },
);
