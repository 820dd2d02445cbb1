import t from 'tap';
import { parseConfigTexts } from '../../../src/config/index.js';
import { serviceAllocations, unpinnedServices } from '../../../src/speaker/model-source.js';

const pool = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: p }
spec: { addresses: [10.0.0.0/24] }
`;
const service = (name: string, annotations = '') => `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: d${annotations ? `, annotations: { ${annotations} }` : ''} }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;
const model = (...docs: string[]) => {
  const parsed = parseConfigTexts([{ text: pool + docs.join(''), fileName: 'f.yaml' }]);
  if (parsed.problems.length > 0) throw new Error(JSON.stringify(parsed.problems));
  return parsed.model;
};
const ips = (m: ReturnType<typeof model>) =>
  Object.fromEntries([...serviceAllocations(m, 'compute').allocations].map(([k, a]) => [k, a.ips.join()]));

t.test(
  'standalone numbering: an unpinned service moves when one that sorts before it is added',
  async (t) => {
    const before = ips(model(service('b'), service('c')));
    const after = ips(model(service('a'), service('b'), service('c')));
    t.not(after['d/b'], before['d/b'], 'b moved: the reason for the warning');
    t.same(unpinnedServices(model(service('a'), service('c'), service('b'))), ['d/a', 'd/b', 'd/c']);
  },
);

t.test('pinned services stay where they are and are not reported', async (t) => {
  const pinned = (name: string, ip: string) => service(name, `herald.dev/loadBalancerIPs: "${ip}"`);
  const before = ips(model(pinned('b', '10.0.0.7'), service('c')));
  const after = ips(model(service('a'), pinned('b', '10.0.0.7'), service('c')));
  t.equal(after['d/b'], before['d/b']);
  t.same(unpinnedServices(model(service('a'), pinned('b', '10.0.0.7'))), ['d/a']);
  const other = `---
apiVersion: v1
kind: Service
metadata: { name: x, namespace: d }
spec: { type: ClusterIP, ports: [{ port: 80 }] }
`;
  t.same(unpinnedServices(model(other)), [], 'a service Herald does not handle is not reported');
});
