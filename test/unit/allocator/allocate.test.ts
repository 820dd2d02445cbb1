import t from 'tap';
import { allocateAll, Allocator, type Allocation } from '../../../src/allocator/index.js';
import type { HeraldModel } from '../../../src/config/types.js';
import { model, ns, pool, svc } from './helpers.js';

// Table: a model and, per service key, the expected allocation (`ips@pool`) or an error substring (`!…`).

type Expect = Record<string, string>;
const show = (a: Allocation | undefined): string =>
  a === undefined ? '(absent)' : 'error' in a ? `!${a.error}` : `${a.ips.join(',')}@${a.pool}`;

const cases: Array<{ name: string; model: HeraldModel; expect: Expect; previous?: Map<string, string[]> }> = [
  {
    name: 'lowest free address of a CIDR, in key order',
    model: model([pool('a', ['10.0.0.0/30'])], [svc('s2'), svc('s1')]),
    expect: { 'default/s1': '10.0.0.0@a', 'default/s2': '10.0.0.1@a' },
  },
  {
    name: 'ranges in order, pool exhausted',
    model: model([pool('a', ['10.0.0.5-10.0.0.6'])], [svc('s1'), svc('s2'), svc('s3')]),
    expect: {
      'default/s1': '10.0.0.5@a',
      'default/s2': '10.0.0.6@a',
      'default/s3': '!pool "a" has no free IPv4 address',
    },
  },
  {
    name: 'avoidBuggyIPs skips .0 and .255',
    model: model(
      [pool('a', ['10.0.0.254-10.0.1.1'], { avoidBuggyIPs: true })],
      [svc('s1'), svc('s2'), svc('s3')],
    ),
    expect: { 'default/s1': '10.0.0.254@a', 'default/s2': '10.0.1.1@a', 'default/s3': '!no free IPv4' },
  },
  {
    name: 'requested .0 in an avoidBuggyIPs pool is refused',
    model: model([pool('a', ['10.0.0.0/24'], { avoidBuggyIPs: true })], [svc('s1', { ips: '10.0.0.0' })]),
    expect: {
      'default/s1': '!requested IP 10.0.0.0 ends in .0 or .255, which pool "a" avoids (avoidBuggyIPs)',
    },
  },
  {
    name: 'autoAssign false: only by name or address',
    model: model(
      [pool('cheap', ['10.0.0.0/31']), pool('gold', ['10.1.0.0/31'], { autoAssign: false })],
      [svc('a'), svc('b'), svc('c'), svc('d', { pool: 'gold' }), svc('e', { lbIP: '10.1.0.1' })],
    ),
    expect: {
      'default/a': '10.0.0.0@cheap',
      'default/b': '10.0.0.1@cheap',
      'default/c': '!no free IPv4',
      'default/d': '10.1.0.0@gold',
      'default/e': '10.1.0.1@gold',
    },
  },
  {
    name: 'no pool can be used explains why',
    model: model([pool('gold', ['10.1.0.0/31'], { autoAssign: false })], [svc('a')]),
    expect: { 'default/a': '!no pool can be used: pool "gold" has autoAssign: false' },
  },
  {
    name: 'no pools at all',
    model: model([], [svc('a')]),
    expect: { 'default/a': '!no IPAddressPool is configured' },
  },
  {
    name: 'priority: lower first, unset last, ties by name',
    model: model(
      [
        pool('z-none', ['10.9.0.0/24']),
        pool('b-p10', ['10.2.0.0/32'], { serviceAllocation: { priority: 10 } }),
        pool('a-p10', ['10.1.0.0/32'], { serviceAllocation: { priority: 10 } }),
        pool('c-p5', ['10.3.0.0/32'], { serviceAllocation: { priority: 5 } }),
      ],
      [svc('s1'), svc('s2'), svc('s3'), svc('s4')],
    ),
    expect: {
      'default/s1': '10.3.0.0@c-p5',
      'default/s2': '10.1.0.0@a-p10',
      'default/s3': '10.2.0.0@b-p10',
      'default/s4': '10.9.0.0@z-none',
    },
  },
  {
    name: 'serviceAllocation namespaces, namespace selectors and service selectors',
    model: model(
      [
        pool('team-a', ['10.1.0.0/24'], { serviceAllocation: { priority: 1, namespaces: ['a'] } }),
        pool('prod', ['10.2.0.0/24'], {
          serviceAllocation: { priority: 2, namespaceSelectors: [{ matchLabels: { env: 'prod' } }] },
        }),
        pool('web', ['10.3.0.0/24'], {
          serviceAllocation: {
            priority: 3,
            serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }],
          },
        }),
        pool('only-a', ['10.4.0.0/24'], { autoAssign: false, serviceAllocation: { namespaces: ['a'] } }),
      ],
      [
        svc('x', { ns: 'a' }),
        svc('y', { ns: 'p' }),
        svc('z', { ns: 'q', labels: { tier: 'web' } }),
        svc('w', { ns: 'q' }),
        svc('v', { ns: 'q', pool: 'only-a' }),
      ],
      [ns('p', { env: 'prod' })],
    ),
    expect: {
      'a/x': '10.1.0.0@team-a',
      'p/y': '10.2.0.0@prod',
      'q/z': '10.3.0.0@web',
      'q/w': '!pool "prod" is not for namespace q',
      'q/v': '!pool "only-a" is not for namespace q (serviceAllocation)',
    },
  },
  {
    name: 'requested IPs: annotation, MetalLB annotation, spec.loadBalancerIP; conflicts explained',
    model: model(
      [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])],
      [
        svc('s1', { ips: '10.0.0.7' }),
        svc('s2', { metallb: true, ips: '10.0.0.8' }),
        svc('s3', { lbIP: '10.0.1.9' }),
        svc('s4', { lbIP: '10.0.0.7' }),
        svc('s5', { ips: '10.0.0.9', pool: 'b' }),
        svc('s6', { ips: '192.168.0.1' }),
        svc('s7'),
      ],
    ),
    expect: {
      'default/s1': '10.0.0.7@a',
      'default/s2': '10.0.0.8@a',
      'default/s3': '10.0.1.9@b',
      'default/s4': '!IP 10.0.0.7 is in use by service default/s1',
      'default/s5': '!requested IP 10.0.0.9 is in pool "a", not in the requested pool "b"',
      'default/s6': '!requested IP 192.168.0.1 is not in any IPAddressPool',
      'default/s7': '10.0.0.0@a',
    },
  },
  {
    name: 'requested pool that does not exist',
    model: model([pool('a', ['10.0.0.0/24'])], [svc('s1', { pool: 'nope' })]),
    expect: { 'default/s1': '!requested pool "nope" does not exist' },
  },
  {
    name: 'sharing: same key, disjoint ports share; overlap, other key, other policy refused',
    model: model(
      [pool('a', ['10.0.0.0/24'])],
      [
        svc('dns-tcp', { share: 'k', lbIP: '10.0.0.4', ports: [[53, 'TCP']] }),
        svc('dns-udp', { share: 'k', lbIP: '10.0.0.4', ports: [[53, 'UDP']] }),
        svc('dup', { share: 'k', lbIP: '10.0.0.4', ports: [[53, 'UDP']] }),
        svc('other', { share: 'j', lbIP: '10.0.0.4', ports: [81] }),
        svc('noshare', { lbIP: '10.0.0.4', ports: [82] }),
        svc('local', { share: 'k', lbIP: '10.0.0.4', ports: [83], policy: 'Local' }),
      ],
    ),
    expect: {
      'default/dns-tcp': '10.0.0.4@a',
      'default/dns-udp': '10.0.0.4@a',
      'default/dup': '!IP 10.0.0.4 is shared by service default/dns-udp with overlapping port 53/UDP',
      'default/other': '!IP 10.0.0.4 is shared by service default/dns-tcp with key "k", not "j"',
      'default/noshare': '!IP 10.0.0.4 is in use by service default/dns-tcp (it allows sharing with key "k"',
      'default/local': '!with externalTrafficPolicy Cluster; services sharing an IP need the same policy',
    },
  },
  {
    name: 'sharing: Local services need the same selector',
    model: model(
      [pool('a', ['10.0.0.0/24'])],
      [
        svc('l1', { share: 'k', lbIP: '10.0.0.4', ports: [80], policy: 'Local', selector: { app: 'x' } }),
        svc('l2', { share: 'k', lbIP: '10.0.0.4', ports: [81], policy: 'Local', selector: { app: 'x' } }),
        svc('l3', { share: 'k', lbIP: '10.0.0.4', ports: [82], policy: 'Local', selector: { app: 'y' } }),
      ],
    ),
    expect: {
      'default/l1': '10.0.0.4@a',
      'default/l2': '10.0.0.4@a',
      'default/l3': '!with a different selector; Local services sharing an IP must select the same pods',
    },
  },
  {
    name: 'sharing: automatic allocation joins a compatible shared address, else takes a new one',
    model: model(
      [pool('a', ['10.0.0.0/24'])],
      [
        svc('a1', { share: 'k', ports: [80] }),
        svc('a2', { share: 'k', ports: [443] }),
        svc('a3', { share: 'k', ports: [80] }),
        svc('b1', { ports: [80] }),
      ],
    ),
    expect: {
      'default/a1': '10.0.0.0@a',
      'default/a2': '10.0.0.0@a',
      'default/a3': '10.0.0.1@a',
      'default/b1': '10.0.0.2@a',
    },
  },
  {
    name: 'dual-stack policies and families',
    model: model(
      [pool('dual', ['10.0.0.0/24', 'fd00::/64']), pool('v4', ['10.1.0.0/24'], { autoAssign: false })],
      [
        svc('single'),
        svc('six', { families: ['IPv6'] }),
        svc('prefer', { familyPolicy: 'PreferDualStack' }),
        svc('prefer6', { familyPolicy: 'PreferDualStack', families: ['IPv6', 'IPv4'] }),
        svc('require', { familyPolicy: 'RequireDualStack' }),
        svc('prefer-v4pool', { familyPolicy: 'PreferDualStack', pool: 'v4' }),
        svc('require-v4pool', { familyPolicy: 'RequireDualStack', pool: 'v4' }),
        svc('six-v4pool', { families: ['IPv6'], pool: 'v4' }),
        svc('req-dual', { familyPolicy: 'RequireDualStack', ips: '10.0.0.99,fd00::99' }),
      ],
    ),
    expect: {
      'default/single': '10.0.0.3@dual',
      'default/six': 'fd00::3@dual',
      'default/prefer': '10.0.0.0,fd00::@dual',
      'default/prefer6': 'fd00::1,10.0.0.1@dual',
      'default/require': '10.0.0.2,fd00::2@dual',
      'default/prefer-v4pool': '10.1.0.0@v4',
      'default/require-v4pool': '!pool "v4" has no IPv6 addresses (RequireDualStack)',
      'default/six-v4pool': '!pool "v4" has no IPv6 addresses',
      'default/req-dual': '10.0.0.99,fd00::99@dual',
    },
  },
  {
    name: 'IPv6-only pool: SingleStack without ipFamilies takes IPv6; a /64 works',
    model: model(
      [pool('big', ['2001:db8::/64'])],
      [svc('a'), svc('b', { ips: '2001:db8::ffff:ffff:ffff:ffff' })],
    ),
    expect: { 'default/a': '2001:db8::@big', 'default/b': '2001:db8::ffff:ffff:ffff:ffff@big' },
  },
  {
    name: 'other classes and non-LoadBalancer services are not handled',
    model: model(
      [pool('a', ['10.0.0.0/24'])],
      [svc('x', { cls: 'other.io/lb' }), svc('y', { type: 'ClusterIP' }), svc('z', { cls: 'herald.dev/lb' })],
    ),
    expect: { 'default/x': '(absent)', 'default/y': '(absent)', 'default/z': '10.0.0.0@a' },
  },
  {
    name: 'invalid requests are refused with the reason',
    model: model([pool('a', ['10.0.0.0/24'])], [svc('x', { ips: 'nope' })]),
    expect: {
      'default/x':
        '!invalid request: metadata.annotations["herald.dev/loadBalancerIPs"]: "nope" is not a valid IP address',
    },
  },
  {
    name: 'previous assignments are kept when still valid (restart stability)',
    model: model([pool('a', ['10.0.0.0/24'])], [svc('s1'), svc('s2'), svc('s3')]),
    previous: new Map([
      ['default/s2', ['10.0.0.0']],
      ['default/s3', ['10.0.0.77']],
    ]),
    expect: { 'default/s1': '10.0.0.1@a', 'default/s2': '10.0.0.0@a', 'default/s3': '10.0.0.77@a' },
  },
  {
    name: 'status.loadBalancer.ingress counts as previous; invalid ones are replaced',
    model: model(
      [pool('a', ['10.0.0.0/24'])],
      [
        svc('s1', { ingress: ['10.0.0.50'] }),
        svc('s2', { ingress: ['192.168.1.1'] }),
        svc('s3', { ingress: ['10.0.0.50'] }),
      ],
    ),
    expect: { 'default/s1': '10.0.0.50@a', 'default/s2': '10.0.0.0@a', 'default/s3': '10.0.0.1@a' },
  },
  {
    name: 'autoAssign turned off later does not evict',
    model: model([pool('a', ['10.0.0.0/24'], { autoAssign: false })], [svc('s1', { ingress: ['10.0.0.9'] })]),
    expect: { 'default/s1': '10.0.0.9@a' },
  },
  {
    name: 'a requested IP replaces a different previous one',
    model: model([pool('a', ['10.0.0.0/24'])], [svc('s1', { ips: '10.0.0.3', ingress: ['10.0.0.9'] })]),
    expect: { 'default/s1': '10.0.0.3@a' },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = allocateAll(c.model, c.previous);
    for (const [key, want] of Object.entries(c.expect)) {
      const got = show(r.get(key));
      if (want.startsWith('!'))
        t.ok(got.startsWith('!') && got.includes(want.slice(1)), `${key}: ${got} ~ ${want}`);
      else t.equal(got, want, key);
    }
  });
}

t.test('Allocator: assign, release, reuse of the lowest address, stats', async (t) => {
  const a = new Allocator({ pools: [pool('a', ['10.0.0.0/30', 'fd00::/126'], { avoidBuggyIPs: true })] });
  t.same(a.assign(svc('s1')), { ips: ['10.0.0.1'], pool: 'a' });
  t.same(a.assign(svc('s2')), { ips: ['10.0.0.2'], pool: 'a' });
  t.same(a.assign(svc('s1')), { ips: ['10.0.0.1'], pool: 'a' }, 'assign is idempotent');
  t.same(a.poolStats(), [
    {
      pool: 'a',
      addressesTotal: 7,
      addressesInUse: 2,
      ipv4: { total: 3n, inUse: 2 },
      ipv6: { total: 4n, inUse: 0 },
    },
  ]);
  t.equal(a.release('default/s1'), true);
  t.equal(a.release('default/s1'), false);
  t.same(a.assign(svc('s3')), { ips: ['10.0.0.1'], pool: 'a' }, 'released address is the lowest free again');
  t.same(a.assign(svc('s4')), { ips: ['10.0.0.3'], pool: 'a' });
  t.match(a.assign(svc('s5')), { error: /no free IPv4/ });
  t.same(a.get('default/s5'), undefined, 'a refusal holds nothing');
  t.same([...a.assignments().keys()].sort(), ['default/s2', 'default/s3', 'default/s4']);
});

t.test('Allocator: ports change making sharing illegal moves the service', async (t) => {
  const a = new Allocator({ pools: [pool('a', ['10.0.0.0/24'])] });
  t.same(a.assign(svc('x', { share: 'k', ports: [80] })), { ips: ['10.0.0.0'], pool: 'a' });
  t.same(a.assign(svc('y', { share: 'k', ports: [81] })), { ips: ['10.0.0.0'], pool: 'a' });
  t.same(a.assign(svc('y', { share: 'k', ports: [80] })), { ips: ['10.0.0.1'], pool: 'a' });
});

t.test('Allocator: pool shrink and deletion displace only what became invalid', async (t) => {
  const a = new Allocator({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] });
  const s1 = svc('s1', { lbIP: '10.0.0.200' });
  const s2 = svc('s2', { pool: 'a' });
  const s3 = svc('s3', { pool: 'b' });
  a.assign(s1);
  a.assign(s2);
  a.assign(s3);
  t.same(a.setPools([pool('a', ['10.0.0.0/25']), pool('b', ['10.0.1.0/24'])]), ['default/s1']);
  t.same(a.get('default/s2'), { ips: ['10.0.0.0'], pool: 'a' });
  t.match(a.assign(s1), { error: /not in any IPAddressPool/ });
  t.same(a.setPools([pool('a', ['10.0.0.0/25'])]), ['default/s3']);
  t.match(a.assign(s3), { error: /requested pool "b" does not exist/ });
  t.same(a.setNamespaces([]), [], 'nothing depends on namespaces here');
});

t.test('allocateAll: pool deleted moves its services, others keep their addresses', async (t) => {
  const m1 = model(
    [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])],
    [svc('s1', { pool: 'b' }), svc('s2'), svc('s3')],
  );
  const r1 = allocateAll(m1);
  t.equal(show(r1.get('default/s1')), '10.0.1.0@b');
  const m2 = model([pool('a', ['10.0.0.0/24'])], [svc('s1'), svc('s2'), svc('s3')]);
  const r2 = allocateAll(m2, r1);
  t.equal(show(r2.get('default/s2')), show(r1.get('default/s2')));
  t.equal(show(r2.get('default/s3')), show(r1.get('default/s3')));
  t.equal(show(r2.get('default/s1')), '10.0.0.2@a');
});
