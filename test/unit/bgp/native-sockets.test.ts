import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { connectTcp, listenTcp } from '../../../src/bgp/native-sockets.js';

async function serve(fd: number): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, accepted };
}

async function echo(s: Socket): Promise<string> {
  s.write('ping');
  const [d] = (await once(s, 'data')) as [Buffer];
  return d.toString();
}

t.test('TCP MD5 (RFC 2385) on loopback: right key talks, wrong or missing key never connects', async (t) => {
  const { server, port } = await serve(
    listenTcp('127.0.0.1', 0, { md5: [{ peer: '127.0.0.1', key: 'herald-key' }] }),
  );
  t.teardown(() => server.close());
  const ok = await connectTcp('127.0.0.1', port, { md5Key: 'herald-key' }, 2000);
  t.equal(await echo(ok), 'ping', 'stream works through net.Socket adopting the fd');
  t.equal(ok.remotePort, port);
  ok.destroy();
  await t.rejects(
    connectTcp('127.0.0.1', port, { md5Key: 'wrong' }, 500),
    { code: 'ETIMEDOUT' },
    'wrong key: SYN dropped',
  );
  await t.rejects(connectTcp('127.0.0.1', port, {}, 500), { code: 'ETIMEDOUT' }, 'no key: SYN dropped');
});

t.test('GTSM: a listener with minimum TTL 255 accepts only TTL-255 senders', async (t) => {
  const { server, port } = await serve(listenTcp('127.0.0.1', 0, { md5: [], minTtl: 255, ttl: 255 }));
  t.teardown(() => server.close());
  await t.rejects(connectTcp('127.0.0.1', port, {}, 500), { code: 'ETIMEDOUT' }, 'default TTL 64 dropped');
  const s = await connectTcp('127.0.0.1', port, { ttl: 255, minTtl: 255 }, 2000);
  t.equal(await echo(s), 'ping');
  s.destroy();
});

t.test('connect errors carry errno codes and leak no fd', async (t) => {
  await t.rejects(connectTcp('127.0.0.1', 1, {}, 1000), { code: 'ECONNREFUSED' });
  t.throws(() => listenTcp('not-an-ip', 0, { md5: [] }), /not an IP address/);
});
