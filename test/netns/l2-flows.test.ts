import t from 'tap';
import { createFlowLab, runRequests, type FlowLab } from '../../src/lab/flow-lab.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['nsenter'] });

async function ready(lab: FlowLab, running: number): Promise<void> {
  const { cluster } = lab;
  const r1 = cluster.routedClients[0]!;
  await waitUntil('the flow VIP answered', 90_000, () => answering(cluster, lab.flow4).size > 0);
  await waitUntil(`flows reach all ${running} nodes`, 60_000, async () => {
    const r = await runRequests(cluster, r1, lab.flow4, 4, 30, 0);
    return Object.keys(r.nodes).length === running && r.failed === 0;
  });
}

t.test(
  'flow mode through a router: every node takes a third of the connections, IPv4 and IPv6',
  async (t) => {
    const lab = await createFlowLab('fl', { nodes: 3 });
    const { cluster } = lab;
    t.teardown(() => cluster.destroy());
    const [r1, r2] = cluster.routedClients as [
      NonNullable<(typeof cluster.routedClients)[0]>,
      NonNullable<(typeof cluster.routedClients)[0]>,
    ];
    await ready(lab, 3);

    const dist = await runRequests(cluster, r1, lab.flow4, 10, 300, 0);
    t.equal(dist.failed, 0, '300 new connections, none failed');
    for (const n of ['n1', 'n2', 'n3']) {
      const share = (dist.nodes[n] ?? 0) / 300;
      t.ok(Math.abs(share - 1 / 3) <= 0.1, `${n}: ${Math.round(share * 100)}% of connections (33 ± 10)`);
    }
    const single = await runRequests(cluster, r1, lab.single4, 10, 60, 0);
    t.equal(Object.keys(single.nodes).length, 1, 'single mode: one node takes every connection');

    const six = await runRequests(cluster, r2, lab.flow6, 10, 150, 0);
    t.equal(six.failed, 0, 'IPv6 VIP end to end');
    t.equal(Object.keys(six.nodes).length, 3, 'IPv6 flows reach all three nodes');
  },
);
