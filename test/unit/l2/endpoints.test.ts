import t from 'tap';
import {
  anyReadyEndpoint,
  hasReadyEndpoint,
  mergeReadyNodes,
  readyNodesByService,
  readyNodesOf,
} from '../../../src/l2/endpoints.js';
import type { EndpointSlice } from '../../../src/config/index.js';

const slice = (svc: string, eps: Array<{ node: string; ready?: boolean }>): EndpointSlice =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: ['10.1.0.1'],
      nodeName: e.node,
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
    })),
  }) as EndpointSlice;

t.test('a missing EndpointSlice means every node in standalone mode, none in Kubernetes mode', async (t) => {
  const bySlices = readyNodesByService([slice('web', [{ node: 'a' }, { node: 'b', ready: false }])]);
  const cases = [
    { svc: 'default/web', semantics: 'standalone', node: 'a', has: true, any: true },
    { svc: 'default/web', semantics: 'standalone', node: 'b', has: false, any: true },
    { svc: 'default/web', semantics: 'kubernetes', node: 'a', has: true, any: true },
    { svc: 'default/api', semantics: 'standalone', node: 'z', has: true, any: true },
    { svc: 'default/api', semantics: 'kubernetes', node: 'a', has: false, any: false },
  ] as const;
  for (const c of cases) {
    const ready = readyNodesOf(bySlices, c.svc, c.semantics);
    t.equal(hasReadyEndpoint(ready, c.node), c.has, `${c.svc} ${c.semantics} ${c.node}`);
    t.equal(anyReadyEndpoint(ready), c.any, `${c.svc} ${c.semantics} any`);
  }
});

t.test('a slice with no ready endpoint narrows to nobody, also in standalone mode', async (t) => {
  const bySlices = readyNodesByService([slice('web', [{ node: 'a', ready: false }])]);
  t.notOk(anyReadyEndpoint(readyNodesOf(bySlices, 'default/web', 'standalone')));
});

t.test('services sharing an IP: union, undeclared wins', async (t) => {
  t.same([...(mergeReadyNodes([new Set(['a']), new Set(['b'])]) as Set<string>)].sort(), ['a', 'b']);
  t.equal(mergeReadyNodes([new Set(['a']), 'undeclared']), 'undeclared');
  t.same([...(mergeReadyNodes([]) as Set<string>)], []);
});
