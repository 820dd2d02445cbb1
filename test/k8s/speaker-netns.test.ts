import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import t from 'tap';
import { LabCluster } from '../../src/lab/cluster.js';
import { readDataplane } from '../../src/lab/observe.js';
import { HeraldController } from '../../src/k8s/controller.js';
import { projectRoot } from '../../src/util/paths.js';
import { answering } from '../helpers/lab.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';
import { TestApiServer } from './apiserver/server.js';
import { HERALD_NS, ingressOf, installHerald, lbService, pool } from './helpers/cluster.js';
import { kubeConfigFor } from './helpers/kube.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter'] });

const API_PORT_IN_NS = 16443;

t.test('speakers in Kubernetes mode announce what the controller allocated', async (t) => {
  const server = await TestApiServer.start();
  t.teardown(() => server.stop());
  installHerald(server);
  server.createObject(pool('lan', ['10.77.0.200-10.77.0.210']));
  server.createObject({
    apiVersion: 'herald.dev/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'lan', namespace: HERALD_NS },
    spec: { ipAddressPools: ['lan'] },
  });
  for (const name of ['n1', 'n2']) {
    server.createObject({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: {} }, spec: {} });
  }
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

  const controller = new HeraldController({
    kubeConfig: kubeConfigFor(server),
    namespace: HERALD_NS,
    leaderElection: false,
  });
  await controller.start();
  t.teardown(() => controller.stop());
  await waitUntil('the controller to allocate web', 10_000, () => ingressOf(server, 'web').length > 0);
  const [ip] = ingressOf(server, 'web');
  t.ok(ip?.startsWith('10.77.0.2'), `web got ${ip} from pool lan`);

  const dir = mkdtempSync(join(tmpdir(), 'herald-k8sm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    server.kubeconfig(HERALD_NS).replace(server.url, `http://127.0.0.1:${API_PORT_IN_NS}`),
  );
  // The speakers reach the API server through a unix socket: nothing leaves loopback.
  const socketPath = join(dir, 'api.sock');
  const relay: Server = createServer((c) => {
    const upstream = createConnection(Number(new URL(server.url).port), '127.0.0.1');
    c.pipe(upstream).pipe(c);
    c.on('error', () => upstream.destroy());
    upstream.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(socketPath, r));
  t.teardown(() => new Promise<void>((r) => relay.close(() => r())));
  const cluster = await LabCluster.create({
    tag: 'k8sm',
    nodes: 2,
    clients: 1,
    config: '',
    vips: [ip!],
    kubernetes: { kubeconfig, namespace: HERALD_NS },
  });
  t.teardown(() => cluster.destroy());
  const forwarder = join(projectRoot(), 'dist', 'test', 'helpers', 'tcp-to-unix.js');
  for (const node of cluster.nodes) {
    cluster.lan.spawn(node.ns, process.execPath, [forwarder, String(API_PORT_IN_NS), socketPath], {
      stdio: 'ignore',
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  await cluster.startAll();

  // Both gates open first: a node alone (the other not joined yet) answers until the rendezvous owner comes.
  await waitUntil(
    'both speakers joined and one node answering for the allocated IP',
    60_000, // a speaker loads the Kubernetes client first: seconds on a busy machine
    () => cluster.nodes.every((n) => readDataplane(n).gateOpen) && answering(cluster, ip!).size === 1,
  ).catch((error: unknown) => {
    for (const n of cluster.nodes) t.comment(`${n.name}: ${readFileSync(n.logFile, 'utf8').slice(-2000)}`);
    throw error;
  });
  const owner = [...answering(cluster, ip!).keys()][0]!;
  const ownerNode = cluster.nodes.find((n) => n.name === owner)!;
  const r = await arping(cluster.lan, cluster.clients[0]!.ns, ip!, { count: 2 });
  t.same(new Set(r.macs), new Set([await interfaceMacIn(cluster.lan, ownerNode.ns)]), `${owner} answers ARP`);
  await waitUntil('the owner to publish a ServiceL2Status', 10_000, () =>
    server
      .list('herald.dev/v1beta1', 'ServiceL2Status', HERALD_NS)
      .some((o) => JSON.stringify(o).includes(owner)),
  );
  const statuses = server.list('herald.dev/v1beta1', 'ServiceL2Status', HERALD_NS);
  t.equal(statuses.length, 1, "exactly one ServiceL2Status: the owner's");
  t.match(JSON.stringify(statuses[0]), new RegExp(ip!.replace(/\./g, '\\.')), 'it names the IP');
});
