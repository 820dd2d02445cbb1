import { join } from 'node:path';
import t from 'tap';
import { readDataplane } from '../../src/lab/observe.js';
import { projectRoot } from '../../src/util/paths.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, ndisc, waitUntil } from '../helpers/probes.js';
import { HERALD_NS, installHerald, installMetallb, readyOn } from './helpers/cluster.js';
import { kubectlApply } from './helpers/kube.js';
import { type KubeLab, startKubeLab } from './helpers/netns-lab.js';

requirePrerequisites({ root: true, commands: ['arping', 'ndisc6', 'nsenter'] });

// The layer-2 examples of examples/kubernetes/, applied with kubectl as written, a real controller and
// real speakers in Kubernetes mode in namespaces: every address the controller hands out is answered on
// the LAN. The Service's pods are modelled by an EndpointSlice with a ready endpoint on every node (in
// Kubernetes mode a Service without endpoints is not announced, as in MetalLB).

const examples = join(projectRoot(), 'examples', 'kubernetes');

/** Every gate open and every address answered by `owners` nodes in the nodes' own XDP maps. */
async function allAnswered(lab: KubeLab, ips: string[], owners: number): Promise<void> {
  const { cluster } = lab;
  await waitUntil(
    `both speakers joined and ${ips.join(', ')} answered by ${owners} node(s)`,
    60_000, // a speaker loads the Kubernetes client first: seconds on a busy machine
    () =>
      cluster.nodes.every((n) => readDataplane(n).gateOpen) &&
      ips.every((ip) => answering(cluster, ip).size === owners),
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${lab.logs()}`);
  });
}

t.test('metallb-l2.yaml and service.yaml, unchanged, with Herald in metallb-system', async (t) => {
  const lab = await startKubeLab({
    lab: { tag: 'exm', nodes: 2, clients: 1, net4: '192.168.1' },
    namespace: 'metallb-system',
    services: ['web'],
    setup: async (server) => {
      installHerald(server);
      installMetallb(server);
      await kubectlApply(server, [join(examples, 'metallb-l2.yaml'), join(examples, 'service.yaml')]);
      server.createObject(readyOn('web', ['n1', 'n2']));
    },
  });
  t.teardown(lab.destroy);
  const { cluster } = lab;
  const ips = lab.ingress.get('web') ?? [];
  t.same(ips, ['192.168.1.240'], 'web got the first address of first-pool');
  await allAnswered(lab, ips, 1);
  const owner = cluster.nodes.find((n) => answering(cluster, ips[0]!).has(n.name))!;
  const r = await arping(cluster.lan, cluster.clients[0]!.ns, ips[0]!, { count: 2 });
  t.same(
    new Set(r.macs),
    new Set([await interfaceMacIn(cluster.lan, owner.ns)]),
    `the client's ARP request for ${ips[0]} is answered by ${owner.name} alone`,
  );
});

t.test(
  'herald-l2-spread.yaml and service.yaml, unchanged: both families answered by both nodes',
  async (t) => {
    const lab = await startKubeLab({
      lab: { tag: 'exs', nodes: 2, clients: 1, net4: '192.168.2', net6: 'fd00:1::' },
      namespace: HERALD_NS,
      services: ['web'],
      setup: async (server) => {
        installHerald(server);
        await kubectlApply(server, [join(examples, 'herald-l2-spread.yaml'), join(examples, 'service.yaml')]);
        server.createObject(readyOn('web', ['n1', 'n2']));
        server.createObject(readyOn('web', ['n1', 'n2'], 'IPv6'));
      },
    });
    t.teardown(lab.destroy);
    const { cluster } = lab;
    const ips = lab.ingress.get('web') ?? [];
    t.same(ips, ['192.168.2.240', 'fd00:1::240'], 'web got an address of each family from spread-pool');
    // Spread: each node answers its share of the clients, so both hold an answer entry.
    await allAnswered(lab, ips, 2);
    const client = cluster.clients[0]!;
    const macs = new Set(await Promise.all(cluster.nodes.map((n) => interfaceMacIn(cluster.lan, n.ns))));
    const arp = await arping(cluster.lan, client.ns, ips[0]!, { count: 2 });
    t.equal(new Set(arp.macs).size, 1, `the client's ARP request for ${ips[0]} gets one answer`);
    t.ok(macs.has(arp.macs[0] ?? ''), "from a node's interface");
    const nd = await ndisc(cluster.lan, client.ns, ips[1]!);
    t.ok(
      nd.length > 0 && nd.every((m) => macs.has(m)),
      `its NS for ${ips[1]} is answered by a node (${nd.join(', ')})`,
    );
  },
);
