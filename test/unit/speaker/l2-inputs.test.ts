import t from 'tap';
import { parseConfigTexts } from '../../../src/config/index.js';
import { decideL2 } from '../../../src/l2/desired.js';
import { buildL2Inputs, type MemberView } from '../../../src/speaker/l2-inputs.js';

const yaml = `
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lan }
spec: { addresses: [10.0.0.200-10.0.0.210] }
---
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: spread, labels: { tier: spread } }
spec: { addresses: [10.0.0.220/30] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lan }
spec:
  ipAddressPools: [lan]
  nodeSelectors: [{ matchLabels: { l2: "yes" } }]
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: spread }
spec:
  ipAddressPoolSelectors: [{ matchLabels: { tier: spread } }]
  spread: { enabled: true }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default, annotations: { herald.dev/allow-shared-ip: k } }
spec: { type: LoadBalancer, externalTrafficPolicy: Local, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web-tls, namespace: default, annotations: { herald.dev/allow-shared-ip: k } }
spec: { type: LoadBalancer, externalTrafficPolicy: Local, ports: [{ port: 443 }] }
---
apiVersion: v1
kind: Service
metadata: { name: other-class }
spec: { type: LoadBalancer, loadBalancerClass: example.com/lb, ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
endpoints:
  - { nodeName: b, conditions: { ready: true } }
  - { nodeName: c, conditions: { ready: false } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-tls-1, namespace: default, labels: { kubernetes.io/service-name: web-tls } }
endpoints:
  - { nodeName: a }
---
apiVersion: v1
kind: Node
metadata: { name: c, labels: { l2: "yes", node.kubernetes.io/exclude-from-external-load-balancers: "" } }
---
apiVersion: v1
kind: Node
metadata: { name: a }
---
apiVersion: v1
kind: Node
metadata: { name: b }
`;

const iface = { name: 'eth0', cidrs: ['10.0.0.1/24'] };
const member = (name: string, labels: Record<string, string> = {}): MemberView => ({
  name,
  alive: true,
  meta: { interfaces: [iface], labels },
});

t.test('model + allocations + members become L2 inputs with MetalLB semantics', async (t) => {
  const { model, problems } = parseConfigTexts([{ text: yaml, fileName: 'lab.yaml' }]);
  t.same(problems, [], 'the fixture is valid');
  const allocations = new Map([
    ['default/web', { ips: ['10.0.0.200'], pool: 'lan' }],
    ['default/web-tls', { ips: ['10.0.0.200'], pool: 'lan' }],
    ['default/other-class', { ips: ['10.0.0.201'], pool: 'lan' }],
  ]);
  const members = [member('a', { l2: 'yes' }), member('b', { l2: 'yes' }), member('c'), member('d')];
  const { vips, nodes } = buildL2Inputs(model, allocations, members);
  t.equal(vips.length, 1, 'shared IP merged; other classes ignored');
  const [vip] = vips;
  t.same(vip?.services, ['default/web', 'default/web-tls']);
  t.equal(vip?.externalTrafficPolicy, 'Local');
  t.same([...(vip?.readyNodes ?? [])].sort(), ['a', 'b'], 'ready (or unset) endpoints of both services');
  t.same(
    vip?.advertisements.map((a) => a.name),
    ['lan'],
  );
  t.same(
    [...(vip?.advertisements[0]?.nodes ?? [])].sort(),
    ['a', 'b', 'c'],
    'node selector: meta + Node labels',
  );
  t.equal(nodes.find((n) => n.name === 'c')?.excluded, true, 'exclude label on the Node object');
  const [decision] = decideL2(vips, nodes);
  t.ok(['a', 'b'].includes(decision?.owner ?? ''), 'owner has a ready endpoint and is selected');
  t.same(decision?.eligible, ['a', 'b']);
});

t.test(
  'spread advertisement found through a pool selector; members without metadata are not alive',
  async (t) => {
    const { model } = parseConfigTexts([{ text: yaml, fileName: 'lab.yaml' }]);
    const allocations = new Map([['default/web', { ips: ['10.0.0.221'], pool: 'spread' }]]);
    const { vips, nodes } = buildL2Inputs(model, allocations, [member('a'), { name: 'x', alive: true }]);
    t.equal(vips[0]?.advertisements[0]?.spread, true);
    t.equal(nodes.find((n) => n.name === 'x')?.alive, false);
  },
);
