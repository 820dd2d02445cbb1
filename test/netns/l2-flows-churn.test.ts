import t from 'tap';
import type { LabNode } from '../../src/lab/cluster.js';
import { createFlowLab, holdConnections, runRequests } from '../../src/lab/flow-lab.js';
import { sleep } from '../../src/util/wait.js';
import { explained, flowState, keptWorking, nodeMacNames, ownershipLog } from '../helpers/flows.js';
import { answering, nodeByName } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });

t.test(
  'flow mode under churn: a node joins, a non-owner dies, the owner dies (24 long-lived connections)',
  async (t) => {
    const lab = await createFlowLab('fc', { nodes: 4, start: 3 });
    const { cluster } = lab;
    t.teardown(() => cluster.destroy());
    const [r1, r2] = cluster.routedClients as [
      NonNullable<(typeof cluster.routedClients)[0]>,
      NonNullable<(typeof cluster.routedClients)[0]>,
    ];
    const n4 = nodeByName(cluster, 'n4');
    const macs = await nodeMacNames(cluster);
    const live = (...dead: LabNode[]) => cluster.nodes.filter((n) => !dead.includes(n));
    let lastProbe = 'none';
    const reached = async (want: (nodes: string[]) => boolean) => {
      const r = await runRequests(cluster, r2, lab.flow4, 4, 40, 0);
      lastProbe = `${JSON.stringify(r.nodes)}, ${r.failed} failed, at ${new Date().toISOString()}`;
      return r.failed === 0 && want(Object.keys(r.nodes).sort());
    };
    const startedAt = Date.now();
    await waitUntil('the flow VIP answered', 90_000, () => answering(cluster, lab.flow4).size > 0);
    // Seen once at load 13: the requests never all succeeded in 90 s (the cause is what this prints).
    await explained(
      t,
      () => waitUntil('flows reach n1..n3', 90_000, () => reached((n) => n.join() === 'n1,n2,n3')),
      () =>
        `last probe: ${lastProbe}; answering: ${[...answering(cluster, lab.flow4).keys()].join(',')}\n` +
        `${flowState(live(n4), lab.flow4, macs)}\nspeakers since the start:\n${ownershipLog(live(n4), startedAt)}`,
    );
    const ownerName = [...answering(cluster, lab.flow4).keys()][0];
    const owner = nodeByName(cluster, ownerName);

    // A request every 200 ms on each connection; 10 s without an answer counts as broken (a failover
    // needs TCP to retransmit into the new owner, which takes a few hundred ms to a few seconds).
    const held = holdConnections(cluster, r1, lab.flow4, 24, 200, 90_000, 10_000);
    t.teardown(() => held.child.kill('SIGKILL'));
    await waitUntil('24 connections answered', 20_000, () => held.conns.size === 24);
    const all = () => [...held.conns.values()];
    const onNode = (n: LabNode) => all().filter((c) => c.node === n.name);
    t.same(
      [...new Set(all().map((c) => c.node))].sort(),
      ['n1', 'n2', 'n3'],
      'the long-lived connections are spread over the three nodes',
    );

    // 1. A fourth node joins: its slots move to it, established flows stay pinned where they are.
    const joinedAt = Date.now();
    cluster.startSpeaker(n4);
    await waitUntil('new flows reach n4', 90_000, () => reached((n) => n.includes('n4')));
    await sleep(1500);
    const afterJoin = keptWorking(all(), joinedAt, 0);
    t.equal(afterJoin.ok, 24, 'a node joining breaks no established connection');
    t.same(afterJoin.broken, []);
    if (afterJoin.broken.length > 0)
      t.comment(
        `ownership since then:\n${ownershipLog(cluster.nodes, joinedAt)}\n${flowState(live(), lab.flow4, macs)}`,
      );

    // 2. A non-owner dies (SIGKILL, link down): only its flows move; the others keep working.
    const victim = cluster.nodes.find((n) => n !== owner && onNode(n).length > 0 && n !== n4) as LabNode;
    const others = all().filter((c) => c.node !== victim.name);
    const diedAt = Date.now();
    await cluster.failNode(victim);
    await waitUntil(`new flows avoid ${victim.name}`, 30_000, () =>
      reached((n) => !n.includes(victim.name) && n.length === 3),
    );
    t.comment(`new flows left ${victim.name} ${Date.now() - diedAt} ms after it died`);
    await sleep(3000);
    const afterVictim = keptWorking(others, diedAt, 2000);
    t.equal(afterVictim.ok, others.length, `every connection not on ${victim.name} kept working`);
    t.same(afterVictim.broken, []);
    if (afterVictim.broken.length > 0)
      t.comment(
        `ownership since then:\n${ownershipLog(cluster.nodes, diedAt)}\n${flowState(live(victim), lab.flow4, macs)}`,
      );

    // 3. The owner dies (SIGKILL, link down) while 24 fresh long-lived connections are open: a new owner
    //    steers every surviving node's flows where the old owner did (same slot table, computed alike by
    //    every speaker), so their connections keep working. (Flows the old owner had pinned against a
    //    table change are not known to the new owner: docs/l2.md, "Flow mode".)
    const fresh = holdConnections(cluster, r1, lab.flow4, 24, 200, 60_000, 10_000);
    t.teardown(() => fresh.child.kill('SIGKILL'));
    await waitUntil('24 fresh connections answered', 20_000, () => fresh.conns.size === 24);
    const survivors = [...fresh.conns.values()].filter((c) => c.node !== owner.name);
    t.ok(survivors.length > 0, `${survivors.length} of 24 connections on the surviving nodes`);
    const ownerDiedAt = Date.now();
    await cluster.failNode(owner);
    await waitUntil(
      'a new owner answers',
      30_000,
      () => answering(cluster, lab.flow4, [owner, victim]).size > 0,
    );
    const newOwner = [...answering(cluster, lab.flow4, [owner, victim]).keys()].join();
    t.comment(`new owner ${newOwner} answers ${Date.now() - ownerDiedAt} ms after ${owner.name} died`);
    await sleep(6000);
    const afterOwner = keptWorking(survivors, ownerDiedAt, 5000);
    t.equal(afterOwner.ok, survivors.length, 'every connection on a surviving node kept working');
    t.same(afterOwner.broken, []);
    if (afterOwner.broken.length > 0)
      t.comment(
        `ownership since then:\n${ownershipLog(cluster.nodes, ownerDiedAt)}\n` +
          flowState(live(victim, owner), lab.flow4, macs),
      );
    fresh.child.kill('SIGTERM');
    await fresh.done;
    held.child.kill('SIGTERM');
    await held.done;
  },
);
