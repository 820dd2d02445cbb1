import { deepStrictEqual, strictEqual } from 'node:assert';
import fc from 'fast-check';
import t from 'tap';
import { emptyModel, type HeraldModel } from '../../../src/config/index.js';
import { decodeDocuments } from '../../../src/config/parse.js';
import type { EndpointSemantics } from '../../../src/l2/endpoints.js';
import { RoundDecider } from '../../../src/speaker/decider.js';
import { GroupReuse } from '../../../src/speaker/group-reuse.js';
import { groupVips, type MemberView } from '../../../src/speaker/l2-inputs.js';
import { decideVips } from '../../../src/speaker/l2-part.js';
import { IncrementalAllocator } from '../../../src/allocator/incremental.js';
import { serviceAllocations, type ServiceAllocations } from '../../../src/speaker/model-source.js';
import { mapChange } from '../../../src/util/map-change.js';
import { TimeSlicer } from '../../../src/util/slices.js';
import { IFACE } from './fakes.js';
import { recordIdentityChange } from '../../helpers/model-diff.js';

// A reload keeps the objects of every document whose text did not change (config/document-cache.ts);
// these tests build models the same way: one object per document text, the same text the same object.
const runs = (n: number): number => n * Number(process.env.HERALD_PROPERTY_RUNS ?? 1);
const parsed = new Map<string, HeraldModel>();
function modelOf(docs: readonly string[]): HeraldModel {
  const model = emptyModel();
  for (const doc of docs) {
    let one = parsed.get(doc);
    if (!one) {
      const [decoded] = decodeDocuments([{ text: doc, fileName: 'test.yaml' }]);
      if (!decoded || decoded.problems.length > 0) throw new Error(JSON.stringify(decoded?.problems));
      one = decoded.model;
      parsed.set(doc, one);
    }
    for (const field of Object.keys(model) as Array<keyof HeraldModel>) {
      (model[field] as object[]).push(...(one[field] as object[]));
    }
  }
  return model;
}

const POOL = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lan }
spec: { addresses: [10.0.0.10-10.0.0.14] }`;
const pool2 = (to: number) => `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: other }
spec: { addresses: [10.0.1.0-10.0.1.${to}] }`;
const AD = (pools: string) => `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lan }
spec: { ipAddressPools: [${pools}] }`;

interface Svc {
  name: string;
  ip: string | null;
  share: boolean;
  local: boolean;
  check: boolean;
}
const svcDoc = (s: Svc) => {
  const ann = [
    ...(s.ip ? [`herald.dev/loadBalancerIPs: "${s.ip}"`] : []),
    ...(s.share ? ['herald.dev/allow-shared-ip: k'] : []),
    ...(s.check ? ['herald.dev/health-check: "tcp:80"'] : []),
  ];
  return `apiVersion: v1
kind: Service
metadata: { name: ${s.name}, namespace: default, annotations: { ${ann.join(', ')} } }
spec: { type: LoadBalancer, ports: [{ port: 80 }]${s.local ? ', externalTrafficPolicy: Local' : ''} }`;
};
const sliceDoc = (
  svc: string,
  part: number,
  nodes: Array<[string, boolean]>,
) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${svc}-${part}, namespace: default, labels: { kubernetes.io/service-name: ${svc} } }
endpoints: [${nodes.map(([n, ready]) => `{ nodeName: ${n}, conditions: { ready: ${ready} } }`).join(', ')}]`;

const svcArb: fc.Arbitrary<Svc> = fc.record({
  name: fc.constantFrom('s0', 's1', 's2', 's3', 's4', 's5', 's6'),
  ip: fc.option(fc.constantFrom('10.0.0.10', '10.0.0.11', '10.0.1.1'), { freq: 2 }),
  share: fc.boolean(),
  local: fc.boolean(),
  check: fc.boolean(),
});
const nodesArb = fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean()), {
  selector: ([n]) => n,
  maxLength: 3,
});
/** One configuration: its documents (texts drawn from small sets, so versions share many of them). */
const configArb = fc
  .record({
    services: fc.uniqueArray(svcArb, { selector: (s) => s.name, maxLength: 7 }),
    slices: fc.array(fc.tuple(fc.constantFrom('s0', 's1', 's2', 's3'), fc.constantFrom(1, 2), nodesArb), {
      maxLength: 5,
    }),
    other: fc.option(fc.constantFrom(1, 3)),
    adPools: fc.constantFrom('lan', 'lan, other'),
  })
  .map(({ services, slices, other, adPools }) => [
    POOL,
    ...(other === null ? [] : [pool2(other)]),
    AD(adPools),
    ...services.map(svcDoc),
    // duplicate slice names are a validation problem elsewhere; here only their content matters
    ...slices.map(([svc, part, nodes]) => sliceDoc(svc, part, nodes)),
  ]);
const membersArb: fc.Arbitrary<MemberView[]> = fc
  .tuple(fc.boolean(), fc.option(fc.constantFrom('default/s0', 'default/s1')))
  .map(([bAlive, failing]) => [
    { name: 'a', alive: true, meta: { interfaces: [IFACE], labels: {} } },
    {
      name: 'b',
      alive: bAlive,
      meta: { interfaces: [IFACE], labels: {}, ...(failing ? { failing: { [failing]: 'refused' } } : {}) },
    },
    { name: 'c', alive: true, meta: { interfaces: [IFACE], labels: {} } },
  ]);
/** A small edit of a configuration, as an operator makes between two reloads. */
const editArb = fc.record({
  at: fc.nat(),
  what: fc.constantFrom('replace', 'remove', 'add', 'keep'),
  service: svcArb,
  slice: fc.tuple(fc.constantFrom('s0', 's1', 's2', 's3'), fc.constantFrom(1, 2), nodesArb),
  members: fc.option(membersArb, { freq: 4 }),
});
interface Step {
  docs: string[];
  members: MemberView[];
  semantics: EndpointSemantics;
}
/** A first configuration, then versions each one edit away from the one before. */
const stepsArb: fc.Arbitrary<Step[]> = fc
  .record({
    first: configArb,
    members: membersArb,
    semantics: fc.constantFrom<EndpointSemantics>('standalone', 'kubernetes'),
    edits: fc.array(editArb, { minLength: 1, maxLength: 6 }),
  })
  .map(({ first, members, semantics, edits }) => {
    const steps: Step[] = [{ docs: first, members, semantics }];
    for (const edit of edits) {
      const last = steps[steps.length - 1]!;
      const docs = [...last.docs];
      // the pools and the advertisement (the first documents) stay; services and slices change
      const fixed = docs.findIndex((d) => d.includes('kind: L2Advertisement')) + 1;
      const at = fixed + (edit.at % Math.max(1, docs.length - fixed));
      const doc = edit.at % 2 === 0 ? svcDoc(edit.service) : sliceDoc(...edit.slice);
      if (edit.what === 'replace' && at < docs.length) docs[at] = doc;
      else if (edit.what === 'remove' && at < docs.length) docs.splice(at, 1);
      else if (edit.what === 'add') docs.push(doc);
      steps.push({ docs, members: edit.members ?? last.members, semantics });
    }
    return steps;
  });
const slicer = () => new TimeSlicer({ budgetMs: 1000 });

t.test('GroupReuse gives groupVips for every version; unchanged groups are the same objects', async (t) => {
  let sameMakings = 0;
  let changed = 0;
  let allocationChanges = 0;
  await fc.assert(
    fc.asyncProperty(stepsArb, fc.boolean(), async (steps, record) => {
      const reuse = new GroupReuse();
      let before:
        | { groups: Map<string, unknown>; shared: string; key: Map<string, string>; duplicates: boolean }
        | undefined;
      let previous: HeraldModel | undefined;
      // With recorded changes, allocations as the speaker makes them: from the last ones, their change recorded.
      const allocator = new IncrementalAllocator();
      let allocated: ServiceAllocations | undefined;
      for (const { docs, members, semantics } of steps) {
        const model = modelOf(docs);
        // Half the runs come with each version's change recorded, as a reload through the document cache.
        if (record) recordIdentityChange(previous, model);
        previous = model;
        const last = allocated?.allocations;
        allocated = record
          ? serviceAllocations(model, 'compute', allocator, allocated)
          : serviceAllocations(model, 'compute');
        const { allocations, errors } = allocated;
        if (mapChange(last, allocations)) allocationChanges++;
        const scratch = serviceAllocations(model, 'compute');
        deepStrictEqual(new Map(sortedEntries(allocations)), new Map(sortedEntries(scratch.allocations)));
        deepStrictEqual(new Map(sortedEntries(errors)), new Map(sortedEntries(scratch.errors)));
        const got = await reuse.groups(model, allocations, members, semantics, slicer());
        deepStrictEqual(got, groupVips(model, allocations, members, semantics));
        // What a group is made of, by identity: the same makings must give the same group object.
        const shared = JSON.stringify([semantics, members.map((m) => m.meta?.failing ?? null)]);
        const key = new Map(got.map((g) => [g.ip, makingKey(model, allocations, g.ip)] as const));
        // Two documents with one kind, namespace and name: the change set names the object as removed and
        // added, and the reuse rebuilds its groups (deep-equal, checked above) although the makings stay.
        const duplicates = hasDuplicateObjects(docs);
        for (const g of got) {
          if (
            before?.shared === shared &&
            !before.duplicates &&
            !duplicates &&
            before.key.get(g.ip) === key.get(g.ip)
          ) {
            strictEqual(g, before.groups.get(g.ip), `group of ${g.ip} reused`);
            sameMakings++;
          }
        }
        before = { groups: new Map(got.map((g) => [g.ip, g])), shared, key, duplicates };
      }
      changed += reuse.stats.changed;
    }),
    { numRuns: runs(150) },
  );
  t.ok(sameMakings > 50, `${sameMakings} groups made of the same objects as before were checked`);
  t.ok(changed > 50, `${changed} versions grouped through their recorded change`);
  t.ok(
    allocationChanges > 50,
    `${allocationChanges} allocations made from the last ones, their change recorded`,
  );
});

const sortedEntries = <V>(m: ReadonlyMap<string, V>): Array<[string, V]> =>
  [...m].sort(([a], [b]) => (a < b ? -1 : 1));

/** Identity of the objects one IP's group is made of (object ids, pool, checks). */
const ids = new WeakMap<object, number>();
let nextId = 0;
const idOf = (o: object): number => {
  if (!ids.has(o)) ids.set(o, ++nextId);
  return ids.get(o)!;
};
function hasDuplicateObjects(docs: readonly string[]): boolean {
  const ids = docs.map((d) => {
    const m = /kind: (\S+)\nmetadata: \{ name: ([^,}\s]+)(?:, namespace: ([^,}\s]+))?/.exec(d);
    return m ? `${m[1]}/${m[3] ?? 'default'}/${m[2]}` : d;
  });
  return new Set(ids).size !== ids.length;
}

function makingKey(
  model: HeraldModel,
  allocations: ReturnType<typeof serviceAllocations>['allocations'],
  ip: string,
): string {
  const services = model.services.filter((s) => {
    const a = allocations.get(`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`);
    return a?.ips.includes(ip);
  });
  const first = services[0];
  const pool = first
    ? allocations.get(`${first.metadata.namespace ?? 'default'}/${first.metadata.name}`)?.pool
    : '';
  const slices = services.map((s) =>
    model.endpointSlices
      .filter((e) => e.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name)
      .map(idOf),
  );
  return JSON.stringify([pool, services.map(idOf), slices]);
}

t.test('RoundDecider: the decisions of decideVips for every version, reusing unchanged groups', async (t) => {
  let reused = 0;
  let spliced = 0;
  await fc.assert(
    fc.asyncProperty(stepsArb, fc.boolean(), async (steps, record) => {
      const decider = new RoundDecider();
      const placement = {};
      // With recorded changes, as a reload in the speaker: groups and decisions made from the last ones.
      const allocator = new IncrementalAllocator();
      let allocated: ServiceAllocations | undefined;
      let previous: HeraldModel | undefined;
      let last: readonly object[] | undefined;
      for (const { docs, members, semantics } of steps) {
        reused -= decider.stats.reused;
        const model = modelOf(docs);
        if (record) recordIdentityChange(previous, model);
        previous = model;
        allocated = record
          ? serviceAllocations(model, 'compute', allocator, allocated)
          : serviceAllocations(model, 'compute');
        const { allocations } = allocated;
        const inputs = { model, allocations, members, semantics, placement, placedOwners: () => new Map() };
        const groups = await decider.groups(inputs, slicer());
        const decisions = await decider.decide(inputs, groups, slicer());
        deepStrictEqual(decisions, decideVips(model, allocations, members, groups));
        if (mapChange(last, decisions)) spliced++;
        last = decisions;
        reused += decider.stats.reused;
      }
    }),
    { numRuns: runs(150) },
  );
  t.ok(reused > 50, `${reused} decisions reused`);
  t.ok(spliced > 30, `${spliced} rounds decided only the groups a reload changed`);
});

t.test('a reload adding one service decides only its VIP; the others are the same objects', async (t) => {
  const services = Array.from({ length: 50 }, (_, i) =>
    svcDoc({ name: `x${i}`, ip: null, share: false, local: false, check: false }),
  );
  const docs = [
    `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: big }
spec: { addresses: [10.0.2.0/24] }`,
    AD('big'),
    ...services,
  ];
  const members: MemberView[] = ['a', 'b'].map((name) => ({
    name,
    alive: true,
    meta: { interfaces: [IFACE], labels: {} },
  }));
  const decider = new RoundDecider();
  const placement = {};
  const round = async (model: HeraldModel) => {
    const { allocations } = serviceAllocations(model, 'compute');
    const inputs = {
      model,
      allocations,
      members,
      semantics: 'standalone' as const,
      placement,
      placedOwners: () => new Map(),
    };
    const groups = await decider.groups(inputs, slicer());
    return { groups, decisions: await decider.decide(inputs, groups, slicer()) };
  };
  const first = await round(modelOf(docs));
  const added = svcDoc({ name: 'x99', ip: null, share: false, local: false, check: false });
  const second = await round(modelOf([...docs, added]));
  t.equal(second.decisions.length, 51);
  t.equal(decider.stats.reused, 50, 'the 50 unchanged VIPs were not decided again');
  for (const d of first.decisions) {
    t.equal(
      second.decisions.find((x) => x.ip === d.ip),
      d,
      `${d.ip} same decision object`,
    );
  }
  const fresh = second.decisions.find((d) => d.services.includes('default/x99'));
  t.ok(fresh && !first.decisions.includes(fresh), 'the new service got a new decision');
  // A member change decides every VIP again (rendezvous reads the members).
  members.push({ name: 'c', alive: true, meta: { interfaces: [IFACE], labels: {} } });
  const third = await round(modelOf([...docs, added]));
  t.equal(decider.stats.reused, 50, 'nothing reused across a member change');
  t.same(
    third.decisions,
    decideVips(
      modelOf([...docs, added]),
      serviceAllocations(modelOf([...docs, added]), 'compute').allocations,
      members,
      third.groups,
    ),
  );
});
