import fc from 'fast-check';
import t from 'tap';
import { ListSplitter } from '../../../src/k8s/list-stream.js';

/** Feeds `text` to a splitter in pieces cut at `cuts` (byte offsets); returns the items and the rest. */
function split(text: string, cuts: number[] = []) {
  const bytes = Buffer.from(text, 'utf8');
  const items: unknown[] = [];
  const splitter = new ListSplitter((json) => items.push(JSON.parse(json)));
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    splitter.write(bytes.subarray(from, cut));
    from = cut;
  }
  splitter.write(bytes.subarray(from));
  return { items, rest: splitter.end() };
}

const tricky = {
  kind: 'ServiceList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '4711', items: ['not', 'these'] },
  items: [
    {
      metadata: { name: 'a', annotations: { note: 'braces } ] { [ and "quotes" and \\ backslashes \\' } },
      spec: { ports: [{ port: 80 }], items: [{ x: 1 }] },
    },
    { metadata: { name: 'ünïcödé-✓-😀' }, data: '\u0000\n\t"}' },
    {},
  ],
  after: { items: [1, 2] },
};

t.test('items one by one and the rest of the list, whatever the chunks', async (t) => {
  const text = JSON.stringify(tricky, null, 1);
  const { items: expected, ...restExpected } = tricky;
  const whole = split(text);
  t.same(whole.items, expected);
  t.same(whole.rest, { ...restExpected, items: [] });
  const bytes = Buffer.byteLength(text);
  for (let cut = 1; cut < bytes; cut++) {
    const r = split(text, [cut]);
    if (
      JSON.stringify(r.items) !== JSON.stringify(expected) ||
      JSON.stringify(r.rest) !== JSON.stringify(whole.rest)
    )
      t.fail(`cut at byte ${cut}`);
  }
  t.same(split(text, [...Array(bytes).keys()]).items, expected, 'one byte at a time');
});

t.test('each item is handed over before the next one has arrived', async (t) => {
  const seen: string[] = [];
  const splitter = new ListSplitter((json) => seen.push((JSON.parse(json) as { n: string }).n));
  splitter.write(Buffer.from('{"metadata":{"resourceVersion":"9"},"items":[{"n":"a"},{"n":'));
  t.same(seen, ['a']);
  splitter.write(Buffer.from('"b"}]}'));
  t.same(seen, ['a', 'b']);
  t.same(splitter.end(), { metadata: { resourceVersion: '9' }, items: [] });
});

t.test('lists without items, and text that is not a list object', async (t) => {
  t.same(split('{"kind":"List","items":null}').rest, { kind: 'List', items: null });
  t.same(split('{"kind":"List","items":[]}').rest, { kind: 'List', items: [] });
  t.same(split('{"kind":"List"}').items, []);
  t.throws(() => split('{"kind":"List","items":[{"a":1}'), SyntaxError, 'cut short');
  t.throws(() => split('[1,2]'), SyntaxError, 'not an object');
  t.throws(() => split('{"items":[{"a":}]}'), SyntaxError, 'a bad item');
});

t.test('property: the same as JSON.parse for any list and any chunking', async () => {
  const item = fc.object({
    maxDepth: 3,
    values: [fc.string({ unit: 'binary' }), fc.integer(), fc.boolean()],
  });
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 8 }),
      fc.object({ maxDepth: 2 }),
      fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }),
      (items, metadata, cuts) => {
        const text = JSON.stringify({ kind: 'List', metadata, items });
        const r = split(text, cuts);
        return (
          JSON.stringify(r.items) === JSON.stringify(items) &&
          JSON.stringify(r.rest) === JSON.stringify({ kind: 'List', metadata, items: [] })
        );
      },
    ),
    { numRuns: 300 },
  );
});
