import { join } from 'node:path';
import t from 'tap';
import { ECHO_PORT } from '../../src/lab/cluster.js';
import { projectRoot } from '../../src/util/paths.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { waitUntil } from '../helpers/probes.js';
import { installHerald, installMetallb, readyOn } from './helpers/cluster.js';
import { kubectlApply } from './helpers/kube.js';
import { startKubeLab } from './helpers/netns-lab.js';

requirePrerequisites({ root: true, commands: ['bird', 'birdc', 'curl', 'nsenter'] });

// examples/kubernetes/metallb-bgp.yaml applied with kubectl as written (Herald in metallb-system), a real
// controller and real speakers in Kubernetes mode in namespaces, and BIRD as the router it names
// (10.0.0.1, AS 64500, BFD): the router learns the pool's aggregate from every node with an endpoint and
// a request to the Service's address through it is answered.

const examples = join(projectRoot(), 'examples', 'kubernetes');

t.test(
  'metallb-bgp.yaml and service.yaml, unchanged: BIRD at 10.0.0.1 learns the route and the VIP answers',
  async (t) => {
    const lab = await startKubeLab({
      lab: {
        tag: 'exb',
        nodes: 2,
        clients: 0,
        net4: '10.0.0',
        router: { asn: 64500, nodeAsn: 64512, routedPrefixes: [] },
      },
      namespace: 'metallb-system',
      services: ['web'],
      setup: async (server) => {
        installHerald(server);
        installMetallb(server);
        await kubectlApply(server, [join(examples, 'metallb-bgp.yaml'), join(examples, 'service.yaml')]);
        server.createObject(readyOn('web', ['n1', 'n2']));
      },
    });
    t.teardown(lab.destroy);
    const { cluster } = lab;
    const [ip] = lab.ingress.get('web') ?? [];
    t.ok(ip?.startsWith('198.51.100.'), `web got ${ip} from bgp-pool`);
    const nodes = cluster.nodes.map((n) => n.ip4).sort();
    // aggregationLength: 24 — the router holds the pool's /24 with an ECMP next hop per node.
    await waitUntil(`BIRD to install 198.51.100.0/24 via ${nodes.join(', ')}`, 60_000, async () => {
      const hops = await cluster.routerNexthops('198.51.100.0/24');
      return hops.join() === nodes.join();
    }).catch(async (error: unknown) => {
      const birdc = await cluster.lan
        .run(cluster.router!.ns, 'birdc', ['-s', cluster.router!.birdSocket, 'show', 'protocols', 'all'])
        .then((r) => r.stdout)
        .catch(() => '');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${birdc}\n${lab.logs()}`);
    });
    t.pass(`the router routes 198.51.100.0/24 via ${nodes.join(' and ')}`);
    // No kube-proxy here: each node's backend listens on the Service's targetPort (8080) itself.
    const r = await cluster.lan.run(
      cluster.router!.ns,
      'curl',
      ['-s', '-m', '2', `http://${ip}:${ECHO_PORT}/`],
      10_000,
    );
    t.equal(r.code, 0, `the router's HTTP request to ${ip} is answered (${r.stdout.trim()})`);
    // herald status bgp: the session to the peer the example names, with its configured ASN, and BFD up
    // (it comes up after the session: its packets go out once a second until then).
    const node = cluster.nodes[0]!;
    const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
    let sessions: Array<Record<string, unknown>> | undefined;
    await waitUntil('BFD up on the session', 20_000, async () => {
      const status = await cluster.lan.run(
        node.ns,
        process.execPath,
        [cli, 'status', 'bgp', '--json', '--socket', node.apiSocket],
        20_000,
      );
      sessions = (JSON.parse(status.stdout || '{}') as { bgpSessions?: typeof sessions }).bgpSessions;
      return sessions?.[0]?.bfdState === 'up';
    }).catch(() => undefined);
    t.match(
      sessions,
      [{ peer: 'router', peerAsn: 64500, localAsn: 64512, state: 'established', bfdState: 'up' }],
      `${node.name}'s herald status: BGPPeer router (AS 64500) established, BFD up`,
    );
  },
);
