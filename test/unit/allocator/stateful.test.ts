import fc from 'fast-check';
import t from 'tap';
import { Allocator } from '../../../src/allocator/index.js';
import { isBuggyIp, parseIp } from '../../../src/config/addresses.js';
import { poolRanges } from '../../../src/config/pools.js';
import { serviceRequest } from '../../../src/config/service.js';
import type { IPAddressPool, Service } from '../../../src/config/types.js';
import { pool, svc } from './helpers.js';

// The stateful Allocator as the controller drives it: random assign / release / pool changes; after every
// step no address is held twice except by legal sharing, and every address lies in its pool.

const allPools = [
  pool('a', ['10.0.0.0/30', 'fd00::/126'], { avoidBuggyIPs: true }),
  pool('b', ['10.0.1.0/31']),
  pool('c', ['10.0.2.0/29'], { autoAssign: false }),
];

type Op =
  | { op: 'assign'; name: string; share?: string; port: number; ip?: string; dual: boolean }
  | { op: 'release'; name: string }
  | { op: 'pools'; keep: boolean[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('assign' as const),
      name: fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6'),
      share: fc.option(fc.constant('k'), { nil: undefined }),
      port: fc.constantFrom(80, 443),
      ip: fc.option(fc.constantFrom('10.0.0.1', '10.0.2.3', 'fd00::1'), { nil: undefined, freq: 3 }),
      dual: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('release' as const), name: fc.constantFrom('s1', 's2', 's3') }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('pools' as const),
      keep: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    }),
  },
);

function check(a: Allocator, pools: IPAddressPool[], services: Map<string, Service>): void {
  const holders = new Map<string, Array<ReturnType<typeof serviceRequest>>>();
  for (const [key, got] of a.assignments()) {
    const p = pools.find((x) => x.metadata.name === got.pool);
    if (!p) throw new Error(`${key} holds addresses of missing pool ${got.pool}`);
    for (const ip of got.ips) {
      const v = parseIp(ip);
      if (!v) throw new Error(`bad ip ${ip}`);
      const inside = poolRanges(p).some(
        (r) => r.family === v.family && r.start <= v.value && v.value <= r.end,
      );
      if (!inside || (p.spec.avoidBuggyIPs && isBuggyIp(v.family, v.value)))
        throw new Error(`${ip} not in ${got.pool}`);
      holders.set(ip, [...(holders.get(ip) ?? []), serviceRequest(services.get(key) as Service)]);
    }
  }
  for (const [ip, reqs] of holders) {
    if (reqs.length < 2) continue;
    const ports = new Set<string>();
    for (const r of reqs) {
      if (r.sharingKey !== 'k')
        throw new Error(`${ip} held by ${reqs.map((x) => x.key).join(',')} without sharing`);
      for (const p of r.ports) {
        if (ports.has(`${p.port}/${p.protocol}`)) throw new Error(`${ip}: port ${p.port} twice`);
        ports.add(`${p.port}/${p.protocol}`);
      }
    }
  }
}

t.test('random operations keep the invariants', async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      let pools = allPools;
      const a = new Allocator({ pools });
      const services = new Map<string, Service>();
      for (const o of ops) {
        if (o.op === 'assign') {
          const s = svc(o.name, {
            share: o.share,
            ports: [o.port],
            ips: o.ip,
            familyPolicy: o.dual ? 'PreferDualStack' : undefined,
          });
          services.set(`default/${o.name}`, s);
          const r = a.assign(s);
          if ('error' in r && !r.error) throw new Error('refusal without reason');
        } else if (o.op === 'release') {
          a.release(`default/${o.name}`);
          services.delete(`default/${o.name}`);
        } else {
          pools = allPools.filter((_, i) => o.keep[i]);
          for (const key of a.setPools(pools)) {
            const s = services.get(key);
            if (s) a.assign(s);
          }
        }
        check(a, pools, services);
      }
    }),
    { numRuns: 300 * Number(process.env.HERALD_PROPERTY_RUNS ?? 1) },
  );
  t.pass('invariants held');
});
