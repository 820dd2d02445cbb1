import fc from 'fast-check';
import t from 'tap';
import { allocateAll, isAllocated, type Allocation } from '../../../src/allocator/index.js';
import { parseIp, isBuggyIp } from '../../../src/config/addresses.js';
import { poolRanges } from '../../../src/config/pools.js';
import { serviceKey, serviceRequest } from '../../../src/config/service.js';
import type { HeraldModel, IPAddressPool, Service } from '../../../src/config/types.js';
import { model, pool, svc } from './helpers.js';

// Invariants of allocateAll over random pools and services (fast-check; seeds printed on failure).
// HERALD_PROPERTY_RUNS=N multiplies the runs for a longer local soak.
const runs = (n: number): number => n * Number(process.env.HERALD_PROPERTY_RUNS ?? 1);

const blocks4 = ['10.0.0.0/29', '10.0.1.0/30', '10.0.2.250-10.0.3.2', '10.0.4.0/31'];
const blocks6 = ['fd00::/126', 'fd00:1::/64', 'fd00:2::1-fd00:2::3'];

const poolArb: fc.Arbitrary<IPAddressPool[]> = fc
  .tuple(
    fc.subarray([...blocks4.map((b) => ({ b, f: 4 })), ...blocks6.map((b) => ({ b, f: 6 }))], {
      minLength: 1,
    }),
    fc.integer({ min: 1, max: 3 }),
    fc.array(
      fc.record({
        autoAssign: fc.boolean(),
        avoid: fc.boolean(),
        prio: fc.option(fc.integer({ min: 0, max: 3 })),
      }),
      {
        minLength: 3,
        maxLength: 3,
      },
    ),
  )
  .map(([blocks, n, opts]) => {
    const pools: IPAddressPool[] = [];
    for (let i = 0; i < n; i++) {
      const mine = blocks.filter((_, j) => j % n === i).map((x) => x.b);
      if (mine.length === 0) continue;
      const o = opts[i] as { autoAssign: boolean; avoid: boolean; prio: number | null };
      pools.push(
        pool(`p${i}`, mine, {
          autoAssign: i === 0 ? true : o.autoAssign,
          avoidBuggyIPs: o.avoid,
          ...(o.prio === null ? {} : { serviceAllocation: { priority: o.prio } }),
        }),
      );
    }
    return pools;
  });

const requestable = ['10.0.0.3', '10.0.1.1', '10.0.3.0', 'fd00::2', 'fd00:1::5', '10.9.9.9'];

const serviceArb: fc.Arbitrary<Service[]> = fc
  .uniqueArray(
    fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'),
      ports: fc.uniqueArray(fc.constantFrom(53, 80, 443), { minLength: 1, maxLength: 2 }),
      udp: fc.boolean(),
      share: fc.option(fc.constantFrom('k1', 'k2')),
      ip: fc.option(fc.constantFrom(...requestable), { freq: 3 }),
      policy: fc.constantFrom('Cluster' as const, 'Local' as const),
      fam: fc.constantFrom(
        'SingleStack' as const,
        'PreferDualStack' as const,
        'RequireDualStack' as const,
        'v6' as const,
      ),
      pool: fc.option(fc.constantFrom('p0', 'p1', 'p2'), { freq: 4 }),
    }),
    { selector: (s) => s.name, maxLength: 12 },
  )
  .map((list) =>
    list.map((s) =>
      svc(s.name, {
        ports: s.ports.map((p) => [p, s.udp ? 'UDP' : 'TCP'] as [number, 'TCP' | 'UDP']),
        share: s.share ?? undefined,
        lbIP: s.ip ?? undefined,
        pool: s.pool ?? undefined,
        policy: s.policy,
        selector: { app: 'same' },
        familyPolicy: s.fam === 'v6' ? 'SingleStack' : s.fam,
        families: s.fam === 'v6' ? ['IPv6'] : undefined,
      }),
    ),
  );

const modelArb = fc.tuple(poolArb, serviceArb).map(([p, s]) => model(p, s));

function inPool(m: HeraldModel, poolName: string, ip: string): boolean {
  const p = m.pools.find((x) => x.metadata.name === poolName);
  const a = parseIp(ip);
  if (!p || !a) return false;
  if (p.spec.avoidBuggyIPs && isBuggyIp(a.family, a.value)) return false;
  return poolRanges(p).some((r) => r.family === a.family && r.start <= a.value && a.value <= r.end);
}

function checkInvariants(m: HeraldModel, r: Map<string, Allocation>): void {
  const byKey = new Map(m.services.map((s) => [serviceKey(s), s]));
  const holders = new Map<string, Service[]>();
  for (const [key, a] of r) {
    const s = byKey.get(key) as Service;
    const req = serviceRequest(s);
    if (!isAllocated(a)) {
      if (!a.error) throw new Error(`${key}: refusal without a reason`);
      continue;
    }
    for (const ip of a.ips) {
      if (!inPool(m, a.pool, ip)) throw new Error(`${key}: ${ip} is not inside pool ${a.pool}`);
      holders.set(ip, [...(holders.get(ip) ?? []), s]);
    }
    if (new Set(a.ips.map((ip) => parseIp(ip)?.family)).size !== a.ips.length)
      throw new Error(`${key}: two of a family`);
    for (const want of req.requestedIps) {
      if (!a.ips.includes(want.ip))
        throw new Error(`${key}: requested ${want.ip} not honored: ${a.ips.join(',')}`);
    }
    if (req.familyPolicy === 'RequireDualStack' && a.ips.length !== 2)
      throw new Error(`${key}: not dual-stack`);
  }
  for (const [ip, list] of holders) {
    if (list.length < 2) continue;
    const reqs = list.map(serviceRequest);
    const first = reqs[0] as ReturnType<typeof serviceRequest>;
    for (const q of reqs) {
      if (
        q.sharingKey === undefined ||
        q.sharingKey !== first.sharingKey ||
        q.trafficPolicy !== first.trafficPolicy
      ) {
        throw new Error(`${ip} held by ${reqs.map((x) => x.key).join(', ')} without legal sharing`);
      }
    }
    const seen = new Set<string>();
    for (const q of reqs) {
      for (const p of q.ports) {
        const k = `${p.port}/${p.protocol}`;
        if (seen.has(k)) throw new Error(`${ip}: port ${k} used twice`);
        seen.add(k);
      }
    }
  }
}

t.test(
  'no double assignment except legal sharing; inside pool; requested honored or refused with reason',
  async (t) => {
    fc.assert(
      fc.property(modelArb, (m) => {
        checkInvariants(m, allocateAll(m));
      }),
      { numRuns: runs(300) },
    );
    t.pass('property held');
  },
);

t.test('deterministic: input order does not matter', async (t) => {
  fc.assert(
    fc.property(modelArb, fc.integer(), (m, seed) => {
      const shuffled = {
        ...m,
        services: [...m.services].sort(() => 0).reverse(),
        pools: [...m.pools].reverse(),
      };
      void seed;
      const a = [...allocateAll(m).entries()];
      const b = [...allocateAll(shuffled).entries()];
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('order changed the result');
    }),
    { numRuns: runs(150) },
  );
  t.pass('property held');
});

t.test('re-running with the previous result moves nothing', async (t) => {
  fc.assert(
    fc.property(modelArb, (m) => {
      const r1 = allocateAll(m);
      const r2 = allocateAll(m, r1);
      // addresses must not move; a refusal stays a refusal (its reason may name another holder of the address,
      // since who holds it at that moment depends on the order of claims)
      const shape = (r: Map<string, Allocation>): string =>
        JSON.stringify([...r].map(([k, a]) => [k, isAllocated(a) ? a : 'refused']));
      if (shape(r1) !== shape(r2)) throw new Error('not stable');
    }),
    { numRuns: runs(150) },
  );
  t.pass('property held');
});

t.test('after pools shrink or disappear, still-valid assignments are kept', async (t) => {
  fc.assert(
    fc.property(modelArb, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (m, keep) => {
      const r1 = allocateAll(m);
      const pools = m.pools
        .map((p, j) =>
          pool(
            p.metadata.name,
            p.spec.addresses.filter((_, k) => keep[(j * 3 + k) % 8]),
            p.spec,
          ),
        )
        .filter((p) => p.spec.addresses.length > 0);
      const m2 = { ...m, pools };
      const r2 = allocateAll(m2, r1);
      checkInvariants(m2, r2);
      for (const [key, a] of r1) {
        if (!isAllocated(a)) continue;
        if (!a.ips.every((ip) => inPool(m2, a.pool, ip))) continue;
        const b = r2.get(key);
        if (!isAllocated(b) || b.pool !== a.pool || a.ips.some((ip) => !b.ips.includes(ip))) {
          throw new Error(`${key} lost still-valid ${a.ips.join(',')}@${a.pool}: ${JSON.stringify(b)}`);
        }
      }
    }),
    { numRuns: runs(200) },
  );
  t.pass('property held');
});
