import t from 'tap';
import { answering, nodeByName, startLab } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter'] });

const CLIENTS = Array.from({ length: 60 }, (_, i) => `10.77.0.${120 + i}`);

t.test('spread mode: one VIP answered by every node, each for its share of the clients', async (t) => {
  const lab = await startLab('l2s', { nodes: 3, clients: 1 });
  const { cluster } = lab;
  t.teardown(() => cluster.destroy());
  const client = cluster.clients[0]!;
  for (const ip of CLIENTS) await cluster.lan.ip(client.ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  const nodeOfMac = new Map<string, string>();
  for (const n of cluster.nodes) nodeOfMac.set(await interfaceMacIn(cluster.lan, n.ns), n.name);
  const vip = lab.vip('lab/spread-web');
  t.equal(answering(cluster, vip).size, 3, 'all three nodes hold an answer entry with a bucket bitmap');

  const survey = async (): Promise<Map<string, string[]>> => {
    const who = new Map<string, string[]>();
    for (const source of CLIENTS) {
      const r = await arping(cluster.lan, client.ns, vip, { count: 1, source, waitS: 1 });
      who.set(
        source,
        r.macs.map((m) => nodeOfMac.get(m) ?? m),
      );
    }
    return who;
  };

  const before = await survey();
  const share = new Map<string, number>();
  for (const [source, nodes] of before) {
    t.equal(nodes.length, 1, `${source} gets exactly one answer`);
    if (nodes[0]) share.set(nodes[0], (share.get(nodes[0]) ?? 0) + 1);
  }
  for (const n of cluster.nodes) {
    const fraction = (share.get(n.name) ?? 0) / CLIENTS.length;
    t.ok(
      fraction >= 0.23 && fraction <= 0.43,
      `${n.name} answers ${Math.round(fraction * 100)}% of clients (33% ± 10%)`,
    );
  }

  const victim = nodeByName(cluster, [...share.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]);
  // Capture the ARP replies the client receives while the survivors take the victim's buckets over.
  const capture = cluster.lan.run(
    client.ns,
    'timeout',
    ['4', 'tcpdump', '-i', 'eth0', '-n', '-l', '-x', 'arp'],
    10_000,
  );
  await new Promise((r) => setTimeout(r, 500));
  const killedAt = Date.now();
  await cluster.failNode(victim);
  const moveMs = await waitUntil('the survivors to take over every bucket', 10_000, () => {
    const shares = answering(cluster, vip, [victim]);
    let union = 0n;
    for (const b of shares.values()) union |= b;
    return union === (1n << 64n) - 1n;
  });
  t.comment(`buckets moved ${moveMs} ms after the node failed`);
  // The capture ends before the survey below, whose own ARP replies would look like redirects.
  const redirected = unicastReplyTargets((await capture).stdout, vip);
  const victimClients = CLIENTS.filter((c) => before.get(c)?.[0] === victim.name);
  t.ok(
    victimClients.every((c) => redirected.has(c)),
    `every learned client of ${victim.name} got a unicast ARP reply for the VIP (${redirected.size} redirected)`,
  );
  const misdirected = CLIENTS.filter((c) => {
    const macs = redirected.get(c) ?? [];
    return !victimClients.includes(c) && macs.some((m) => nodeOfMac.get(m) !== before.get(c)?.[0]);
  });
  t.same(misdirected, [], 'no client of a surviving node was told to go to another node');
  const after = await survey();
  let moved = 0;
  for (const [source, nodes] of after) {
    const was = before.get(source)?.[0];
    t.equal(nodes.length, 1, `${source} still gets exactly one answer`);
    if (was === victim.name) {
      t.not(nodes[0], victim.name, `${source} moved off the failed node`);
      moved++;
    } else {
      t.equal(nodes[0], was, `${source} keeps ${was}`);
    }
  }
  t.ok(
    moved > 0,
    `${moved} clients of ${victim.name} moved; ${Date.now() - killedAt} ms for the whole check`,
  );
});

/**
 * Target IP → sender MACs of the ARP replies for `vip` in `tcpdump -x` output (the hex dump starts at
 * the ARP header: sender MAC at 8, target IP at 24).
 */
function unicastReplyTargets(output: string, vip: string): Map<string, string[]> {
  const targets = new Map<string, string[]>();
  for (const packet of output.split(/\n(?=\d)/)) {
    if (!packet.includes(`Reply ${vip} is-at`)) continue;
    const hex = [...packet.matchAll(/0x[0-9a-f]{4}:\s+((?:[0-9a-f]{4}\s?)+)/g)]
      .map((m) => (m[1] ?? '').replace(/\s/g, ''))
      .join('');
    const bytes = Buffer.from(hex, 'hex');
    if (bytes.length < 28) continue;
    const target = [...bytes.subarray(24, 28)].join('.');
    const mac = [...bytes.subarray(8, 14)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    targets.set(target, [...(targets.get(target) ?? []), mac]);
  }
  return targets;
}
