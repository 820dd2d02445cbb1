import { deserialize, serialize } from 'node:v8';
import t from 'tap';
import { decodeDocuments } from '../../../src/config/parse.js';
import { parseDocumentsInWorker } from '../../../src/config/parse-off-thread.js';
import { fromWire, toWire } from '../../../src/config/parsed-wire.js';

// The parsing thread sends each document's objects back without the empty parts (parsed-wire.ts): what
// arrives must be what was decoded, object identities (locations) included.

const PIECES = [
  'apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: n }\nspec: { type: LoadBalancer }\n',
  '---\napiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: { name: p }\nspec: { addresses: [10.0.0.0/24] }\n',
  '---\napiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata: { name: bad }\nspec: { addresses: [not-an-address] }\n',
  '---\nkind: Nope\napiVersion: v1\n',
  '---\n# nothing\n',
].map((text) => ({ text, fileName: 'f.yaml' }));

t.test('a round trip through a structured clone gives back what was decoded', async (t) => {
  const decoded = decodeDocuments(PIECES);
  const back = (deserialize(serialize(decoded.map(toWire))) as ReturnType<typeof toWire>[]).map(fromWire);
  t.same(back, decoded);
  t.ok(
    decoded.some((d) => d.checkedOnly.pools.length > 0) && decoded.some((d) => d.problems.length > 0),
    'the pieces cover objects kept out of the model and problems',
  );
  const service = back[0]?.model.services[0];
  t.ok(service && back[0]?.locations.get(service), 'a location is found by the object itself');
});

t.test('only what is there is sent', async (t) => {
  const [service, , , , empty] = decodeDocuments(PIECES).map(toWire);
  t.same(Object.keys(service?.model ?? {}), ['services']);
  t.same(Object.keys(service ?? {}).sort(), ['locations', 'model']);
  t.same(empty, {}, 'an empty document sends nothing');
});

t.test('the parsing thread answers in the same terms', async (t) => {
  const answer = await parseDocumentsInWorker(PIECES, { timeoutMs: 60_000 });
  t.ok(Array.isArray(answer));
  t.same(answer, decodeDocuments(PIECES));
});
