import { deepStrictEqual, ok, strictEqual } from 'node:assert';
import fc from 'fast-check';
import t from 'tap';
import { DocumentCache } from '../../../src/config/document-cache.js';
import { ModelValidation } from '../../../src/config/incremental-validation.js';
import { modelChange, recordModelChange } from '../../../src/config/model-change.js';
import { parseConfigTexts } from '../../../src/config/parse.js';
import { emptyModel, type HeraldModel } from '../../../src/config/types.js';
import { validateModel } from '../../../src/config/validate.js';
import { recordIdentityChange } from '../../helpers/model-diff.js';

const runs = (n: number): number => n * Number(process.env.HERALD_PROPERTY_RUNS ?? 1);
const budget = { timeoutMs: 30_000 };

const pool = (to: number) => `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lan }
spec: { addresses: [10.0.0.10-10.0.0.${to}] }
`;
const AD = `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lan }
spec: { ipAddressPools: [lan] }
`;
const NODE = `apiVersion: v1
kind: Node
metadata: { name: a }
`;
const service = (name: string, ip: string | null, poolName: string | null, port: number) => {
  const ann = [
    ...(ip ? [`herald.dev/loadBalancerIPs: "${ip}"`] : []),
    ...(poolName ? [`herald.dev/address-pool: ${poolName}`] : []),
  ];
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default, annotations: { ${ann.join(', ')} } }
spec: { type: LoadBalancer, ports: [{ port: ${port} }] }
`;
};
const slice = (svc: string, node: string) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${svc}-x, namespace: default, labels: { kubernetes.io/service-name: ${svc} } }
endpoints: [{ nodeName: ${node} }]
`;

// Mostly valid documents; some draws are problems: an address outside the pool, an unknown pool, a slice
// of no Service or of an unknown Node, two Services of one name.
const name = fc.constantFrom('s3', 's4', 's5', 's6', 's7', 's8', 's9', 's0');
const serviceDoc = fc
  .tuple(
    name,
    fc.option(fc.constantFrom('10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14', '10.0.9.9'), { freq: 3 }),
    fc.option(fc.constantFrom('lan', 'lan', 'lan', 'nope'), { freq: 4 }),
    fc.constantFrom(80, 443),
  )
  .map(([n, ip, p, port]) => service(n, ip, p, port));
const sliceDoc = fc
  .tuple(fc.constantFrom('s0', 's1', 's2', 's0', 's1', 's2', 's9'), fc.constantFrom('a', 'a', 'a', 'zz'))
  .map(([s, n]) => slice(s, n));
const objectDoc = fc.oneof(serviceDoc, sliceDoc);
const BASE = [
  service('s0', null, null, 80),
  service('s1', null, 'lan', 80),
  service('s2', '10.0.0.10', null, 80),
];

/** A small edit as an operator makes it between two reloads (sometimes of the pool, a move or a copy). */
const editArb = fc.record({
  at: fc.nat(),
  what: fc.constantFrom('replace', 'remove', 'add', 'add', 'pool', 'move', 'copy', 'keep'),
  doc: objectDoc,
  to: fc.constantFrom(12, 14),
});
const versionsArb = fc
  .record({
    first: fc.array(objectDoc, { maxLength: 3 }),
    node: fc.boolean(),
    edits: fc.array(editArb, { minLength: 1, maxLength: 8 }),
  })
  .map(({ first, node, edits }) => {
    const fixed = node ? 3 : 2;
    let docs = [pool(14), AD, ...(node ? [NODE] : []), ...BASE, ...first];
    const versions = [docs];
    for (const e of edits) {
      docs = [...docs];
      const at = fixed + (e.at % Math.max(1, docs.length - fixed));
      if (e.what === 'replace' && at < docs.length) docs[at] = e.doc;
      else if (e.what === 'remove' && at < docs.length) docs.splice(at, 1);
      else if (e.what === 'add') docs.splice(at, 0, e.doc);
      else if (e.what === 'pool') docs[0] = pool(e.to);
      else if (e.what === 'move' && at < docs.length) docs.push(...docs.splice(at, 1));
      else if (e.what === 'copy' && at < docs.length) docs.push(docs[at]!);
      versions.push(docs);
    }
    return versions.map((d) => d.map((doc) => `---\n${doc}`).join(''));
  });

const objectsOf = (model: HeraldModel): Set<object> =>
  new Set(Object.values(model).flatMap((objects: object[]) => objects));

/** A version's documents as one file, or as two: the pool and advertisement apart from the rest. */
const filesOf = (text: string, two: boolean) => {
  if (!two) return [{ text, fileName: 'herald.yaml' }];
  const at = text.indexOf('---', text.indexOf('kind: L2Advertisement'));
  return [
    { text: text.slice(0, at), fileName: 'pools.yaml' },
    { text: text.slice(at), fileName: 'services.yaml' },
  ];
};

t.test(
  'reloads through the document cache: the model and validity of a whole parse, and the change recorded',
  async (t) => {
    let incremental = 0;
    let recorded = 0;
    let spliced = 0;
    await fc.assert(
      fc.asyncProperty(versionsArb, fc.boolean(), async (versions, two) => {
        const cache = new DocumentCache();
        let previous: HeraldModel | undefined;
        for (const text of versions) {
          const files = filesOf(text, two);
          const got = await cache.parse(files, budget);
          const whole = parseConfigTexts(files);
          ok(got, 'splittable');
          strictEqual(
            got.problems.length > 0,
            whole.problems.length > 0,
            'problems exactly when a whole parse has some',
          );
          if (whole.problems.length === 0) deepStrictEqual(got.model, whole.model);
          const change = modelChange(previous, got.model);
          if (change) {
            recorded++;
            const before = objectsOf(previous!);
            const now = objectsOf(got.model);
            deepStrictEqual(
              new Set(objectsOf(change.added)),
              new Set([...now].filter((o) => !before.has(o))),
            );
            deepStrictEqual(
              new Set(objectsOf(change.removed)),
              new Set([...before].filter((o) => !now.has(o))),
            );
          }
          previous = got.model;
        }
        incremental += (cache as unknown as { validation: ModelValidation }).validation.stats.incremental;
        spliced += cache.stats.spliced;
      }),
      { numRuns: runs(300) },
    );
    t.ok(recorded > 100, `${recorded} recorded changes checked`);
    t.ok(incremental > 50, `${incremental} versions validated through their change only`);
    t.ok(spliced > 100, `${spliced} models spliced from the documents that changed`);
  },
);

t.test('ModelValidation gives validateModel for every version, also with problems', async (t) => {
  let incremental = 0;
  await fc.assert(
    fc.asyncProperty(versionsArb, async (versions) => {
      const validation = new ModelValidation();
      const cache = new Map<string, HeraldModel>();
      let previous: HeraldModel | undefined;
      for (const text of versions) {
        // One object per document text, the same text the same objects (as a reload keeps them).
        const model = emptyModel();
        for (const doc of text.split(/(?=^---$)/m)) {
          let one = cache.get(doc);
          if (!one) cache.set(doc, (one = parseConfigTexts([{ text: doc, fileName: 'x' }]).model));
          for (const field of Object.keys(model) as Array<keyof HeraldModel>)
            (model[field] as object[]).push(...(one[field] as object[]));
        }
        recordIdentityChange(previous, model);
        deepStrictEqual(
          validation.validate(model, () => undefined),
          validateModel(model),
        );
        previous = model;
      }
      incremental += validation.stats.incremental;
    }),
    { numRuns: runs(200) },
  );
  t.ok(incremental > 50, `${incremental} versions validated through their change only`);
});

t.test('a change is kept one reload back only, for the exact previous model', async (t) => {
  const a = emptyModel();
  const b = emptyModel();
  const c = emptyModel();
  const change = { added: emptyModel(), removed: emptyModel() };
  recordModelChange(a, b, change);
  t.equal(modelChange(a, b), change);
  t.equal(modelChange(c, b), undefined, 'from another model');
  t.equal(modelChange(undefined, b), undefined);
  recordModelChange(b, c, change);
  t.equal(modelChange(b, c), change);
  t.equal(modelChange(a, b), undefined, 'the older record is dropped (no chain of models in memory)');
});
