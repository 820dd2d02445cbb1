/**
 * Multi-process membership faults on loopback: real agent processes (dist/src/cli/tools/member-agent.js),
 * killed, stopped, restarted, fed garbage and a wrong key. No root needed.
 */
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import t from 'tap';
import { type Peer, sleep, spawnHerald, waitConverged } from '../../bench/membership/cluster.js';
import { encodeEnvelope } from '../../src/membership/codec.js';
import { Keyring } from '../../src/membership/keyring.js';

const KEY = '11'.repeat(32);
const OTHER_KEY = '22'.repeat(32);
// Below the ephemeral range (32768+), so outgoing connections never hold our ports.
const base = 26000 + (process.pid % 500) * 10;
const peers: Peer[] = [];

function start(name: string, port: number, join: number[] = [], keys = [KEY]): Peer {
  const p = spawnHerald({
    name,
    bind: '127.0.0.1',
    port,
    profile: 'local',
    keys,
    join: join.map((j) => `127.0.0.1:${j}`),
  });
  peers.push(p);
  return p;
}

async function stats(p: Peer): Promise<{ dropped: Record<string, number>; droppedTotal: number }> {
  const e = await p.ask('stats', 'stats');
  return e.stats as { dropped: Record<string, number>; droppedTotal: number };
}

async function members(p: Peer): Promise<Array<{ node: string; state: string; inc: number; meta: string }>> {
  const e = await p.ask('members', 'members');
  return e.members as Array<{ node: string; state: string; inc: number; meta: string }>;
}

t.teardown(async () => {
  for (const p of peers) p.kill('SIGKILL');
  await Promise.all(peers.map((p) => p.exited()));
});

t.test('a 4-member cluster on loopback survives faults', async (t) => {
  const n0 = start('n0', base);
  await n0.waitFor((e) => e.ev === 'ready', 10_000, 'ready');
  const cluster = [
    n0,
    start('n1', base + 1, [base]),
    start('n2', base + 2, [base]),
    start('n3', base + 3, [base]),
  ];
  await waitConverged(cluster, 15_000);
  t.pass('converged');

  await t.test('garbage and truncated UDP/TCP input is dropped and counted, nobody crashes', async (t) => {
    const before = await stats(n0);
    const udp = createSocket('udp4');
    const frames = [
      Buffer.from('not a packet at all'),
      Buffer.from([0x02, 1, 2, 3]), // truncated GCM frame
      Buffer.alloc(200, 0x02), // GCM frame that does not authenticate
      Buffer.concat([Buffer.from([0x01]), encodeEnvelope({ cluster: 'herald' })]), // plaintext, keys required
      Buffer.alloc(0),
    ];
    for (const f of frames) await new Promise<void>((r) => udp.send(f, base, '127.0.0.1', () => r()));
    udp.close();
    const tcp = async (bytes: Buffer): Promise<void> =>
      new Promise((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port: base }, () => {
          s.end(bytes);
        });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
    await tcp(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2])); // oversize length
    await tcp(Buffer.from([0, 0, 0, 100, 1, 2, 3])); // truncated frame
    const valid = new Keyring([Buffer.from(KEY, 'hex')]).seal(Buffer.from('garbage inside a valid frame'));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(valid.length);
    await tcp(Buffer.concat([len, valid]));
    await sleep(300);
    const after = await stats(n0);
    const d = (k: string): number => (after.dropped[k] ?? 0) - (before.dropped[k] ?? 0);
    t.ok(d('malformed') >= 2, `malformed counted (${d('malformed')})`);
    t.ok(d('truncated') >= 3, `truncated counted (${d('truncated')})`);
    t.ok(d('unauthenticated') >= 1, 'unauthenticated counted');
    t.ok(d('plaintext') >= 1, 'plaintext refused and counted');
    t.ok(d('oversize') >= 1, 'oversize TCP frame counted');
    t.ok(n0.alive(), 'n0 still runs');
    await waitConverged(cluster, 5000);
  });

  await t.test('a member with the wrong key cannot join and is counted as unauthenticated', async (t) => {
    const before = await stats(n0);
    const intruder = start('intruder', base + 9, [base], [OTHER_KEY]);
    const ready = await intruder.waitFor((e) => e.ev === 'ready', 10_000, 'ready');
    t.match(String(ready.joinError), /join failed/);
    await sleep(300);
    const after = await stats(n0);
    t.ok(after.dropped.unauthenticated! > before.dropped.unauthenticated!, 'n0 dropped its frames');
    for (const p of cluster)
      t.notOk(
        p.events.some((e) => e.node === 'intruder'),
        `${p.name} never saw it`,
      );
    intruder.kill();
  });

  await t.test('metadata updates and user broadcasts reach everyone', async (t) => {
    n0.send('meta eth0,eth1');
    n0.send('broadcast rates:42');
    for (const p of cluster.slice(1)) {
      await p.waitFor((e) => e.ev === 'update' && e.node === 'n0' && e.meta === 'eth0,eth1', 5000, 'meta');
      await p.waitFor((e) => e.ev === 'message' && e.payload === 'rates:42', 5000, 'message');
    }
    t.pass('update + message seen by n1..n3');
  });

  await t.test('SIGSTOP shorter than the suspicion timeout: no death', async (t) => {
    const marks = cluster.map((p) => p.events.length);
    cluster[3]!.kill('SIGSTOP');
    await sleep(150);
    cluster[3]!.kill('SIGCONT');
    await sleep(1500);
    cluster.forEach((p, i) =>
      t.notOk(
        p.events.slice(marks[i]).some((e) => e.ev === 'dead'),
        `${p.name}: no dead verdict`,
      ),
    );
  });

  await t.test(
    'SIGSTOP longer than the suspicion timeout: dead, then back alive by refutation',
    async (t) => {
      const victim = cluster[3]!;
      const others = cluster.slice(0, 3);
      const marks = others.map((p) => p.events.length);
      victim.kill('SIGSTOP');
      await Promise.all(
        others.map((p, i) => p.waitFor((e) => e.ev === 'dead' && e.node === 'n3', 5000, 'dead n3', marks[i])),
      );
      victim.kill('SIGCONT');
      await Promise.all(
        others.map((p, i) =>
          p.waitFor((e) => e.ev === 'join' && e.node === 'n3', 10_000, 'n3 rejoin', marks[i]),
        ),
      );
      const view = (await members(n0)).find((m) => m.node === 'n3');
      t.equal(view?.state, 'alive');
      t.ok((view?.inc ?? 0) > 0, `n3 refuted with a higher incarnation (${view?.inc})`);
    },
  );

  await t.test('SIGKILL: every survivor declares it dead; restart with the same name rejoins', async (t) => {
    const victim = cluster[2]!;
    const others = cluster.filter((p) => p !== victim);
    const incBefore = (await members(n0)).find((m) => m.node === 'n2')?.inc ?? -1;
    const marks = others.map((p) => p.events.length);
    const t0 = Date.now();
    victim.kill('SIGKILL');
    const seen = await Promise.all(
      others.map((p, i) => p.waitFor((e) => e.ev === 'dead' && e.node === 'n2', 5000, 'dead n2', marks[i])),
    );
    t.ok(Math.max(...seen.map((e) => e.t - t0)) < 3000, 'detected within 3 s');
    await victim.exited();
    const again = start('n2', base + 2, [base + 1]);
    cluster[2] = again;
    await Promise.all(
      others.map((p, i) =>
        p.waitFor((e) => e.ev === 'join' && e.node === 'n2', 10_000, 'n2 rejoin', marks[i]),
      ),
    );
    await waitConverged(cluster, 10_000);
    const inc = (await members(n0)).find((m) => m.node === 'n2')?.inc ?? -1;
    t.ok(inc > incBefore, `restarted n2 outbid its old incarnation (${incBefore} → ${inc})`);
  });

  await t.test('graceful leave is reported as leave, not death', async (t) => {
    const leaver = cluster[1]!;
    const others = cluster.filter((p) => p !== leaver);
    const marks = others.map((p) => p.events.length);
    await leaver.ask('leave', 'left');
    await Promise.all(
      others.map((p, i) => p.waitFor((e) => e.ev === 'leave' && e.node === 'n1', 5000, 'leave n1', marks[i])),
    );
    leaver.kill('SIGTERM');
    await sleep(800);
    others.forEach((p, i) =>
      t.notOk(
        p.events.slice(marks[i]).some((e) => e.ev === 'dead'),
        `${p.name}: no dead verdict after leave`,
      ),
    );
  });

  for (const p of cluster) if (p.alive()) t.ok(true, `${p.name} alive at the end`);
});
