/** In-process Memberlist instances on loopback: API behaviour, key rotation, leave, errors. */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { encodeEnvelope, encodeMessage } from '../../../src/membership/codec.js';
import { Keyring } from '../../../src/membership/keyring.js';
import { JoinError, Memberlist } from '../../../src/membership/memberlist.js';
import type { Member, NameConflict } from '../../../src/membership/types.js';

const k1 = Buffer.alloc(32, 7);
const k2 = Buffer.alloc(32, 9);

function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const view = (m: Memberlist, name: string): Member | undefined => m.members().find((x) => x.name === name);

type Tap = { teardown(fn: () => unknown): void };

/** Members named `names` on loopback (or `host`), all joined through the first; shut down at teardown. */
async function cluster(t: Tap, names: string[], host = '127.0.0.1'): Promise<Memberlist[]> {
  const ms: Memberlist[] = [];
  t.teardown(async () => {
    for (const m of ms) await m.shutdown();
  });
  for (const name of names)
    ms.push(await Memberlist.create({ name, bindAddr: host, bindPort: 0, profile: 'local' }));
  const seed = host.includes(':') ? `[${host}]:${ms[0]!.address().port}` : `${host}:${ms[0]!.address().port}`;
  for (const m of ms.slice(1)) await m.join([seed]);
  await until(
    () => ms.every((m) => m.members().filter((x) => x.state === 'alive').length === ms.length),
    5000,
    'convergence',
  );
  return ms;
}

t.test('create validates config and binds; join errors name the seed', async (t) => {
  await t.rejects(Memberlist.create({ name: 'x y' }), /name: must not contain whitespace/);
  const a = await Memberlist.create({ name: 'solo', bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' });
  t.teardown(() => a.shutdown());
  t.ok(a.address().port > 0, 'picked a free port');
  t.equal(a.address().address, '127.0.0.1');
  t.same(
    a.members().map((m) => [m.name, m.state]),
    [['solo', 'alive']],
  );
  t.same(a.localMember().incarnation, 0);
  await t.rejects(a.join(['127.0.0.1:1']), /membership join failed: 127\.0\.0\.1:1: /);
  await t.rejects(a.join(['nonsense']), /bad address/);
  t.throws(() => a.setMeta(Buffer.alloc(600)), /exceeds metaMaxSize 512/);
  t.throws(() => a.broadcast(Buffer.alloc(2000)), /exceeds userMessageMaxSize/);
});

t.test('metadata given at create: a peer sees it from the join on, never an empty one', async (t) => {
  const opts = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' } as const;
  await t.rejects(
    Memberlist.create({ name: 'big', ...opts, meta: Buffer.alloc(600) }),
    /exceeds metaMaxSize 512/,
  );
  const a = await Memberlist.create({ name: 'ma', ...opts, meta: Buffer.from('if=eth0') });
  const b = await Memberlist.create({ name: 'mb', ...opts });
  t.teardown(async () => {
    for (const m of [a, b]) await m.shutdown();
  });
  const seen: string[] = [];
  b.on('join', (m) => seen.push(`${m.name} ${m.meta.toString()}`));
  await b.join([`127.0.0.1:${a.address().port}`]);
  t.same(seen, ['ma if=eth0'], 'the joining member learns the metadata with the member itself');
  t.equal(a.localMember().incarnation, 0, 'no setMeta, no incarnation bump');
});

t.test('three members: join, metadata, keyed broadcasts, key rotation, leave', async (t) => {
  const opts = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' as const, keys: [k1] };
  const a = await Memberlist.create({ name: 'a', ...opts });
  const b = await Memberlist.create({ name: 'b', ...opts });
  const c = await Memberlist.create({ name: 'c', ...opts });
  t.teardown(async () => {
    for (const m of [a, b, c]) await m.shutdown();
  });
  const seed = `127.0.0.1:${a.address().port}`;
  const joins: string[] = [];
  a.on('join', (m) => joins.push(m.name));
  t.equal(await b.join([seed]), 1);
  t.equal(await c.join([seed, '127.0.0.1:1']), 1, 'one reachable seed is enough');
  await until(
    () => [a, b, c].every((m) => m.members().filter((x) => x.state === 'alive').length === 3),
    5000,
    'convergence',
  );
  t.same(joins.sort(), ['b', 'c']);

  const updates: Member[] = [];
  c.on('update', (m) => updates.push(m));
  a.setMeta(Buffer.from('if=eth0'));
  // c and b hear it in separate gossip rounds (often >20 ms apart): wait for both.
  await until(() => updates.length > 0 && view(b, 'a')?.meta.length !== 0, 3000, 'update');
  t.equal(updates[0]?.meta.toString(), 'if=eth0');
  t.equal(updates[0]?.incarnation, 1, 'metadata versioned by incarnation');
  t.equal(view(b, 'a')?.meta.toString(), 'if=eth0');

  const got: string[] = [];
  c.on('message', (m) => got.push(`${m.from}:${m.key}:${m.payload.toString()}`));
  a.broadcast(Buffer.from('hello'));
  a.broadcast(Buffer.from('rate=1'), { key: 'rates' });
  a.broadcast(Buffer.from('rate=2'), { key: 'rates' });
  await until(() => got.includes('a::hello') && got.includes('a:rates:rate=2'), 3000, 'messages');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(got.includes('a:rates:rate=1'), 'the superseded keyed payload was never delivered');
  t.equal(got.filter((g) => g === 'a::hello').length, 1, 'delivered once although re-gossiped');

  // Rotation without downtime: add k2 everywhere, switch primaries one by one, drop k1.
  for (const m of [a, b, c]) m.keyring.addKey(k2);
  a.keyring.useKey(k2);
  b.keyring.useKey(k2);
  c.keyring.useKey(k2);
  for (const m of [a, b, c]) m.keyring.removeKey(k1);
  const before = a.stats().dropped.unauthenticated;
  await new Promise((r) => setTimeout(r, 800));
  t.ok(
    [a, b, c].every((m) => m.members().every((x) => x.state === 'alive')),
    'nobody suspected during the rotation',
  );
  t.ok(a.stats().dropped.unauthenticated - before <= 2, 'at most in-flight packets failed');

  const left: string[] = [];
  a.on('leave', (m) => left.push(m.name));
  const dead: string[] = [];
  a.on('dead', (m) => dead.push(m.name));
  await c.leave(2000);
  await until(() => left.includes('c'), 3000, 'leave event');
  await c.shutdown();
  await new Promise((r) => setTimeout(r, 700));
  t.same(dead, [], 'a graceful leave is not a death');
  t.equal(view(b, 'c')?.state, 'left');
  const s = a.stats();
  t.ok(s.probes > 0 && s.udpPacketsIn > 0 && s.tcpStreamsIn >= 2, 'counters move');
});

t.test('a member alone runs no probe or gossip timer; news waits for the first member to join', async (t) => {
  const opts = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' } as const;
  const a = await Memberlist.create({ name: 'lone', ...opts });
  const b = await Memberlist.create({ name: 'later', ...opts });
  t.teardown(async () => {
    for (const m of [a, b]) await m.shutdown();
  });
  // News while alone: a user broadcast and new metadata are queued, with nobody to send them to.
  a.broadcast(Buffer.from('while alone'), { key: 'k' });
  a.setMeta(Buffer.from('v2'));
  await new Promise((r) => setImmediate(r));
  t.same(
    a.timersArmed(),
    { probe: false, gossip: false },
    'alone: no timer for rounds that would send nothing',
  );

  const got: string[] = [];
  b.on('message', (m) => got.push(`${m.from}:${m.payload.toString()}`));
  await b.join([`127.0.0.1:${a.address().port}`]);
  await until(() => a.timersArmed().probe && b.timersArmed().probe, 5000, 'both probing');
  await until(() => got.includes('lone:while alone'), 5000, 'the queued broadcast to reach the newcomer');
  t.pass('the news queued while alone reached the first member to join');

  await b.shutdown();
  await until(() => view(a, 'later')?.state === 'dead', 10_000, 'the newcomer declared dead');
  await until(
    () => !a.timersArmed().probe && !a.timersArmed().gossip,
    15_000,
    'the timers to stop once alone again',
  );
  t.pass('alone again: no probe or gossip timer');
});

t.test('IPv6: two members on ::1 find each other and detect a shutdown', async (t) => {
  const [a, b] = (await cluster(t, ['v6a', 'v6b'], '::1')) as [Memberlist, Memberlist];
  t.equal(view(a, 'v6b')?.address, '::1');
  await b.shutdown();
  await until(() => view(a, 'v6b')?.state === 'dead', 5000, 'death over IPv6');
  t.pass('declared dead after shutdown without leave');
});

t.test('watch() adds a direct probe of the watched member every round; TCP floods are capped', async (t) => {
  const [a] = (await cluster(t, ['wa', 'wb', 'wc'])) as [Memberlist];
  const rate = async (): Promise<number> => {
    const p0 = a.stats().probes;
    await new Promise((r) => setTimeout(r, 2000));
    return a.stats().probes - p0;
  };
  const plain = await rate();
  a.watch(['wc', 'wa']);
  const watched = await rate();
  t.ok(watched > plain * 1.25, `more probes while watching (${plain} → ${watched} in 2 s)`);
  a.watch([]);

  const { createConnection } = await import('node:net');
  const socks = Array.from({ length: 80 }, () =>
    createConnection({ host: '127.0.0.1', port: a.address().port }),
  );
  for (const s of socks) s.on('error', () => undefined);
  // The 80 connects are accepted over time on a loaded machine: wait for the refusals to add up.
  await until(() => a.stats().dropped.busy >= 10, 3000, 'busy drops');
  t.ok(a.stats().dropped.busy >= 10, `connections beyond the cap refused (${a.stats().dropped.busy})`);
  for (const s of socks) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  t.ok(
    a.members().every((m) => m.state === 'alive'),
    'membership unaffected by the flood',
  );
});

t.test('a starved event loop raises awareness instead of accusing peers', async (t) => {
  const [a] = (await cluster(t, ['sa', 'sb'])) as [Memberlist];
  const suspects: string[] = [];
  a.on('suspect', (m) => suspects.push(m.name));
  const spin = (ms: number): void => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // burn CPU: neither member runs while this loop does
    }
  };
  spin(300);
  await new Promise((r) => setTimeout(r, 150));
  t.ok(a.stats().lateTicks >= 1, `late tick noticed, awareness raised (${a.stats().lateTicks})`);
  await new Promise((r) => setTimeout(r, 500));
  t.same(suspects, [], 'no suspicion although acks were read late');
});

t.test(
  'a second process with a live member name at another address is refused; both sides say so',
  async (t) => {
    const [a, b] = (await cluster(t, ['ca', 'cb'])) as [Memberlist, Memberlist];
    const seen: NameConflict[] = [];
    a.on('conflict', (c) => seen.push(c));
    const twin = await Memberlist.create({
      name: 'cb',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      profile: 'local',
    });
    t.teardown(() => twin.shutdown());
    const twinSeen: NameConflict[] = [];
    twin.on('conflict', (c) => twinSeen.push(c));
    const seed = `127.0.0.1:${a.address().port}`;
    const err = await twin.join([seed]).catch((e: unknown) => e);
    t.ok(err instanceof JoinError, 'join rejects');
    t.match(
      (err as Error).message,
      `the name "cb" is alive at 127.0.0.1:${b.address().port} (this member is 127.0.0.1:${twin.address().port}); refusing to join`,
      'names where the live member is, and where this one is',
    );
    t.same(
      (await twin.contactSeeds([seed])).map((r) => r.outcome),
      ['conflict'],
    );
    t.same(
      twin.members().map((m) => m.name),
      ['cb'],
      'the refused twin learned nobody',
    );
    await until(() => seen.length > 0, 2000, 'conflict on the seed');
    t.same(seen[0], {
      node: 'cb',
      self: false,
      known: `127.0.0.1:${b.address().port}`,
      claimed: `127.0.0.1:${twin.address().port}`,
    });
    t.ok(a.stats().nameConflicts >= 1, 'counted on the seed');
    await new Promise((r) => setTimeout(r, 300));
    const cbs = a.members().filter((m) => m.name === 'cb');
    t.same(
      cbs.map((m) => [m.port, m.state]),
      [[b.address().port, 'alive']],
      'one member with that name, still the first one',
    );
    t.equal(b.localMember().incarnation, 0, 'no incarnation climb');
  },
);

t.test('a captured encrypted packet replayed later changes nothing', async (t) => {
  const opts = { bindAddr: '127.0.0.1', bindPort: 0, profile: 'local' as const, keys: [k1] };
  const a = await Memberlist.create({ name: 'ra', ...opts });
  const b = await Memberlist.create({ name: 'rb', ...opts });
  t.teardown(async () => {
    for (const m of [a, b]) await m.shutdown();
  });
  await b.join([`127.0.0.1:${a.address().port}`]);
  await until(() => view(a, 'rb')?.state === 'alive', 3000, 'join');
  // What an eavesdropper could have recorded: rb's own graceful leave at its current incarnation.
  const left = encodeMessage({ kind: 'dead', node: 'rb', incarnation: 0, from: 'rb' });
  const capture = new Keyring([k1]).seal(encodeEnvelope({ cluster: 'herald' }, [left]));
  const udp = createSocket('udp4');
  t.teardown(() => udp.close());
  const send = (): Promise<void> =>
    new Promise((r) => udp.send(capture, a.address().port, '127.0.0.1', () => r()));
  await send();
  await until(() => view(a, 'rb')?.state === 'left', 2000, 'the original is believed');
  await until(() => view(a, 'rb')?.state === 'alive', 3000, 'rb refutes');
  const before = a.stats().dropped.replayed;
  await send();
  await send();
  await until(() => a.stats().dropped.replayed >= before + 2, 2000, 'replays dropped');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(view(a, 'rb')?.state, 'alive', 'the replay changed nothing');
});
