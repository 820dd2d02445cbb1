import fc from 'fast-check';
import t from 'tap';
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import { parseConfigDocuments, yamlDocuments } from '../../../src/config/parse.js';

// The config parse composes one YAML document at a time (yamlDocuments) instead of the library's
// parseAllDocuments: the results must be the same, document by document, and the stream must be lazy.

const OPTIONS = { prettyErrors: false, uniqueKeys: false } as const;

/** Pieces of YAML streams: objects, scalars, empty documents, syntax errors, duplicates, aliases. */
const PIECES = [
  'apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: n }\nspec: { type: LoadBalancer }\n',
  'a: 1\nb: [1, 2, {c: d}]\n',
  'a: 1\na: 2\n',
  '',
  '# only a comment\n',
  'key: "unterminated\n',
  'x: [1, 2\n',
  'base: &b { p: 1 }\nuse: *b\n',
  '- one\n- two\n',
  'plain scalar\n',
  'k: |\n  block\n  text\n',
  '\t- tab indented\n',
  'a: {b: 1, b: 2}\n',
];

const stream = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 8 }).chain((docs) =>
  fc
    .array(fc.constantFrom('---\n', '--- \n', '---\n...\n'), {
      minLength: docs.length,
      maxLength: docs.length,
    })
    .map((marks) => docs.map((d, i) => `${i > 0 || d === '' ? marks[i] : ''}${d}`).join('')),
);

function summary(doc: Document.Parsed) {
  let value: unknown;
  try {
    value = doc.errors.length === 0 ? doc.toJS() : undefined;
  } catch (error) {
    value = `throws: ${String(error)}`;
  }
  return {
    errors: doc.errors.map((e) => [e.code, e.message, e.pos]),
    warnings: doc.warnings.map((w) => [w.code, w.pos]),
    range: doc.range,
    value,
  };
}

t.test('yamlDocuments composes what parseAllDocuments does, document by document', async (t) => {
  fc.assert(
    fc.property(stream, (text) => {
      const expected = [...parseAllDocuments(text, OPTIONS)].map(summary);
      const lines = new LineCounter();
      const got = [...yamlDocuments(text, lines)].map(summary);
      t.same(got, expected, JSON.stringify(text));
      const reference = new LineCounter();
      parseAllDocuments(text, { ...OPTIONS, lineCounter: reference });
      t.same(lines.lineStarts, reference.lineStarts, 'every line break seen');
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('documents come one at a time: the first before the parser reads the rest', async (t) => {
  const docs = Array.from({ length: 50 }, (_, i) => `name: d${i}\nitems: [a, b]\n`);
  const lines = new LineCounter();
  const it = yamlDocuments(docs.join('---\n'), lines);
  const first = it.next();
  t.equal(first.done, false);
  t.same(first.done ? undefined : first.value.toJS(), { name: 'd0', items: ['a', 'b'] });
  t.ok(lines.lineStarts.length < 10, `read ${lines.lineStarts.length} of 150 lines so far`);
  t.equal([...it].length, 49, 'the rest follow');
});

t.test('problems keep their document numbers and lines in a streamed file', async (t) => {
  const text = [
    'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {addresses: [10.0.0.0/24]}\n',
    'x: [1, 2\n',
    'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: b}\nspec:\n  addresses: [10.0.1.0/24]\n  addresses: [10.0.2.0/24]\n',
    'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: {name: c}\nspec: {addresses: [10.0.3.0/24]}\n',
  ].join('---\n');
  const { model, problems } = parseConfigDocuments(text, 'f.yaml');
  t.same(
    model.pools.map((p) => p.metadata.name),
    ['a', 'c'],
    'the documents around the bad ones are kept',
  );
  t.same(
    problems.map((p) => [p.doc, p.message.replace(/:.*$/s, '')]),
    [
      [2, 'YAML error'],
      [3, 'YAML error (line 13, column 3)'],
    ],
  );
  t.match(problems[1]?.message, /duplicate key "addresses"$/);
});
