import t from 'tap';
import { allocateAll } from '../../../src/allocator/allocate-all.js';
import { isAllocated } from '../../../src/allocator/allocator.js';
import type { HeraldModel } from '../../../src/config/types.js';
import { buildModel, speakerEntry } from '../../../src/k8s/model.js';
import { projectForSpeaker, projectSpeakerPod } from '../../../src/k8s/project.js';
import { decideL2 } from '../../../src/l2/desired.js';
import { buildL2Inputs, isExcluded, type MemberView } from '../../../src/speaker/l2-inputs.js';

type Plain = Record<string, unknown>;

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];
const lastApplied = { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}' };
const bookkeeping = {
  uid: 'd9c6e1f4',
  resourceVersion: '7',
  creationTimestamp: '2026-11-28T07:00:00Z',
  generation: 3,
  finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
  managedFields,
};

/** A Service as a real API server returns it: every defaulted field, bookkeeping and foreign annotations. */
function service(name: string, extra: { annotations?: Plain; spec?: Plain; ip?: string } = {}): Plain {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'default',
      ...bookkeeping,
      labels: { app: name, tier: 'web' },
      annotations: { ...lastApplied, 'prometheus.io/scrape': 'true', ...extra.annotations },
    },
    spec: {
      type: 'LoadBalancer',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 31234 }],
      selector: { app: name },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      allocateLoadBalancerNodePorts: true,
      ...extra.spec,
    },
    status: {
      loadBalancer: { ingress: [{ ip: extra.ip ?? '10.5.0.100', ipMode: 'VIP', ports: [] }] },
      conditions: [{ type: 'herald.dev/AddressAllocated', status: 'True', reason: 'Allocated' }],
    },
  };
}

const slice = (svc: string, ready: Record<string, boolean>): Plain => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: `${svc}-abc`,
    namespace: 'default',
    ...bookkeeping,
    labels: {
      'kubernetes.io/service-name': svc,
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    },
    ownerReferences: [{ kind: 'Service', name: svc, uid: 'x' }],
  },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: Object.entries(ready).map(([nodeName, r], i) => ({
    addresses: [`10.244.0.${i + 1}`],
    nodeName,
    conditions: { ready: r, serving: r, terminating: false },
    targetRef: { kind: 'Pod', name: `${svc}-${i}`, namespace: 'default', uid: 'u' },
    zone: 'a',
    hints: { forZones: [{ name: 'a' }] },
  })),
});

const node = (name: string, labels: Plain = {}, networkUnavailable = false): Plain => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name,
    ...bookkeeping,
    labels: { 'kubernetes.io/hostname': name, ...labels },
    annotations: { ...lastApplied, 'node.alpha.kubernetes.io/ttl': '0' },
  },
  spec: { podCIDR: '10.244.0.0/24', taints: [] },
  status: {
    images: [{ names: ['registry/x:1'], sizeBytes: 1 }],
    addresses: [{ type: 'InternalIP', address: '10.5.0.11' }],
    nodeInfo: { kernelVersion: '6.18' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        lastHeartbeatTime: '2026-11-28T07:00:00Z',
        message: 'kubelet is ready',
      },
      { type: 'NetworkUnavailable', status: networkUnavailable ? 'True' : 'False', reason: 'RouteCreated' },
    ],
  },
});

const namespace = (name: string, labels: Plain): Plain => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...bookkeeping, labels },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Active' },
});

const pool: Plain = {
  apiVersion: 'herald.dev/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name: 'lan', namespace: 'herald-system', ...bookkeeping, annotations: lastApplied },
  spec: {
    addresses: ['10.5.0.100-10.5.0.120'],
    serviceAllocation: { serviceSelectors: [{ matchLabels: { tier: 'web' } }] },
  },
};
const l2: Plain = {
  apiVersion: 'herald.dev/v1beta1',
  kind: 'L2Advertisement',
  metadata: { name: 'l2', namespace: 'herald-system' },
  spec: { ipAddressPools: ['lan'], nodeSelectors: [{ matchLabels: { rack: 'r1' } }] },
};

/** List items carry no apiVersion and kind: the projection is told them. */
const project = (o: Plain): Plain => {
  const { apiVersion, kind, ...item } = o;
  return projectForSpeaker(String(apiVersion), String(kind), item);
};

t.test('a Service keeps the fields the speaker reads and nothing else', async (t) => {
  const full = service('web', {
    annotations: { 'herald.dev/health-check': 'tcp:80', 'metallb.io/allow-shared-ip': 'k' },
  });
  const before = JSON.stringify(full);
  t.same(project(full), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'default',
      labels: { app: 'web', tier: 'web' },
      annotations: { 'herald.dev/health-check': 'tcp:80', 'metallb.io/allow-shared-ip': 'k' },
    },
    spec: {
      type: 'LoadBalancer',
      ports: [{ port: 80, protocol: 'TCP' }],
      selector: { app: 'web' },
      externalTrafficPolicy: 'Local',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
    },
    status: { loadBalancer: { ingress: [{ ip: '10.5.0.100' }] } },
  });
  t.equal(JSON.stringify(full), before, 'the object as received is not changed');
  const bare = project(service('bare', { spec: { ports: undefined } }));
  t.notOk('annotations' in (bare.metadata as Plain), 'no annotations key when none of ours is set');
  t.notOk('ports' in (bare.spec as Plain), 'no keys for unset fields');
});

t.test('EndpointSlices, Nodes, Namespaces and speaker pods keep only what is read', async (t) => {
  t.same(project(slice('web', { n1: true, n2: false })), {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    endpoints: [
      { nodeName: 'n1', conditions: { ready: true, serving: true, terminating: false } },
      { nodeName: 'n2', conditions: { ready: false, serving: false, terminating: false } },
    ],
  });
  t.same(project(node('n1', { rack: 'r1' }, true)), {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', rack: 'r1' } },
    status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] },
  });
  t.same(project(namespace('team-a', { team: 'a' })), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'team-a', labels: { team: 'a' } },
  });
  t.same(
    projectSpeakerPod({
      metadata: { name: 'speaker-x', namespace: 'herald-system', managedFields },
      spec: { containers: [{ name: 'speaker' }] },
      status: { podIP: '10.0.0.11', phase: 'Running', conditions: [] },
    }),
    { podIP: '10.0.0.11', phase: 'Running' },
  );
});

t.test("Herald's own kinds are kept whole but for the server's bookkeeping", async (t) => {
  const { uid, resourceVersion, creationTimestamp, generation, finalizers } = bookkeeping;
  t.same(project(pool), {
    ...pool,
    metadata: {
      name: 'lan',
      namespace: 'herald-system',
      uid,
      resourceVersion,
      creationTimestamp,
      generation,
      finalizers,
    },
  });
});

t.test('bad values are copied as they are, so the schema still reports them', async (t) => {
  const bad = service('bad', { spec: { externalTrafficPolicy: 'Sometimes', ports: [{ port: 0 }] } });
  const entry = speakerEntry('v1', 'Service', bad);
  t.equal(entry.object, undefined, 'left out of the model');
  t.same(
    entry.problems.map((p) => p.path),
    buildModel([bad as never]).problems.map((p) => p.path),
    'the same problems as the whole object',
  );
  t.match(entry.problems.map((p) => p.path).join(' '), /spec\.ports\[0\]\.port/);
  const notAnObject = speakerEntry('v1', 'Service', { metadata: { name: 'x' }, spec: 'LoadBalancer' });
  t.ok(notAnObject.problems.length > 0, 'a spec that is not an object is reported');
});

const members: MemberView[] = ['n1', 'n2', 'n3'].map((name) => ({
  name,
  alive: true,
  meta: { interfaces: [{ name: 'eth0', cidrs: ['10.5.0.0/24'] }], labels: {} },
}));

/** What the speaker decides from a model: allocations and, per VIP, its owner and eligible nodes. */
function decisions(model: HeraldModel) {
  const allocs = new Map(
    [...allocateAll(model)].filter(([, a]) => isAllocated(a)) as Array<
      [string, { ips: string[]; pool: string }]
    >,
  );
  const { vips, nodes } = buildL2Inputs(model, allocs, members);
  return {
    allocations: [...allocs],
    decisions: decideL2(vips, nodes).map((d) => ({
      ip: d.ip,
      services: d.services,
      owner: d.owner,
      eligible: d.eligible,
      reason: d.reason,
    })),
  };
}

t.test('the speaker decides the same from projected objects as from whole ones', async (t) => {
  const cluster = [
    pool,
    l2,
    namespace('default', { env: 'prod' }),
    node('n1', { rack: 'r1' }),
    node('n2', { rack: 'r1' }, true),
    node('n3', { rack: 'r1' }),
    service('web', { ip: '10.5.0.100' }),
    slice('web', { n1: false, n2: true, n3: true }),
    service('api', { ip: '10.5.0.101', spec: { externalTrafficPolicy: 'Cluster' } }),
    slice('api', { n1: true }),
    service('shared-a', {
      ip: '10.5.0.102',
      annotations: { 'herald.dev/allow-shared-ip': 's' },
      spec: { ports: [{ port: 80 }] },
    }),
    service('shared-b', {
      ip: '10.5.0.102',
      annotations: { 'metallb.universe.tf/allow-shared-ip': 's' },
      spec: { ports: [{ port: 443, protocol: 'TCP' }] },
    }),
    service('asks', { ip: '10.5.0.110', annotations: { 'herald.dev/loadBalancerIPs': '10.5.0.110' } }),
    service('other-class', { spec: { loadBalancerClass: 'other.io/lb' } }),
  ];
  const whole = buildModel(cluster as never[]);
  const entries = cluster.map((o) => speakerEntry(String(o.apiVersion), String(o.kind), o));
  const model = buildModel(entries.map((e) => e.object as never));
  t.same(whole.problems, []);
  t.same(
    entries.flatMap((e) => e.problems),
    [],
  );
  const expected = decisions(whole.model);
  t.ok(expected.decisions.length >= 4, 'the cluster has VIPs to decide');
  t.same(decisions(model.model), expected);
  t.equal(isExcluded({}, model.model.nodes[1]?.status), true, 'a NetworkUnavailable node stays excluded');
  t.equal(isExcluded({}, model.model.nodes[0]?.status), false);
});
