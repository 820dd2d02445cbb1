import t from 'tap';
import { formatProblem, parseConfigDocuments, parseConfigTexts } from '../../../src/config/index.js';

// Table: each case is a configuration and the problems it must produce ("doc:path: message" substrings).

const pool = (name: string, ...addresses: string[]): string =>
  `apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: ${name}}\nspec: {addresses: [${addresses.map((a) => JSON.stringify(a)).join(', ')}]}`;
const peer = (spec: string, name = 'p'): string =>
  `apiVersion: herald.dev/v1beta1\nkind: BGPPeer\nmetadata: {name: ${name}}\nspec: {myASN: 64512, peerAddress: 10.0.0.1, ${spec}}`;
const svc = (name: string, extra: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}${extra.startsWith('annotations') ? `, ${extra.split('|')[0]}` : ''}}\nspec: {type: LoadBalancer, ports: [{port: 80}]${extra.includes('|') ? `, ${extra.split('|')[1]}` : extra.startsWith('annotations') ? '' : `, ${extra}`}}`;
const docs = (...d: string[]): string => d.join('\n---\n');

const cases: Array<{ name: string; yaml: string; expect: string[] }> = [
  { name: 'valid pool', yaml: pool('a', '10.0.0.0/24', '10.0.1.1-10.0.1.9', 'fd00::/64'), expect: [] },
  {
    name: 'bad CIDR',
    yaml: pool('a', '10.0.0.0/33'),
    expect: ['1:spec.addresses[0]: "10.0.0.0/33" is not a valid CIDR'],
  },
  {
    name: 'bad address',
    yaml: pool('a', '10.0.0.300/24'),
    expect: ['1:spec.addresses[0]: "10.0.0.300/24" is not a valid CIDR'],
  },
  {
    name: 'range start > end',
    yaml: pool('a', '10.0.0.9-10.0.0.1'),
    expect: ['start 10.0.0.9 is after end 10.0.0.1'],
  },
  { name: 'mixed family range', yaml: pool('a', '10.0.0.1-fd00::1'), expect: ['mixes IPv4 and IPv6'] },
  {
    name: 'empty pool',
    yaml: pool('a'),
    expect: ['1:spec.addresses: a pool needs at least one address range'],
  },
  {
    name: 'overlapping pools',
    yaml: docs(pool('a', '10.0.0.0/24'), pool('b', '10.0.0.128/25')),
    expect: ['2:spec.addresses[0]: 10.0.0.128/25 overlaps 10.0.0.0/24 of pool "a"'],
  },
  {
    name: 'overlap inside a pool',
    yaml: pool('a', 'fd00::/64', 'fd00::5-fd00::9'),
    expect: ['1:spec.addresses[1]: fd00::5-fd00::9 overlaps fd00::/64 of another entry of this pool'],
  },
  {
    name: 'duplicate names',
    yaml: docs(pool('a', '10.0.0.0/24'), pool('a', '10.0.1.0/24')),
    expect: ['2:metadata.name: duplicate IPAddressPool "a"'],
  },
  {
    name: 'unknown field',
    yaml: pool('a', '10.0.0.0/24').replace('spec: {', 'spec: {autoassign: false, '),
    expect: ['1:spec.autoassign: unknown field'],
  },
  {
    name: 'misspelt spec',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: a}\nsepc: {interfaces: [eth0]}',
    expect: ['1:sepc: unknown field'],
  },
  {
    name: 'unknown kind',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: Pool\nmetadata: {name: a}',
    expect: ['1:kind: unknown kind "Pool"'],
  },
  {
    name: 'unknown version',
    yaml: pool('a', '10.0.0.0/24').replace('herald.dev/v1beta1', 'metallb.io/v1alpha1'),
    expect: ['1:apiVersion: unsupported apiVersion "metallb.io/v1alpha1" for IPAddressPool'],
  },
  {
    name: 'missing kind',
    yaml: 'apiVersion: v1\nmetadata: {name: a}',
    expect: ['1:kind: required field is missing'],
  },
  { name: 'not an object', yaml: '- a\n- b', expect: ['1:-: expected a Kubernetes-style object'] },
  { name: 'YAML syntax error', yaml: 'a: [1, 2\n', expect: ['1:-: YAML error'] },
  {
    name: 'bad name',
    yaml: pool('A_b', '10.0.0.0/24'),
    expect: ['1:metadata.name: must be a lowercase DNS name'],
  },
  {
    name: 'unknown pool in L2Advertisement',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [a, b]}',
    ),
    expect: ['2:spec.ipAddressPools[1]: unknown IPAddressPool "b"'],
  },
  {
    name: 'misspelt pool in L2Advertisement: did you mean',
    yaml: docs(
      pool('lan', '10.0.0.0/24'),
      'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [lann]}',
    ),
    expect: ['2:spec.ipAddressPools[0]: unknown IPAddressPool "lann"; did you mean lan?'],
  },
  {
    name: 'service: misspelt pool, did you mean',
    yaml: docs(
      pool('first-pool', '10.0.0.0/24'),
      svc('s', 'annotations: {herald.dev/address-pool: frist-pool}'),
    ),
    expect: [
      '2:metadata.annotations: unknown IPAddressPool "frist-pool" requested; did you mean first-pool?',
    ],
  },
  {
    name: 'spread must be an object',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {spread: true}',
    expect: ['1:spec.spread: Invalid input: expected object, received boolean'],
  },
  {
    name: 'spread.by is clients or flows',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {spread: {enabled: true, by: packets}}',
    expect: ['1:spec.spread.by: must be one of "clients", "flows"'],
  },
  { name: 'ASN zero', yaml: peer('peerASN: 0'), expect: ['1:spec.peerASN: ASN must be 1..4294967295'] },
  {
    name: 'ASN too big',
    yaml: peer('peerASN: 4294967296'),
    expect: ['1:spec.peerASN: ASN must be 1..4294967295'],
  },
  {
    name: 'peerASN missing',
    yaml: peer('holdTime: 90s'),
    expect: ['1:spec.peerASN: required (or set dynamicASN)'],
  },
  {
    name: 'peerASN and dynamicASN',
    yaml: peer('peerASN: 1, dynamicASN: external'),
    expect: ['1:spec.dynamicASN: set either'],
  },
  {
    name: 'hold time below 3s',
    yaml: peer('peerASN: 1, holdTime: 2s'),
    expect: ['1:spec.holdTime: hold time 2s is below 3s'],
  },
  { name: 'hold time 0 is fine', yaml: peer('peerASN: 1, holdTime: "0"'), expect: [] },
  { name: 'hold time 3s is fine', yaml: peer('peerASN: 1, holdTime: 3s, keepaliveTime: 1s'), expect: [] },
  {
    name: 'bad duration',
    yaml: peer('peerASN: 1, holdTime: 90x'),
    expect: ['1:spec.holdTime: "90x" is not a duration'],
  },
  {
    name: 'keepalive >= hold',
    yaml: peer('peerASN: 1, holdTime: 9s, keepaliveTime: 1m'),
    expect: ['1:spec.keepaliveTime: keepalive time 1m must be lower'],
  },
  {
    name: 'bad peer address',
    yaml: peer('peerASN: 1').replace('10.0.0.1', '10.0.0'),
    expect: ['1:spec.peerAddress: "10.0.0" is not a valid IP address'],
  },
  {
    name: 'router ID must be IPv4',
    yaml: peer('peerASN: 1, routerID: "fd00::1"'),
    expect: ['1:spec.routerID: router ID must be an IPv4 address'],
  },
  {
    name: 'port range',
    yaml: peer('peerASN: 1, peerPort: 70000'),
    expect: ['1:spec.peerPort: port must be 1..65535'],
  },
  {
    name: 'unknown BFD profile',
    yaml: peer('peerASN: 1, bfdProfile: fast'),
    expect: ['1:spec.bfdProfile: unknown BFDProfile "fast"'],
  },
  {
    name: 'password and secret',
    yaml: peer('peerASN: 1, password: x, passwordSecret: {name: s}'),
    expect: ['1:spec.passwordSecret: set either password or passwordSecret'],
  },
  {
    name: 'source family',
    yaml: peer('peerASN: 1, sourceAddress: "fd00::1"'),
    expect: ['1:spec.sourceAddress: source address fd00::1 is not the same family'],
  },
  {
    name: 'duplicate peer',
    yaml: docs(peer('peerASN: 1'), peer('peerASN: 2', 'q')),
    expect: ['2:spec.peerAddress: peer 10.0.0.1 is already defined by BGPPeer "p"'],
  },
  {
    name: 'BFD ranges',
    yaml: 'apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: b}\nspec: {receiveInterval: 5, detectMultiplier: 1, minimumTtl: 255}',
    expect: [
      '1:spec.receiveInterval: receiveInterval must be 10..60000 ms',
      '1:spec.detectMultiplier: detectMultiplier must be 2..255',
      '1:spec.minimumTtl: minimumTtl must be 1..254',
    ],
  },
  {
    name: 'bad community syntax',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {communities: ["65536:1", "1:2:3", "large:1:2", nope]}',
    expect: [
      '1:spec.communities[0]: "65536:1" is not a community: both parts must be numbers 0..65535',
      '1:spec.communities[1]: "1:2:3" is not a community',
      '1:spec.communities[2]: "large:1:2" is not a large community',
      '1:spec.communities[3]: "nope" is neither a community value nor an alias',
    ],
  },
  {
    name: 'community alias value',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: Community\nmetadata: {name: c}\nspec: {communities: [{name: a, value: "x:1"}, {name: a, value: "1:1"}]}',
    expect: [
      '1:spec.communities[0].value: "x:1" is not a community',
      '1:spec.communities[1].name: community alias "a" is defined twice',
    ],
  },
  {
    name: 'aggregation length shorter than the pool',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      'apiVersion: herald.dev/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {aggregationLength: 16}',
    ),
    expect: ['2:spec.aggregationLength: aggregation length 16 would announce addresses outside pool "a"'],
  },
  {
    name: 'aggregation length too long',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {aggregationLength: 33, aggregationLengthV6: 129}',
    expect: [
      '1:spec.aggregationLength: IPv4 aggregation length must be 0..32',
      '1:spec.aggregationLengthV6: IPv6 aggregation length must be 0..128',
    ],
  },
  {
    name: 'unknown peer in advertisement',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {peers: [x]}',
    expect: ['1:spec.peers[0]: unknown BGPPeer "x"'],
  },
  {
    name: 'selector operator needs values',
    yaml: 'apiVersion: herald.dev/v1beta1\nkind: L2Advertisement\nmetadata: {name: a}\nspec: {nodeSelectors: [{matchExpressions: [{key: k, operator: In}, {key: k, operator: Exists, values: [x]}, {key: k, operator: Like}]}]}',
    expect: [
      '1:spec.nodeSelectors[0].matchExpressions[0].values: operator In needs values',
      '1:spec.nodeSelectors[0].matchExpressions[1].values: operator Exists takes no values',
      '1:spec.nodeSelectors[0].matchExpressions[2].operator: must be one of',
    ],
  },
  {
    name: 'service: requested IP outside pools',
    yaml: docs(pool('a', '10.0.0.0/24'), svc('s', 'loadBalancerIP: 10.9.9.9')),
    expect: ['2:spec: requested 10.9.9.9 is not in any IPAddressPool'],
  },
  {
    name: 'service: unknown pool',
    yaml: docs(pool('a', '10.0.0.0/24'), svc('s', 'annotations: {herald.dev/address-pool: b}')),
    expect: ['2:metadata.annotations: unknown IPAddressPool "b" requested'],
  },
  {
    name: 'service: bad loadBalancerIPs',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      svc('s', 'annotations: {metallb.universe.tf/loadBalancerIPs: "10.0.0.1,bad"}'),
    ),
    expect: [
      '2:metadata.annotations["metallb.universe.tf/loadBalancerIPs"]: "bad" is not a valid IP address',
    ],
  },
  {
    name: 'service: annotation and loadBalancerIP disagree',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      svc('s', 'annotations: {herald.dev/loadBalancerIPs: 10.0.0.1}|loadBalancerIP: 10.0.0.2'),
    ),
    expect: ['2:spec.loadBalancerIP: conflicts with annotation herald.dev/loadBalancerIPs'],
  },
  {
    name: 'service: requested IP in another pool than requested',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      pool('b', '10.0.1.0/24'),
      svc('s', 'annotations: {herald.dev/address-pool: b, herald.dev/loadBalancerIPs: 10.0.0.1}'),
    ),
    expect: ['3:spec: requested 10.0.0.1 is in pool "a", not in the requested pool "b"'],
  },
  {
    name: 'service: two IPv4 for SingleStack',
    yaml: docs(
      pool('a', '10.0.0.0/24'),
      svc('s', 'annotations: {herald.dev/loadBalancerIPs: "10.0.0.1,10.0.0.2"}'),
    ),
    expect: ['more than one IPv4 address requested'],
  },
  {
    name: 'service: bad port and family policy',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, ports: [{port: 0}], ipFamilyPolicy: Dual}',
    expect: ['1:spec.ports[0].port: port must be 1..65535', '1:spec.ipFamilyPolicy: must be one of'],
  },
  {
    name: 'service of another class is not checked',
    yaml: docs(pool('a', '10.0.0.0/24'), svc('s', 'loadBalancerClass: other, loadBalancerIP: 10.9.9.9')),
    expect: [],
  },
  {
    name: 'EndpointSlice without service label and unknown service/node',
    yaml: docs(
      svc('web', 'externalTrafficPolicy: Local'),
      'apiVersion: v1\nkind: Node\nmetadata: {name: n1}',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x}',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: y, labels: {kubernetes.io/service-name: api}}\nendpoints: [{nodeName: n2}]',
    ),
    expect: [
      '3:metadata.labels: an EndpointSlice needs the label kubernetes.io/service-name',
      '4:metadata.labels["kubernetes.io/service-name"]: no Service default/api',
      '4:endpoints[0].nodeName: unknown Node "n2"',
    ],
  },
  {
    name: 'kind: List is read item by item',
    yaml: `apiVersion: v1\nkind: List\nitems:\n- ${pool('a', '10.0.0.0/24').split('\n').join('\n  ')}\n- {apiVersion: herald.dev/v1beta1, kind: IPAddressPool, metadata: {name: b}, spec: {addresses: [x]}}`,
    expect: ['1:items[1].spec.addresses[0]: "x" is neither'],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { problems } = parseConfigDocuments(c.yaml, 'f.yaml');
    const lines = problems.map(formatProblem);
    for (const e of c.expect) {
      t.ok(
        lines.some((l) => l.startsWith(`f.yaml:${e}`) || (l.includes(e) && !e.includes(':'))),
        `expected "${e}" in:\n${lines.join('\n')}`,
      );
    }
    if (c.expect.length === 0) t.same(lines, [], 'no problems');
    else t.equal(lines.length, c.expect.length, `exactly the expected problems:\n${lines.join('\n')}`);
  });
}

t.test('all problems at once, across files, sorted by file and document', async (t) => {
  const { problems } = parseConfigTexts([
    { fileName: 'one.yaml', text: docs(pool('a', '10.0.0.0/24'), pool('b', 'bad')) },
    { fileName: 'two.yaml', text: docs(pool('c', '10.0.0.0/25'), peer('peerASN: 0')) },
  ]);
  t.same(
    problems.map((p) => `${p.file}:${p.doc}:${p.path}`),
    ['one.yaml:2:spec.addresses[0]', 'two.yaml:1:spec.addresses[0]', 'two.yaml:2:spec.peerASN'],
  );
  t.match(problems[1]?.message, /overlaps 10.0.0.0\/24 of pool "a" \(one.yaml:1\)/);
});

t.test('the model keeps objects without problems and converts MetalLB versions', async (t) => {
  const { model } = parseConfigDocuments(
    docs(pool('a', '10.0.0.0/24').replace('herald.dev/v1beta1', 'metallb.io/v1beta1'), pool('b', 'bad')),
  );
  t.same(
    model.pools.map((p) => [p.metadata.name, p.apiVersion]),
    [['a', 'herald.dev/v1beta1']],
  );
});
