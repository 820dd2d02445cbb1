import t from 'tap';
import { allocateAll } from '../../src/allocator/allocate-all.js';
import { isAllocated } from '../../src/allocator/allocator.js';
import type { HeraldModel } from '../../src/config/types.js';
import { KubeConnection, kubeconfigSettings } from '../../src/k8s/connection.js';
import { KubernetesConfigSource } from '../../src/k8s/speaker-source.js';
import { L2StatusWriter, l2StatusName } from '../../src/k8s/l2-status.js';
import { decideL2 } from '../../src/l2/desired.js';
import { buildL2Inputs, type MemberView } from '../../src/speaker/l2-inputs.js';
import { createLogger } from '../../src/util/log.js';
import { TestApiServer } from './apiserver/server.js';
import { eventsFor, HERALD_NS, installHerald, lbService, pool } from './helpers/cluster.js';
import { eventually } from './helpers/kube.js';

const log = createLogger('test-speaker-source', process.env.HERALD_LOG_LEVEL ?? 'silent');
const nodes = ['n1', 'n2', 'n3'];
const members: MemberView[] = nodes.map((name) => ({
  name,
  alive: true,
  meta: { interfaces: [{ name: 'eth0', cidrs: ['10.5.0.0/24'] }], labels: {} },
}));

function node(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
  };
}

function slice(service: string, ready: Record<string, boolean>) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-abc`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: Object.entries(ready).map(([nodeName, r], i) => ({
      addresses: [`10.244.0.${i + 1}`],
      nodeName,
      conditions: { ready: r },
    })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

/** Who the speakers would elect for each VIP, from a model the source produced. */
function owners(model: HeraldModel): Map<string, string | undefined> {
  const allocs = new Map(
    [...allocateAll(model)].filter(([, a]) => isAllocated(a)) as Array<
      [string, { ips: string[]; pool: string }]
    >,
  );
  const { vips, nodes: ns } = buildL2Inputs(model, allocs, members);
  return new Map(decideL2(vips, ns).map((d) => [d.services.join(','), d.owner]));
}

t.test('speaker source: model from the API, ETP Local ownership, node exclusion, outage', async (t) => {
  const server = await TestApiServer.start({ bookmarkIntervalMs: 200 });
  const api = new KubeConnection(kubeconfigSettings(server.kubeconfig()));
  const source = new KubernetesConfigSource({
    connection: api,
    namespace: HERALD_NS,
    log,
    debounceMs: 5,
  });
  t.teardown(async () => {
    source.stop();
    api.close();
    await server.stop();
  });
  installHerald(server);
  server.createObject(pool('lan', ['10.5.0.100-10.5.0.110']));
  server.createObject({
    apiVersion: 'herald.dev/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'lan', namespace: HERALD_NS },
    spec: { ipAddressPools: ['lan'], interfaces: ['eth0'] },
  });
  for (const n of nodes) server.createObject(node(n));
  server.createObject(lbService('web', { spec: { externalTrafficPolicy: 'Local' } }));
  server.createObject(slice('web', { n1: false, n2: true, n3: false }));
  server.createObject(lbService('api'));
  server.createObject(slice('api', { n1: true, n2: true, n3: true }));

  const models: HeraldModel[] = [];
  source.on('change', (m) => models.push(m));
  const first = await source.start();
  t.equal(first.pools.length, 1);
  t.equal(first.l2Advertisements.length, 1);
  t.equal(first.nodes.length, 3);
  t.equal(first.endpointSlices.length, 2);
  t.ok(first.services.some((s) => s.metadata.name === 'web'));
  const web = first.services.find((s) => s.metadata.name === 'web')!;
  t.same(
    { metadata: Object.keys(web.metadata), spec: Object.keys(web.spec) },
    {
      metadata: ['name', 'namespace', 'labels'],
      spec: ['type', 'ports', 'selector', 'externalTrafficPolicy'],
    },
    'the speaker keeps what it reads of a Service (no uid, resourceVersion, clusterIP, ...)',
  );
  t.same(
    first.endpointSlices.find((s) => s.metadata.name === 'web-abc')?.endpoints?.[0],
    { nodeName: 'n1', conditions: { ready: false } },
    'and of an endpoint: its node and conditions, not its addresses',
  );
  t.equal(
    owners(first).get('default/web'),
    'n2',
    'ETP Local: the only node with a ready endpoint owns the VIP',
  );

  // Readiness moves: n2 goes unready, n3 becomes ready → ownership follows.
  server.patchObject('discovery.k8s.io/v1', 'EndpointSlice', 'web-abc', 'default', {
    endpoints: slice('web', { n1: false, n2: false, n3: true }).endpoints,
  });
  await eventually(
    'endpoint change reflected',
    () => models.length > 0 && owners(models[models.length - 1]!).get('default/web') === 'n3',
  );
  server.patchObject('discovery.k8s.io/v1', 'EndpointSlice', 'web-abc', 'default', {
    endpoints: slice('web', { n1: false, n2: false, n3: false }).endpoints,
  });
  await eventually(
    'no ready endpoint → nobody announces',
    () => owners(source.current()!).get('default/web') === undefined,
  );

  // Excluding the owner of the Cluster-policy service moves it elsewhere.
  const apiOwner = owners(source.current()!).get('default/api')!;
  t.ok(apiOwner);
  server.patchObject('v1', 'Node', apiOwner, undefined, {
    metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
  });
  await eventually('excluded node loses the VIP', () => {
    const o = owners(source.current()!).get('default/api');
    return o !== undefined && o !== apiOwner;
  });
  const otherNode = nodes.find((n) => n !== apiOwner && n !== owners(source.current()!).get('default/api'))!;
  server.patchObject(
    'v1',
    'Node',
    otherNode,
    undefined,
    { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } },
    'status',
  );
  await eventually('NetworkUnavailable node is not eligible either', () => {
    const { nodes: ns } = buildL2Inputs(source.current()!, new Map(), members);
    return ns.find((n) => n.name === otherNode)?.excluded === true;
  });

  // A bad object is reported and left out; the rest of the model stays.
  const rejected: number[] = [];
  source.on('rejected', (p) => rejected.push(p.length));
  server.createObject(pool('overlap', ['10.5.0.105/32']));
  await eventually('overlapping pool rejected', () => rejected.length > 0);
  t.ok(
    source.current()!.pools.some((p) => p.metadata.name === 'lan'),
    'good pool kept',
  );

  // API server outage: the model stays; on return, changes made meanwhile arrive (relist after 410).
  const connection: boolean[] = [];
  source.on('connection', (c) => connection.push(c));
  const before = source.current();
  await server.stop();
  await eventually('outage noticed', () => connection.includes(false), 5000);
  t.equal(source.current(), before, 'last known model kept while the API server is down');
  server.createObject(lbService('late'));
  server.compact();
  await server.restart();
  await eventually(
    'back and caught up',
    () => connection.at(-1) === true && source.current()!.services.some((s) => s.metadata.name === 'late'),
    8000,
  );
  // A short outage without compaction: the watches resume (no relist) and the source says so.
  await server.stop();
  await eventually('second outage noticed', () => connection.at(-1) === false, 5000);
  await server.restart();
  await eventually(
    'resumed watches count as reachable',
    () => connection.at(-1) === true && source.apiReachable,
    8000,
  );
  t.ok(source.speakerPeers(7946).length === 0, 'no speaker pods yet');
  server.createObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'speaker-x',
      namespace: HERALD_NS,
      labels: { 'app.kubernetes.io/component': 'speaker', 'app.kubernetes.io/part-of': 'herald' },
    },
    spec: { containers: [{ name: 's', image: 'x' }] },
  });
  server.patchObject(
    'v1',
    'Pod',
    'speaker-x',
    HERALD_NS,
    { status: { podIP: '10.5.0.2', phase: 'Running' } },
    'status',
  );
  await eventually('speaker peers from pods', () => source.speakerPeers(7946)[0] === '10.5.0.2:7946');
});

t.test('ServiceL2Status writer: objects per announcing node, events only on owner change', async (t) => {
  const server = await TestApiServer.start();
  const kc = new KubeConnection(kubeconfigSettings(server.kubeconfig()));
  t.teardown(() => {
    kc.close();
    return server.stop();
  });
  installHerald(server);
  server.createObject(lbService('web'));
  const w1 = new L2StatusWriter({ api: kc, namespace: HERALD_NS, node: 'n1', log });
  const w2 = new L2StatusWriter({ api: kc, namespace: HERALD_NS, node: 'n2', log });
  const ann = {
    serviceNamespace: 'default',
    serviceName: 'web',
    ips: ['10.5.0.100'],
    interfaces: ['eth0'],
    mode: 'owner' as const,
    reason: 'rendezvous winner among 3 eligible nodes',
  };
  await w1.publish([ann]);
  const name1 = l2StatusName('default', 'web', 'n1');
  const obj = server.get('herald.dev/v1beta1', 'ServiceL2Status', name1, HERALD_NS);
  t.match(obj?.status, {
    node: 'n1',
    serviceName: 'web',
    serviceNamespace: 'default',
    ips: ['10.5.0.100'],
    mode: 'owner',
  });
  t.same(
    eventsFor(server, 'web').map((e) => e.reason),
    ['Announcing'],
  );
  for (let i = 0; i < 3; i++) await w1.publish([ann]);
  t.equal(eventsFor(server, 'web').length, 1, 'republishing the same state records nothing');
  const rvBefore = server.get('herald.dev/v1beta1', 'ServiceL2Status', name1, HERALD_NS)?.metadata
    .resourceVersion;
  t.equal(rvBefore, obj?.metadata.resourceVersion, 'and writes nothing');

  // Owner change: n1 stops, n2 starts → n1's object deleted, n2's created, one event.
  await w1.publish([]);
  await w2.publish([ann]);
  t.notOk(
    server.get('herald.dev/v1beta1', 'ServiceL2Status', name1, HERALD_NS),
    'old owner removed its status',
  );
  t.ok(server.get('herald.dev/v1beta1', 'ServiceL2Status', l2StatusName('default', 'web', 'n2'), HERALD_NS));
  t.equal(eventsFor(server, 'web').length, 2, 'one event for the owner change');
  t.ok(
    eventsFor(server, 'web').some((e) => /node n2 announces 10\.5\.0\.100/.test(e.message)),
    'the event names the new owner',
  );

  // A restarted speaker adopts its objects: no duplicate event.
  const w2b = new L2StatusWriter({ api: kc, namespace: HERALD_NS, node: 'n2', log });
  await w2b.publish([ann]);
  t.equal(eventsFor(server, 'web').length, 2, 'speaker restart records no event');
});
