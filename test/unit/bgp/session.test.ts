import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { BgpSpeaker, type PeerConfig, type SessionInfo } from '../../../src/bgp/index.js';
import { decodeMessage, encodeMessage, makeOpen, MessageFramer } from '../../../src/bgp/wire/index.js';

function peer(over: Partial<PeerConfig>): PeerConfig {
  return {
    name: 'p',
    localAsn: 65001,
    peerAsn: 65000,
    peerAddress: '127.0.0.1',
    peerPort: 179,
    routerId: '10.0.0.1',
    holdTimeSec: 9,
    connectRetrySec: 1,
    passive: false,
    ebgpMultihop: false,
    gracefulRestart: false,
    restartTimeSec: 120,
    ...over,
  };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const byName = (s: BgpSpeaker, n: string): SessionInfo | undefined => s.sessions().find((x) => x.peer === n);

t.test('two speakers on loopback: Established, routes counted, withdrawn, collision resolved', async (t) => {
  const a = new BgpSpeaker({
    listen: { host: '127.0.0.1', port: 0 },
    peers: [peer({ name: 'b', localAsn: 65000, peerAsn: 4200000001, routerId: '10.0.0.2', passive: true })],
  });
  await a.start();
  const port = a.listenPort()!;
  const b = new BgpSpeaker({
    peers: [peer({ name: 'a', localAsn: 4200000001, peerAsn: 65000, peerPort: port })],
  });
  t.teardown(async () => {
    await b.stop({ graceful: false });
    await a.stop({ graceful: false });
  });
  const routes = Array.from({ length: 2000 }, (_, i) => ({
    prefix: `10.1.${i >> 8}.${i & 255}/32`,
    communities: [65000 * 65536 + 1],
    largeCommunities: [[4200000001, 1, 2] as const],
  }));
  b.setRoutes(new Map([['a', routes]]));
  await b.start();
  await until(
    'established',
    () => byName(b, 'a')?.state === 'established' && byName(a, 'b')?.state === 'established',
  );
  await until('2000 prefixes received', () => byName(a, 'b')?.prefixesReceived === 2000);
  t.equal(byName(b, 'a')?.prefixesSent, 2000);
  t.equal(byName(a, 'b')?.peerAsn, 4200000001, '4-octet ASN negotiated');
  t.ok((byName(b, 'a')?.updatesSent ?? 0) < 20, 'packed into few UPDATEs');
  b.setRoutes(new Map([['a', routes.slice(0, 10)]]));
  await until('withdrawals applied', () => byName(b, 'a')?.prefixesSent === 10);
  await b.stop({ graceful: false });
  await until('a sees the session go down', () => byName(a, 'b')?.state !== 'established');
  t.match(byName(a, 'b')?.lastError ?? '', /6\/2/, 'Cease/Administrative Shutdown received');
});

t.test('malformed input gets the prescribed NOTIFICATION and a reset, the listener survives', async (t) => {
  const a = new BgpSpeaker({
    listen: { host: '127.0.0.1', port: 0 },
    peers: [peer({ name: 'x', localAsn: 65000, peerAsn: 65009, passive: true })],
  });
  await a.start();
  t.teardown(() => a.stop({ graceful: false }));
  t.match(
    byName(a, 'x'),
    { localAsn: 65000, peerAsn: 65009 },
    'before any OPEN the status shows the configured AS numbers (not 0)',
  );
  const port = a.listenPort()!;
  async function exchange(
    send: (sock: ReturnType<typeof connect>) => void,
  ): Promise<{ code: number; subcode: number }> {
    const sock = connect({ host: '127.0.0.1', port });
    await once(sock, 'connect');
    const framer = new MessageFramer();
    const got = new Promise<{ code: number; subcode: number }>((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) {
          const m = decodeMessage(raw);
          if (m.type === 'notification') resolve({ code: m.code, subcode: m.subcode });
        }
      });
      sock.on('close', () => reject(new Error('closed without NOTIFICATION')));
    });
    send(sock);
    const r = await got;
    sock.destroy();
    return r;
  }
  const badAs = await exchange((s) =>
    s.write(encodeMessage(makeOpen({ asn: 65010, holdTime: 9, routerId: '9.9.9.9' }))),
  );
  t.same(badAs, { code: 2, subcode: 2 }, 'wrong peer AS → OPEN/Bad Peer AS');
  const badMarker = await exchange((s) => s.write(Buffer.alloc(19, 0)));
  t.same(badMarker, { code: 1, subcode: 1 }, 'bad marker → Header/Connection Not Synchronized');
  const early = await exchange((s) => {
    s.write(encodeMessage(makeOpen({ asn: 65009, holdTime: 9, routerId: '9.9.9.9' })));
    s.write(encodeMessage({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }));
  });
  t.same(early, { code: 5, subcode: 2 }, 'ROUTE-REFRESH in OpenConfirm → FSM error');
  const badUpdate = await exchange((s) => {
    s.write(encodeMessage(makeOpen({ asn: 65009, holdTime: 9, routerId: '9.9.9.9' })));
    s.write(encodeMessage({ type: 'keepalive' }));
    const h = Buffer.alloc(19, 0xff);
    h.writeUInt16BE(23, 16);
    h.writeUInt8(2, 18);
    s.write(Buffer.concat([h, Buffer.from([0, 0x10, 0, 0])]));
  });
  t.same(badUpdate, { code: 3, subcode: 1 }, 'bad withdrawn length → UPDATE/Malformed Attribute List');
});

t.test('connection collision: both sides dial and listen, exactly one session survives', async (t) => {
  const a = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, peers: [] });
  const b = new BgpSpeaker({ listen: { host: '127.0.0.1', port: 0 }, peers: [] });
  await a.start();
  await b.start();
  t.teardown(async () => {
    await a.stop({ graceful: false });
    await b.stop({ graceful: false });
  });
  a.setPeers([
    peer({ name: 'b', localAsn: 65000, peerAsn: 65001, routerId: '10.0.0.1', peerPort: b.listenPort()! }),
  ]);
  b.setPeers([
    peer({ name: 'a', localAsn: 65001, peerAsn: 65000, routerId: '10.0.0.2', peerPort: a.listenPort()! }),
  ]);
  await until(
    'both established',
    () => byName(a, 'b')?.state === 'established' && byName(b, 'a')?.state === 'established',
  );
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(byName(a, 'b')?.state, 'established', 'still established after the collision settled');
  t.equal(byName(b, 'a')?.state, 'established');
});

t.test('route refresh: plain → routes + End-of-RIB; enhanced (RFC 7313) → BoRR, routes, EoRR', async (t) => {
  const a = new BgpSpeaker({
    listen: { host: '127.0.0.1', port: 0 },
    peers: [peer({ name: 'x', localAsn: 65000, peerAsn: 65009, passive: true })],
  });
  a.setRoutes(new Map([['x', [{ prefix: '192.0.2.1/32', communities: [], largeCommunities: [] }]]]));
  await a.start();
  t.teardown(() => a.stop({ graceful: false }));
  for (const enhanced of [false, true]) {
    const sock = connect({ host: '127.0.0.1', port: a.listenPort()! });
    await once(sock, 'connect');
    const framer = new MessageFramer();
    const got: string[] = [];
    sock.on('data', (chunk: Buffer) => {
      for (const raw of framer.push(chunk)) {
        const m = decodeMessage(raw);
        if (m.type === 'update') got.push(m.nlri.length ? `update ${m.nlri.join(',')}` : 'eor');
        if (m.type === 'route-refresh') got.push(`rr${m.subtype}`);
      }
    });
    sock.write(
      encodeMessage(
        makeOpen({ asn: 65009, holdTime: 9, routerId: '9.9.9.9', enhancedRouteRefresh: enhanced }),
      ),
    );
    sock.write(encodeMessage({ type: 'keepalive' }));
    await until('initial routes and EoR', () => got.length >= 3);
    got.length = 0;
    sock.write(encodeMessage({ type: 'route-refresh', afi: 1, subtype: 2, safi: 1 }));
    sock.write(encodeMessage({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 }));
    await until('refresh answered', () => got.length >= (enhanced ? 3 : 2));
    t.same(got, enhanced ? ['rr1', 'update 192.0.2.1/32', 'rr2'] : ['update 192.0.2.1/32', 'eor']);
    sock.destroy();
    await until('session reset', () => byName(a, 'x')?.state !== 'established');
  }
});

t.test(
  'a connection closed in OpenConfirm is dialled again while a half-open inbound one lingers',
  async (t) => {
    // The peer: takes our connection, answers OPEN, and closes it once we confirmed (FRR did this in CI).
    let dialled = 0;
    const held: Array<ReturnType<typeof connect>> = [];
    const router = createServer((sock) => {
      dialled++;
      held.push(sock);
      const framer = new MessageFramer();
      sock.on('data', (chunk: Buffer) => {
        for (const raw of framer.push(chunk)) {
          const m = decodeMessage(raw);
          if (m.type === 'open')
            sock.write(encodeMessage(makeOpen({ asn: 65000, holdTime: 9, routerId: '9.9.9.9' })));
          if (m.type === 'keepalive' && dialled === 1) sock.destroy();
        }
      });
      sock.on('error', () => undefined);
    });
    router.listen(0, '127.0.0.1');
    await once(router, 'listening');
    const routerPort = (router.address() as AddressInfo).port;
    const speaker = new BgpSpeaker({
      listen: { host: '127.0.0.1', port: 0 },
      peers: [peer({ name: 'r', localAsn: 65001, peerAsn: 65000, peerPort: routerPort })],
    });
    // The half-open inbound connection: connected to our listener, never sends its OPEN.
    const inbound: Array<ReturnType<typeof connect>> = [];
    t.teardown(async () => {
      for (const s of [...held, ...inbound]) s.destroy();
      await speaker.stop({ graceful: false });
      router.close();
    });
    await speaker.start();
    const silent = connect({ host: '127.0.0.1', port: speaker.listenPort()! });
    inbound.push(silent);
    silent.on('error', () => undefined);
    await once(silent, 'connect');
    await until('the first connection', () => dialled >= 1);
    await until('dialled again after the close in OpenConfirm', () => dialled >= 2, 8000);
    t.ok(dialled >= 2, `dialled ${dialled} times`);
  },
);
