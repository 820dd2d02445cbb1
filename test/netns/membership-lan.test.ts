/**
 * Membership across network namespaces (TestLan tag h4): four members on a bridge, random packet loss
 * injected with nftables (no false deaths), then a link going down and up (partition and heal).
 */
import t from 'tap';
import { type Peer, sleep, spawnHerald, waitConverged } from '../../bench/membership/cluster.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['ip', 'nft', 'nsenter'] });
const KEY = 'ab'.repeat(32);
const LOSS_PERCENT = 5;
const LOSS_SECONDS = 15;

t.test('membership on a namespace LAN', async (t) => {
  const lan = new TestLan('h4');
  const peers: Peer[] = [];
  t.teardown(async () => {
    for (const p of peers) p.kill('SIGKILL');
    await lan.destroy();
  });
  const names = ['a', 'b', 'c', 'd'];
  const hub = await lan.createNamespace('hub');
  const nss: string[] = [];
  for (const n of names) nss.push(await lan.createNamespace(n));
  await lan.bridge(
    hub,
    nss.map((ns, i) => ({ ns, ifname: 'eth0', addrs: [`10.44.0.${i + 1}/24`] })),
  );
  const addr = (i: number): string => `10.44.0.${i + 1}`;
  const start = (i: number): Peer => {
    const p = spawnHerald({
      name: names[i]!,
      bind: addr(i),
      port: 7946,
      profile: 'fast-lan',
      keys: [KEY],
      join: i === 0 ? [] : [`${addr(0)}:7946`],
      spawner: (cmd, args) => lan.spawn(nss[i]!, cmd, args),
    });
    peers.push(p);
    return p;
  };
  const first = start(0);
  await first.waitFor((e) => e.ev === 'ready', 10_000, 'ready');
  for (let i = 1; i < names.length; i++) await start(i).waitFor((e) => e.ev === 'ready', 10_000, 'ready');
  await waitConverged(peers, 15_000);
  t.pass('four members converged across namespaces');

  await t.test(`${LOSS_PERCENT}% random loss for ${LOSS_SECONDS} s: no false deaths`, async (t) => {
    const marks = peers.map((p) => p.events.length);
    const rules = [
      'table inet hrlh4 {',
      '  chain in {',
      '    type filter hook input priority 0; policy accept;',
      `    meta l4proto { tcp, udp } numgen random mod 100 < ${LOSS_PERCENT} counter drop`,
      '  }',
      '}',
      '',
    ].join('\n');
    for (const ns of nss) {
      const r = await lan.run(ns, 'sh', ['-c', `printf '%s' '${rules}' | nft -f -`]);
      t.equal(r.code, 0, `loss rule in ${ns} ${r.stderr}`);
    }
    await sleep(LOSS_SECONDS * 1000);
    const listing = await lan.exec(nss[0]!, 'nft', ['list', 'table', 'inet', 'hrlh4']);
    const dropped = Number(/packets (\d+)/.exec(listing.stdout)?.[1] ?? 0);
    t.ok(dropped > 0, `nftables dropped ${dropped} packets in ${nss[0]}`);
    for (const ns of nss) await lan.run(ns, 'nft', ['delete', 'table', 'inet', 'hrlh4']);
    peers.forEach((p, i) => {
      const evs = p.events.slice(marks[i]);
      t.equal(evs.filter((e) => e.ev === 'dead').length, 0, `${p.name}: no false dead verdicts`);
      t.comment(`${p.name}: ${evs.filter((e) => e.ev === 'suspect').length} suspicions (refuted)`);
    });
  });

  await t.test('link down partitions d away; link up heals', async (t) => {
    const marks = peers.map((p) => p.events.length);
    await lan.ip(nss[3]!, 'link', 'set', 'eth0', 'down');
    const majority = peers.slice(0, 3);
    await Promise.all(
      majority.map((p, i) => p.waitFor((e) => e.ev === 'dead' && e.node === 'd', 5000, 'dead d', marks[i])),
    );
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        peers[3]!.waitFor((e) => e.ev === 'dead' && e.node === n, 5000, `d sees ${n} dead`, marks[3]),
      ),
    );
    t.pass('both sides declared the other dead');
    await lan.ip(nss[3]!, 'link', 'set', 'eth0', 'up');
    await waitConverged(peers, 15_000);
    t.pass('healed: everyone sees everyone alive again');
  });
});
