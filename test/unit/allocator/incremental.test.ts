import { deepStrictEqual } from 'node:assert';
import fc from 'fast-check';
import t from 'tap';
import { type Allocation, allocateAll } from '../../../src/allocator/index.js';
import { IncrementalAllocator } from '../../../src/allocator/incremental.js';
import type { HeraldModel, IPAddressPool, Service } from '../../../src/config/types.js';
import { mapChange } from '../../../src/util/map-change.js';
import { recordIdentityChange } from '../../helpers/model-diff.js';
import { model, pool, svc, type SvcOpts } from './helpers.js';

// IncrementalAllocator against allocateAll over sequences of small edits (fast-check; seeds printed on
// failure). A reload keeps the objects of unchanged documents: here a service variant is one object.
/** A result's entries by key (the incremental result puts keys added since the full run last). */
const sorted = (m: ReadonlyMap<string, Allocation>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
const runs = (n: number): number => n * Number(process.env.HERALD_PROPERTY_RUNS ?? 1);

const poolsA: IPAddressPool[] = [
  pool('p0', ['10.0.0.0/29'], { avoidBuggyIPs: true }),
  pool('p1', ['fd00::/126', '10.0.1.0/30'], { autoAssign: false }),
];
/** The same content as new objects: a pool change as far as identity tells. */
const poolsB: IPAddressPool[] = poolsA.map((p) => ({ ...p, spec: { ...p.spec } }));

const VARIANTS: SvcOpts[] = [
  // the first eight request addresses of their own, without sharing
  { ips: '10.0.0.1' },
  { ips: '10.0.0.2' },
  { ips: '10.0.0.3', ports: [443] },
  { ips: '10.0.1.2,fd00::1', familyPolicy: 'RequireDualStack' },
  { ips: 'fd00::1' },
  { ips: '10.0.1.2' },
  { ips: 'fd00::2' },
  { ips: '10.0.0.0' }, // avoided (.0)
  { ips: '10.0.1.1' },
  { ips: '10.9.9.9' }, // in no pool
  { ips: '10.0.0.4', pool: 'p1' }, // not in the requested pool
  { ips: '10.0.0.6', share: 'k', ports: [8080] },
  { ips: '10.0.0.2', ingress: ['10.0.0.2'] },
  {},
  { pool: 'p1' },
  { share: 'k', ports: [53] },
  { ingress: ['10.0.0.5'] },
  { ips: '10.0.0.6', cls: 'other' },
  { ips: 'bogus' },
];
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
/** One object per (name, variant), made once. */
const objects = new Map<string, Service>();
const objectOf = (name: string, variant: number): Service => {
  const id = `${name}/${variant}`;
  let o = objects.get(id);
  if (!o) {
    o = svc(name, VARIANTS[variant]!);
    objects.set(id, o);
  }
  return o;
};

const edit = fc.record({
  what: fc.constantFrom('replace', 'remove', 'add', 'add', 'pools', 'none'),
  at: fc.nat(),
  name: fc.constantFrom(...NAMES),
  variant: fc.nat({ max: VARIANTS.length - 1 }),
  pinned: fc.boolean(),
});
const first = fc.uniqueArray(
  fc.record({ name: fc.constantFrom(...NAMES), variant: fc.nat({ max: VARIANTS.length - 1 }) }),
  { selector: (s) => s.name, maxLength: 8 },
);

t.test('the result of allocateAll after every edit; incremental where the edit allows it', async (t) => {
  let incremental = 0;
  let recorded = 0;
  fc.assert(
    fc.property(
      first,
      fc.array(edit, { minLength: 1, maxLength: 10 }),
      fc.boolean(),
      (start, edits, record) => {
        const allocator = new IncrementalAllocator();
        let services = start.map((s) => objectOf(s.name, s.variant));
        let pools = poolsA;
        let previous: HeraldModel | undefined;
        let before: ReadonlyMap<string, Allocation> | undefined;
        const check = () => {
          const m = model(pools, services);
          // Half the versions come with their change recorded (a reload through the document cache).
          if (record) recordIdentityChange(previous, m);
          previous = m;
          const got = allocator.allocate(m);
          deepStrictEqual(sorted(got), sorted(allocateAll(m)));
          // A result made from the last one names every key whose entry differs.
          const keys = mapChange(before, got);
          if (keys) {
            recorded++;
            for (const key of new Set([...before!.keys(), ...got.keys()]))
              if (!keys.has(key)) deepStrictEqual(got.get(key), before!.get(key), `${key} unchanged`);
          }
          before = got;
        };
        check();
        for (const e of edits) {
          // most edits touch services that request one address of their own, as pinned configurations do
          const variant = e.pinned ? e.variant % 8 : e.variant;
          const at = services.length === 0 ? 0 : e.at % services.length;
          if (e.what === 'replace' && services.length > 0) {
            services = services.map((s, i) => (i === at ? objectOf(s.metadata.name, variant) : s));
          } else if (e.what === 'remove') services = services.filter((_, i) => i !== at);
          else if (e.what === 'add') services = [...services, objectOf(`${e.name}${e.at % 3}`, variant)];
          else if (e.what === 'pools') pools = pools === poolsA ? poolsB : poolsA;
          check();
        }
        incremental += allocator.stats.incremental;
      },
    ),
    { numRuns: runs(400) },
  );
  t.ok(incremental > 200, `${incremental} allocations were incremental`);
  t.equal(recorded, incremental, 'each incremental result records its change');
});

t.test('adding one pinned service to many allocates only that one', async (t) => {
  const big = [pool('big', ['10.1.0.0/22'])];
  const services = Array.from({ length: 500 }, (_, i) =>
    svc(`s${i}`, { ips: `10.1.${i >> 8}.${(i & 255) + 1}` }),
  );
  const allocator = new IncrementalAllocator();
  const before = allocator.allocate(model(big, services));
  const more = [...services, svc('zz', { ips: '10.1.3.3' })];
  const after = allocator.allocate(model(big, more));
  t.same(allocator.stats, { full: 1, incremental: 1 });
  t.same(sorted(after), sorted(allocateAll(model(big, more))));
  t.equal(after.get('default/s7'), before.get('default/s7'), 'an unchanged service keeps its result object');
  // A service taking the lowest free address next to them: an address freed now goes through allocateAll.
  const auto = [...more, svc('auto')];
  allocator.allocate(model(big, auto));
  const fewer = auto.filter((s) => s.metadata.name !== 's0');
  t.same(sorted(allocator.allocate(model(big, fewer))), sorted(allocateAll(model(big, fewer))));
  t.same(
    allocator.stats,
    { full: 3, incremental: 1 },
    'the automatic service and the freed address allocated everything',
  );
});
