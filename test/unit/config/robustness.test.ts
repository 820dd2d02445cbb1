import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments, stringify } from 'yaml';
import { allocateAll } from '../../../src/allocator/allocate-all.js';
import { parseConfigDocuments } from '../../../src/config/index.js';
import { projectRoot } from '../../../src/util/paths.js';

// Bad input never throws: random values, and valid documents with random fields replaced, only make problems.

const fixture = readFileSync(join(projectRoot(), 'examples/standalone.yaml'), 'utf8');
const docs = parseAllDocuments(fixture).map((d) => d.toJS() as Record<string, unknown>);

function paths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [prefix];
  const out: string[][] = [prefix];
  for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function replaceAt(v: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string, unknown>;
  copy[head] = replaceAt(copy[head], rest, value);
  return copy;
}

t.test('random YAML values give problems, not exceptions', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.anything(), { maxLength: 4 }), (values) => {
      const text = values.map((v) => stringify(v)).join('---\n');
      parseConfigDocuments(text, 'x.yaml');
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string(), (text) => {
      parseConfigDocuments(text, 'x.yaml');
    }),
    { numRuns: 300 },
  );
  t.pass('no exception');
});

t.test('valid documents with one field replaced: problems or a model, never an exception', async (t) => {
  fc.assert(
    fc.property(
      fc.nat({ max: docs.length - 1 }),
      fc.nat(),
      fc.oneof(
        fc.anything(),
        fc.constantFrom('', '10.0.0.1', 'fd00::/64', '1-2', -1, 99999999999, null, [], {}),
      ),
      (d, p, value) => {
        const doc = docs[d] as Record<string, unknown>;
        const all = paths(doc);
        const path = all[p % all.length] as string[];
        const mutated = docs.map((x, i) => (i === d ? replaceAt(doc, path, value) : x));
        const { model } = parseConfigDocuments(mutated.map((x) => stringify(x)).join('---\n'), 'm.yaml');
        allocateAll(model);
      },
    ),
    { numRuns: 400 },
  );
  t.pass('no exception');
});
