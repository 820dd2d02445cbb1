import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepStrictEqual, strictEqual } from 'node:assert';
import fc from 'fast-check';
import t from 'tap';
import { DocumentCache, IN_THREAD_MAX_BYTES } from '../../../src/config/document-cache.js';
import { matchDocuments, splitDocuments } from '../../../src/config/documents.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { modelChange } from '../../../src/config/model-change.js';
import { changesContent, modelFingerprint, sameFingerprint } from '../../../src/config/model-fingerprint.js';
import { parseConfigTexts } from '../../../src/config/parse.js';

const head = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: pool }
spec: { addresses: [10.90.0.0/18] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec: { ipAddressPools: [pool] }
`;
const service = (i: number) => `---
apiVersion: v1
kind: Service
metadata: { name: s${i}, namespace: ns, annotations: { herald.dev/loadBalancerIPs: "10.90.${i >> 8}.${i & 255}" } }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
`;
const config = (from: number, to: number) => {
  let text = head;
  for (let i = from; i < to; i++) text += service(i);
  return text;
};
const budget = { timeoutMs: 30_000 };
const file = (text: string) => [{ text, fileName: 'herald.yaml' }];

t.test('documents split where a YAML parser must start a new one, and only there', async (t) => {
  t.same(splitDocuments('a: 1\n'), ['a: 1\n']);
  t.same(splitDocuments('a: 1\n---\nb: 2\n--- {c: 3}\n'), ['a: 1\n', '---\nb: 2\n', '--- {c: 3}\n']);
  t.same(splitDocuments('---\na: |\n  ---\n  text\nb: ----\n---x: 1\n'), [
    '---\na: |\n  ---\n  text\nb: ----\n---x: 1\n',
  ]);
  t.same(splitDocuments('a: 1\r\n---\r\nb: 2\r\n'), ['a: 1\r\n', '---\r\nb: 2\r\n']);
  t.equal(splitDocuments('%YAML 1.2\n---\na: 1\n'), undefined, 'directives: only a whole parse is exact');
  t.equal(splitDocuments('a: 1\n...\n---\nb: 2\n'), undefined, 'document end markers too');
});

t.test('documents of a new version are matched to the same texts of the previous one', async (t) => {
  t.same(matchDocuments([], ['a', 'b']), [-1, -1], 'nothing known');
  t.same(matchDocuments(['a', 'b', 'c'], ['a', 'b', 'c', 'd']), [0, 1, 2, -1], 'appended');
  t.same(matchDocuments(['a', 'b', 'c'], ['a', 'c']), [0, 2], 'one removed');
  t.same(matchDocuments(['a', 'b', 'c'], ['a', 'x', 'c']), [0, -1, 2], 'one changed');
  t.same(matchDocuments(['a', 'b', 'c', 'd'], ['d', 'b', 'c', 'a']), [3, 1, 2, 0], 'moved');
  t.same(
    matchDocuments(['a', 'a'], ['a', 'a', 'a']),
    [0, 1, -1],
    'a repeated text beyond the old ones is new',
  );
  t.same(matchDocuments(['a', 'b'], []), [], 'all removed');
  t.same(
    matchDocuments(['x', 'a', 'a', 'y'], ['z', 'a', 'a', 'a', 'w']),
    [-1, 1, 2, -1, -1],
    'each previous document is matched once: a third copy is new',
  );
});

t.test('a cached parse gives the model of a whole parse, and reuses unchanged documents', async (t) => {
  const cache = new DocumentCache();
  const first = await cache.parse(file(config(0, 20)), budget);
  const whole = parseConfigTexts(file(config(0, 20)));
  t.ok(first, 'splittable');
  t.same(first?.problems, []);
  t.same(first?.model, whole.model);

  const second = await cache.parse(file(config(0, 21)), budget);
  t.same(second?.model, parseConfigTexts(file(config(0, 21))).model);
  t.equal(second?.model.services.length, 21);
  t.equal(second?.model.services[0], first?.model.services[0], 'an unchanged document keeps its objects');
  t.equal(second?.model.pools[0], first?.model.pools[0]);
  t.notOk(first?.model.services.includes(second!.model.services[20]!), 'the new document is decoded');
  const whole21 = parseConfigTexts(file(config(0, 21)));
  for (const i of [0, 20])
    t.same(
      second?.locations.get(second.model.services[i]!),
      whole21.locations.get(whole21.model.services[i]!),
      `service ${i} is located where a whole parse puts it`,
    );
  t.equal(second?.locations.size, whole21.locations.size);

  const third = await cache.parse(file(config(1, 21)), budget);
  t.same(third?.model, parseConfigTexts(file(config(1, 21))).model, 'a removed document is gone');
});

t.test('many new documents are decoded on a parsing thread, with the same result', async (t) => {
  const text = config(0, 200);
  t.ok(text.length > IN_THREAD_MAX_BYTES, 'more than the in-thread limit');
  const cache = new DocumentCache();
  const parsed = await cache.parse(file(text), budget);
  t.same(parsed?.model, parseConfigTexts(file(text)).model);
});

t.test('cross-object checks run over the whole assembled model', async (t) => {
  const cache = new DocumentCache();
  await cache.parse(file(config(0, 3)), budget);
  // a second Service named s0, in a document the cache has not seen
  const clash = config(0, 3) + service(0).replace('10.90.0.0', '10.90.0.99');
  const parsed = await cache.parse(file(clash), budget);
  t.ok((parsed?.problems.length ?? 0) > 0, 'the duplicate is found');
  t.same(parsed?.problems, parseConfigTexts(file(clash)).problems);
});

t.test('loading with a cache reports problems exactly as a whole parse does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-doc-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'herald.yaml');
  const documents = new DocumentCache();
  writeFileSync(path, config(0, 5));
  const good = await loadConfigFile(path, { worker: budget, documents });
  t.same(good.problems, []);
  t.equal(good.model.services.length, 5);

  const bad = `${config(0, 5)}---
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: p2 }
spec: { addresses: [10.91.0.0/24], bogus: 1 }
`;
  writeFileSync(path, bad);
  const withCache = await loadConfigFile(path, { worker: budget, documents });
  const without = await loadConfigFile(path, { worker: budget });
  t.ok(withCache.problems.length > 0, 'the unknown field is reported');
  t.same(withCache.problems, without.problems, 'same problems, documents and paths');
});

t.test('a model fingerprint is equal exactly for equal models, and reuses unchanged objects', async (t) => {
  const cache = new DocumentCache();
  const first = (await cache.parse(file(config(0, 5)), budget))!.model;
  const again = (await cache.parse(file(config(0, 5)), budget))!.model;
  t.ok(sameFingerprint(modelFingerprint(first), modelFingerprint(again)), 'same files');
  t.ok(
    sameFingerprint(modelFingerprint(first), modelFingerprint(parseConfigTexts(file(config(0, 5))).model)),
    'a whole parse of the same files: new objects, same content',
  );
  const added = (await cache.parse(file(config(0, 6)), budget))!.model;
  t.notOk(sameFingerprint(modelFingerprint(first), modelFingerprint(added)), 'one service more');
  const changed = (await cache.parse(file(config(0, 5).replace('10.90.0.4', '10.90.0.99')), budget))!.model;
  t.notOk(sameFingerprint(modelFingerprint(first), modelFingerprint(changed)), 'one address changed');
  const moved = parseConfigTexts(file(config(0, 5).replace('/18', '/17'))).model;
  t.notOk(sameFingerprint(modelFingerprint(first), modelFingerprint(moved)), 'a pool changed');
});

t.test('a recorded change tells a change of content without fingerprints, never a false one', async (t) => {
  const cache = new DocumentCache();
  const first = (await cache.parse(file(config(0, 5)), budget))!.model;
  const added = (await cache.parse(file(config(0, 6)), budget))!.model;
  t.ok(changesContent(modelChange(first, added)!), 'one service added');
  const edited = (await cache.parse(file(config(0, 6).replace('10.90.0.5', '10.90.0.99')), budget))!.model;
  t.ok(changesContent(modelChange(added, edited)!), 'one address changed');
  // the same objects in other words: a document decoded again, to equal content
  const respelled = config(0, 6).replace('10.90.0.5', '10.90.0.99').replace('{ name: s5,', '{name: s5,');
  const spaced = (await cache.parse(file(respelled), budget))!.model;
  const change = modelChange(edited, spaced);
  t.ok(change && change.added.services.length === 1, 'the respelled document is decoded again');
  t.notOk(changesContent(change!), 'same content: the fingerprints decide');
  t.ok(sameFingerprint(modelFingerprint(edited), modelFingerprint(spaced)));
});

t.test('byte edits anywhere, also across document starts, give the model of a whole parse', async (t) => {
  const docs = [
    head,
    service(1),
    service(2),
    service(3).replace('ports', 'selector: { app: "é-ü" }, ports'),
    `---\r\napiVersion: v1\r\nkind: Service\r\nmetadata: { name: crlf, namespace: ns }\r\nspec: { type: LoadBalancer, ports: [{ port: 81 }] }\r\n`,
    `---\napiVersion: v1\nkind: Service\nmetadata:\n  name: block\n  namespace: ns\n  annotations:\n    note: |\n      ---\n      not a document start\nspec: { type: LoadBalancer, ports: [{ port: 82 }] }\n`,
  ];
  const edit = fc.record({
    at: fc.nat(),
    cut: fc.nat({ max: 6 }),
    put: fc.constantFrom('', '-', '---', '\n', '\n---\n', ' ', 'é', '\r\n', '# x', 'x'),
  });
  let spliced = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.shuffledSubarray(docs.slice(1)),
      fc.array(edit, { minLength: 1, maxLength: 6 }),
      async (order, edits) => {
        const cache = new DocumentCache();
        let text = [head, ...order].join('');
        for (const e of [undefined, ...edits]) {
          if (e) {
            const at = e.at % (text.length + 1);
            text = text.slice(0, at) + e.put + text.slice(at + e.cut);
          }
          const got = await cache.parse(file(text), budget);
          const whole = parseConfigTexts(file(text));
          if (!got) continue; // not splittable: the caller parses the whole file
          deepStrictEqual(cache.documentTexts('herald.yaml'), splitDocuments(text), 'split as a whole text');
          strictEqual(got.problems.length > 0, whole.problems.length > 0, JSON.stringify(text));
          if (whole.problems.length === 0) deepStrictEqual(got.model, whole.model);
        }
        spliced += cache.stats.spliced;
      },
    ),
    { numRuns: 300 },
  );
  t.ok(spliced > 20, `${spliced} models spliced`);
});
