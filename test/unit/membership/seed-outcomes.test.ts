/** What a joiner makes of a seed that is slow, one that closes on it, and one with another key. */
import t from 'tap';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { encodeEnvelope } from '../../../src/membership/codec.js';
import { Keyring } from '../../../src/membership/keyring.js';
import { Memberlist } from '../../../src/membership/memberlist.js';
import { readFrame, writeFrame } from '../../../src/membership/transport.js';

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; seed: string }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return { server, seed: `127.0.0.1:${address.port}` };
}

t.test(
  'a seed that takes the connection and answers after the deadline is busy, not a refusal',
  async (t) => {
    const held: Socket[] = [];
    const slow = await listen((s) => held.push(s));
    const closing = await listen((s) => s.end());
    const keyed = (name: string, key: number) =>
      Memberlist.create({
        name,
        bindAddr: '127.0.0.1',
        bindPort: 0,
        profile: 'local',
        keys: [Buffer.alloc(32, key)],
      });
    const joiner = await keyed('j', 7);
    const other = await keyed('k', 9);
    t.teardown(async () => {
      for (const s of held) s.destroy();
      slow.server.close();
      closing.server.close();
      await joiner.shutdown();
      await other.shutdown();
    });
    const results = await joiner.contactSeeds([slow.seed, closing.seed, `127.0.0.1:${other.address().port}`]);
    t.same(
      results.map((r) => r.outcome),
      ['busy', 'rejected', 'rejected'],
    );
    t.match(results[0]?.error, /sent no state \(timeout\)/);
    t.match(results[2]?.error, /sent no state \(closed\)/, 'another key: the seed closes at once');
  },
);

t.test('a seed waits for a late joiner past the TCP deadline: it answers instead of closing', async (t) => {
  // profile 'local': tcpTimeoutMs 1000. The joiner writes its frame 1.3 s after connecting (starved).
  const seed = await Memberlist.create({ name: 's', bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' });
  const sock = createConnection({ host: '127.0.0.1', port: seed.address().port });
  t.teardown(async () => {
    sock.destroy();
    await seed.shutdown();
  });
  await new Promise((r) => sock.once('connect', r));
  await new Promise((r) => setTimeout(r, 1300));
  const late = {
    name: 'late',
    addr: '127.0.0.1',
    port: 9,
    meta: Buffer.alloc(0),
    incarnation: 1,
    state: 'alive' as const,
    protocolMin: 1,
    protocolMax: 1,
  };
  writeFrame(
    sock,
    new Keyring([]).seal(encodeEnvelope({ cluster: 'herald', pushPull: { join: true, states: [late] } })),
  );
  const reply = await readFrame(sock, 2000);
  t.ok(reply.length > 0, 'the seed answered with its state');
  t.ok(
    seed.members().some((m) => m.name === 'late'),
    'and merged the late joiner',
  );
});
