import t from 'tap';
import type { KubernetesObject } from '../../../src/k8s/client.js';
import { buildModel } from '../../../src/k8s/model.js';
import { trimForSpeaker } from '../../../src/k8s/trim.js';
import { isExcluded } from '../../../src/speaker/l2-inputs.js';

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];
const lastApplied = { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}' };

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'default',
    resourceVersion: '7',
    labels: { app: 'web' },
    annotations: { ...lastApplied, 'herald.dev/health-check': 'tcp:80' },
    managedFields,
  },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }], externalTrafficPolicy: 'Local' },
  status: { loadBalancer: { ingress: [{ ip: '10.0.0.200' }] } },
};
const slice = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: 'web-abc',
    namespace: 'default',
    labels: { 'kubernetes.io/service-name': 'web' },
    managedFields,
  },
  addressType: 'IPv4',
  ports: [{ port: 80 }],
  endpoints: [
    {
      addresses: ['10.1.0.5'],
      nodeName: 'n1',
      conditions: { ready: true },
      targetRef: { kind: 'Pod', name: 'web-1', uid: 'u' },
      zone: 'a',
      hints: { forZones: [{ name: 'a' }] },
    },
  ],
};
const node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1', labels: { rack: 'r1' }, annotations: lastApplied, managedFields },
  spec: { podCIDR: '10.1.0.0/24' },
  status: {
    images: [{ names: ['registry/x:1'], sizeBytes: 1 }],
    conditions: [{ type: 'NetworkUnavailable', status: 'True' }],
  },
};

t.test('server bookkeeping goes, everything else of a Service stays', async (t) => {
  const trimmed = trimForSpeaker('Service', service as KubernetesObject);
  const { managedFields: _m, annotations: _a, ...metadata } = service.metadata;
  t.same(trimmed, {
    ...service,
    metadata: { ...metadata, annotations: { 'herald.dev/health-check': 'tcp:80' } },
  });
  t.notOk('managedFields' in (trimmed.metadata ?? {}), 'no managedFields key');
  t.ok(service.metadata.managedFields, 'the input object is not modified');
});

t.test('Nodes keep their labels only; EndpointSlices where and whether endpoints are ready', async (t) => {
  t.same(trimForSpeaker('Node', node as KubernetesObject), {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { rack: 'r1' } },
    status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] },
  });
  t.same(trimForSpeaker('EndpointSlice', slice as KubernetesObject), {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ port: 80 }],
    endpoints: [{ addresses: ['10.1.0.5'], nodeName: 'n1', conditions: { ready: true } }],
  });
  t.same(
    trimForSpeaker('Pod', {
      metadata: { name: 'speaker-x', namespace: 'herald-system', managedFields },
      spec: { containers: [{ name: 'speaker' }] },
      status: { podIP: '10.0.0.11', phase: 'Running', conditions: [] },
    } as KubernetesObject),
    {
      metadata: { name: 'speaker-x', namespace: 'herald-system' },
      status: { podIP: '10.0.0.11', phase: 'Running' },
    },
    'list items (no apiVersion/kind) are trimmed by the kind the caller names',
  );
});

t.test('the model built from trimmed objects is the model built from the full ones', async (t) => {
  const objects = [service, slice, node] as KubernetesObject[];
  const full = buildModel(objects);
  const trimmed = buildModel(objects.map((o) => trimForSpeaker(o.kind ?? '', o)));
  t.same(full.problems, []);
  t.same(trimmed.problems, []);
  t.same(trimmed.model.services[0]?.spec, full.model.services[0]?.spec);
  t.same(trimmed.model.services[0]?.status, full.model.services[0]?.status);
  t.same(trimmed.model.services[0]?.metadata.annotations, { 'herald.dev/health-check': 'tcp:80' });
  t.same(trimmed.model.nodes[0]?.metadata.labels, full.model.nodes[0]?.metadata.labels);
  t.same(isExcluded({}, trimmed.model.nodes[0]?.status), true, 'a NetworkUnavailable node stays excluded');
  const endpoint = (m: typeof full.model) => m.endpointSlices[0]?.endpoints?.[0];
  t.same(
    [
      endpoint(trimmed.model)?.nodeName,
      endpoint(trimmed.model)?.conditions,
      endpoint(trimmed.model)?.addresses,
    ],
    [endpoint(full.model)?.nodeName, endpoint(full.model)?.conditions, endpoint(full.model)?.addresses],
  );
});
