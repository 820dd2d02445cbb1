import t from 'tap';
import { LabCluster } from '../../src/lab/cluster.js';
import { measureFailover, warmBackends } from '../../src/lab/failover.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['ip', 'nsenter'] });

/**
 * The failover measurement (bench/failover, `herald lab`) times the load balancer, not the backends: every
 * node's backend has answered requests right before the kill, so the node that takes the VIP over serves
 * it as warm as the old owner did. No speakers here: the VIP is moved by hand (the kernel answers ARP).
 */
t.test('the failover measurement warms every backend right before the kill', async (t) => {
  const vip = '10.77.0.230';
  const cluster = await LabCluster.create({ tag: 'fowarm', nodes: 2, clients: 1, config: '', vips: [vip] });
  t.teardown(() => cluster.destroy());
  const [n1, n2] = cluster.nodes;
  const client = cluster.clients[0];
  if (!n1 || !n2 || !client) throw new Error('lab without two nodes and a client');
  await cluster.lan.ip(n1.ns, 'address', 'add', `${vip}/32`, 'dev', 'eth0');

  const m = await measureFailover(cluster, vip, n1, async (cut) => {
    await cluster.lan.ip(n1.ns, 'link', 'set', 'eth0', 'down');
    cut();
    await cluster.lan.ip(n2.ns, 'address', 'add', `${vip}/32`, 'dev', 'eth0');
    // The client asks again (what a gratuitous ARP would tell it).
    await cluster.lan.ip(client.ns, 'neigh', 'flush', 'dev', 'eth0');
  });
  t.same(m.warmed, { n1: 3, n2: 3 }, 'each backend answered the warm-up before the kill');
  t.equal(m.newOwner, 'n2');
  t.ok(m.failoverMs !== undefined && m.failoverMs >= 0, 'the first answer through n2 was timed');

  // A node that is down answers nothing: the warm-up reports only the others.
  t.same(await warmBackends(cluster, 4, 2), { n2: 2 });
});
