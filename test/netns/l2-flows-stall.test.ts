/**
 * Flow mode when the owner's speaker stalls (SIGSTOP: a starved process on a loaded host, the false
 * takeover the owner watch makes of it): its successor takes the VIP over and hands it back once the owner
 * is heard again. The owner's kernel kept serving its connections all along, so none of the long-lived
 * connections may break, on any node.
 */
import t from 'tap';
import { createFlowLab, holdConnections, runRequests } from '../../src/lab/flow-lab.js';
import { sleep } from '../../src/util/wait.js';
import { flowState, keptWorking, nodeMacNames, ownershipLog } from '../helpers/flows.js';
import { answering, nodeByName } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });

const STALL_MS = 1500;

t.test(`flow mode: the owner's speaker stalls ${STALL_MS} ms, no connection breaks`, async (t) => {
  const lab = await createFlowLab('fs', { nodes: 3, routedClients: 1 });
  const { cluster } = lab;
  t.teardown(() => cluster.destroy());
  const client = cluster.routedClients[0] as NonNullable<(typeof cluster.routedClients)[0]>;
  await waitUntil('the flow VIP answered', 90_000, () => answering(cluster, lab.flow4).size > 0);
  await waitUntil('flows reach n1..n3', 90_000, async () => {
    const r = await runRequests(cluster, client, lab.flow4, 4, 30, 0);
    return r.failed === 0 && Object.keys(r.nodes).length === 3;
  });
  const macs = await nodeMacNames(cluster);
  const owner = nodeByName(cluster, [...answering(cluster, lab.flow4).keys()][0]);

  const held = holdConnections(cluster, client, lab.flow4, 24, 200, 60_000, 10_000);
  t.teardown(() => held.child.kill('SIGKILL'));
  await waitUntil('24 connections answered', 20_000, () => held.conns.size === 24);
  const all = () => [...held.conns.values()];
  t.same(
    [...new Set(all().map((c) => c.node))].sort(),
    ['n1', 'n2', 'n3'],
    'the long-lived connections are spread over the three nodes',
  );

  const stalledAt = Date.now();
  owner.speaker?.kill('SIGSTOP');
  await sleep(STALL_MS);
  owner.speaker?.kill('SIGCONT');
  await waitUntil(`${owner.name} answers again alone`, 30_000, () => {
    const now = [...answering(cluster, lab.flow4).keys()];
    return now.length === 1 && now[0] === owner.name;
  });
  const log = ownershipLog(cluster.nodes, stalledAt);
  t.comment(`ownership since the stall:\n${log}`);
  await sleep(3000);
  const after = keptWorking(all(), stalledAt, STALL_MS + 2000);
  t.equal(after.ok, 24, 'every connection kept working');
  t.same(after.broken, []);
  if (after.broken.length > 0) t.comment(flowState(cluster.nodes, lab.flow4, macs));
  held.child.kill('SIGTERM');
  await held.done;
});
