import t from 'tap';
import { readDataplane } from '../../src/lab/observe.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';
import { HERALD_NS, installHerald, lbService, pool } from './helpers/cluster.js';
import { startKubeLab } from './helpers/netns-lab.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter'] });

t.test('speakers in Kubernetes mode announce what the controller allocated', async (t) => {
  const { server, cluster, ingress, logs, destroy } = await startKubeLab({
    lab: { tag: 'k8sm', nodes: 2, clients: 1 },
    namespace: HERALD_NS,
    services: ['web'],
    setup: (server) => {
      installHerald(server);
      server.createObject(pool('lan', ['10.77.0.200-10.77.0.210']));
      server.createObject({
        apiVersion: 'herald.dev/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'lan', namespace: HERALD_NS },
        spec: { ipAddressPools: ['lan'] },
      });
      server.createObject(lbService('web', { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } }));
      server.createObject({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.244.0.1'], nodeName: 'n1', conditions: { ready: true } },
          { addresses: ['10.244.0.2'], nodeName: 'n2', conditions: { ready: true } },
        ],
      });
    },
  });
  t.teardown(destroy);
  const ip = ingress.get('web')?.[0] ?? '';
  t.ok(ip.startsWith('10.77.0.2'), `web got ${ip} from pool lan`);

  // Both gates open first: a node alone (the other not joined yet) answers until the rendezvous owner comes.
  await waitUntil(
    'both speakers joined and one node answering for the allocated IP',
    60_000, // a speaker loads the Kubernetes client first: seconds on a busy machine
    () => cluster.nodes.every((n) => readDataplane(n).gateOpen) && answering(cluster, ip).size === 1,
  ).catch((error: unknown) => {
    t.comment(logs());
    throw error;
  });
  const owner = [...answering(cluster, ip).keys()][0]!;
  const ownerNode = cluster.nodes.find((n) => n.name === owner)!;
  const r = await arping(cluster.lan, cluster.clients[0]!.ns, ip, { count: 2 });
  t.same(new Set(r.macs), new Set([await interfaceMacIn(cluster.lan, ownerNode.ns)]), `${owner} answers ARP`);
  await waitUntil('the owner to publish a ServiceL2Status', 10_000, () =>
    server
      .list('herald.dev/v1beta1', 'ServiceL2Status', HERALD_NS)
      .some((o) => JSON.stringify(o).includes(owner)),
  );
  const statuses = server.list('herald.dev/v1beta1', 'ServiceL2Status', HERALD_NS);
  t.equal(statuses.length, 1, "exactly one ServiceL2Status: the owner's");
  t.match(JSON.stringify(statuses[0]), new RegExp(ip.replace(/\./g, '\\.')), 'it names the IP');
});
