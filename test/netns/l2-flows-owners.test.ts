/**
 * Flow mode with two nodes that both believe they own the VIP (a split brain, or the moment of a
 * takeover): both steer. MAC rewriting keeps the TTL, so a frame steered back and forth would loop for
 * ever; the loop guard (a frame whose source MAC is a cluster node's is never steered again) must keep
 * every frame to one hop. The second owner is made by hand in its pinned flow entry (the speakers rewrite
 * an entry only when its inputs change), the worst case with crossed slot tables (each owner sends every
 * flow to the other one).
 */
import t from 'tap';
import { FlowMaps } from '../../src/datapath/flow-maps.js';
import type { LabHost, LabNode } from '../../src/lab/cluster.js';
import { createFlowLab, linkBytes, runRequests, type RequestsResult } from '../../src/lab/flow-lab.js';
import { FLOW_SLOTS, type FlowEntry } from '../../src/l2/flow-model.js';
import { sleep } from '../../src/util/wait.js';
import { answering, nodeByName } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { interfaceMacIn, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });

const REQUESTS = 150;

/** The flow entry's target index of `mac`. */
function targetIndex(entry: FlowEntry, mac: string): number {
  const i = entry.targets.findIndex((x) => x?.mac.toString('hex') === mac.replace(/:/g, ''));
  if (i < 0) throw new Error(`no target ${mac} in the flow entry`);
  return i;
}

/** Packets a flow entry's counters saw: sent to each target index, steered in, and the loop guard's. */
function entryCounts(maps: FlowMaps, entry: FlowEntry) {
  const out = entry.targets.map((x) => (x ? Number(maps.stat(x.stat).packets) : 0));
  return {
    out,
    steeredIn: Number(maps.stat(entry.inStat).packets),
    loopGuard: Number(maps.guards().loop_guard.packets),
  };
}

t.test('two nodes steering one flow VIP at once: no loop, no storm, requests answered', async (t) => {
  const lab = await createFlowLab('fo', { nodes: 3, routedClients: 1 });
  const { cluster } = lab;
  t.teardown(() => cluster.destroy());
  const routed = cluster.routedClients[0] as LabHost;
  const lanClient = cluster.clients[0] as LabHost;
  const router = cluster.router as LabHost;
  const vip = lab.flow4;

  await waitUntil('the flow VIP answered', 90_000, () => answering(cluster, vip).size > 0);
  await waitUntil('flows reach n1..n3', 90_000, async () => {
    const r = await runRequests(cluster, routed, vip, 4, 30, 0);
    return r.failed === 0 && Object.keys(r.nodes).length === 3;
  });
  const owner = nodeByName(cluster, [...answering(cluster, vip).keys()][0]);
  const rival = cluster.nodes.find((n) => n !== owner) as LabNode;
  const macOf = new Map<LabNode, string>();
  for (const n of cluster.nodes) macOf.set(n, await interfaceMacIn(cluster.lan, n.ns));
  // The router resolved the VIP to the owner; the LAN client is sent to the rival, as if it had heard
  // the rival's answer.
  await cluster.lan.ip(
    lanClient.ns,
    'neigh',
    'replace',
    vip,
    'lladdr',
    macOf.get(rival) as string,
    'dev',
    'eth0',
    'nud',
    'permanent',
  );

  const ownerMaps = FlowMaps.openPinned(owner.pinDir);
  t.teardown(() => ownerMaps.close());
  const rivalMaps = FlowMaps.openPinned(rival.pinDir);
  t.teardown(() => rivalMaps.close());
  const entryOf = (maps: FlowMaps, node: LabNode) => {
    const e = maps.get(vip);
    if (!e) throw new Error(`${node.name} has no flow entry for ${vip}`);
    return e;
  };
  const ownerEntry = entryOf(ownerMaps, owner);
  const rivalEntry = entryOf(rivalMaps, rival);
  t.equal(ownerEntry.role, 'owner', `${owner.name} steers`);
  t.equal(rivalEntry.role, 'member', `${rival.name} only receives`);

  // Background packets on the nodes' links (gossip, owner watch) per second, to bound the phases by.
  const nodeRx = async () =>
    (await Promise.all(cluster.nodes.map((n) => linkBytes(cluster, n)))).reduce((a, b) => a + b.rxPackets, 0);
  const idleFrom = await nodeRx();
  const idleStart = Date.now();
  await sleep(2000);
  const idleRate = ((await nodeRx()) - idleFrom) / ((Date.now() - idleStart) / 1000);
  t.comment(`background: ${Math.round(idleRate)} packets/s received by the three nodes`);

  /**
   * Requests from the routed client (through the router, to the owner's MAC) and from the LAN client
   * (to the rival's MAC) at once, with every frame counted on the links and in both steering entries.
   */
  const phase = async (what: string) => {
    ownerMaps.clearPins();
    rivalMaps.clearPins();
    const counts = () => ({
      owner: entryCounts(ownerMaps, entryOf(ownerMaps, owner)),
      rival: entryCounts(rivalMaps, entryOf(rivalMaps, rival)),
    });
    const sentBy = async () =>
      (await linkBytes(cluster, router)).txPackets + (await linkBytes(cluster, lanClient)).txPackets;
    const [rx0, sent0, c0, start] = [await nodeRx(), await sentBy(), counts(), Date.now()];
    const [viaRouter, viaLan] = await Promise.all([
      runRequests(cluster, routed, vip, 5, REQUESTS, 0),
      runRequests(cluster, lanClient, vip, 5, REQUESTS, 0),
    ]);
    const seconds = (Date.now() - start) / 1000;
    const [rx1, sent1, c1] = [await nodeRx(), await sentBy(), counts()];
    const sent = sent1 - sent0;
    const received = rx1 - rx0;
    const allowance = Math.max(2000, 3 * idleRate * seconds);
    const ownerOut = c1.owner.out.reduce((a, b, i) => a + b - (c0.owner.out[i] ?? 0), 0);
    const rivalOut = c1.rival.out.reduce((a, b, i) => a + b - (c0.rival.out[i] ?? 0), 0);
    t.comment(
      `${what}: ${seconds.toFixed(1)} s, clients sent ${sent} packets, the nodes received ${received}; ` +
        `${owner.name} steered ${ownerOut} (steered in ${c1.owner.steeredIn - c0.owner.steeredIn}), ` +
        `${rival.name} steered ${rivalOut} (steered in ${c1.rival.steeredIn - c0.rival.steeredIn})`,
    );
    // Each client frame crosses the bridge at most twice (to the steering node, then to its target).
    t.ok(received <= 2 * sent + allowance, `${what}: no storm (${received} <= 2 × ${sent} + ${allowance})`);
    t.ok(ownerOut <= sent, `${what}: ${owner.name} steered each frame at most once (${ownerOut} <= ${sent})`);
    t.ok(rivalOut <= sent, `${what}: ${rival.name} steered each frame at most once (${rivalOut} <= ${sent})`);
    for (const [name, before, after] of [
      [owner.name, c0.owner, c1.owner],
      [rival.name, c0.rival, c1.rival],
    ] as const) {
      t.equal(
        after.loopGuard - before.loopGuard,
        after.steeredIn - before.steeredIn,
        `${what}: ${name} counted every frame steered to it by the other owner on the loop guard`,
      );
    }
    t.equal(viaRouter.failed + viaLan.failed, 0, `${what}: every request answered`);
    return { viaRouter, viaLan };
  };
  const nodesOf = (r: RequestsResult) => Object.keys(r.nodes).sort();

  // 1. Both steer with the same table (what two speakers that both think they own compute).
  rivalMaps.set(vip, { ...rivalEntry, role: 'owner' });
  const same = await phase('both owners, same table');
  t.same(nodesOf(same.viaRouter), ['n1', 'n2', 'n3'], 'through the owner: flows reach every node');
  t.same(nodesOf(same.viaLan), ['n1', 'n2', 'n3'], 'through the rival: flows reach every node');

  // 2. Crossed tables: the owner sends every flow to the rival and the rival every flow to the owner.
  //    Without the loop guard each frame would bounce between them for ever.
  const crossed = (e: FlowEntry, to: LabNode): FlowEntry => ({
    ...e,
    role: 'owner',
    slots: new Uint8Array(FLOW_SLOTS).fill(targetIndex(e, macOf.get(to) as string)),
  });
  ownerMaps.set(vip, crossed(ownerEntry, rival));
  rivalMaps.set(vip, crossed(rivalEntry, owner));
  const guarded = Number(rivalMaps.guards().loop_guard.packets);
  const cross = await phase('both owners, crossed tables');
  t.ok(
    Number(rivalMaps.guards().loop_guard.packets) - guarded > 0,
    `crossed tables: ${rival.name}'s loop guard stopped frames (herald_flow_loop_guard_packets_total)`,
  );
  t.same(
    nodesOf(cross.viaRouter),
    [rival.name],
    `through ${owner.name}: every flow answered by ${rival.name}`,
  );
  t.same(nodesOf(cross.viaLan), [owner.name], `through ${rival.name}: every flow answered by ${owner.name}`);
});
