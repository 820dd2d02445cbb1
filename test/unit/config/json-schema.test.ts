import t from 'tap';
import type { z } from 'zod';
import {
  crdOpenApiSchema,
  HERALD_KIND_NAMES,
  HERALD_SPECS,
  jsonSchemaFor,
} from '../../../src/config/index.js';

// The CRD schemas must be structural (Kubernetes rejects others) and cover every spec field of the zod schema.

type Node = Record<string, unknown>;

function structuralProblems(node: Node, path: string, out: string[]): void {
  for (const bad of ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', '$schema', 'propertyNames', 'const']) {
    if (bad in node) out.push(`${path}: has ${bad}`);
  }
  const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
  if (!typed) out.push(`${path}: no type`);
  if (node.properties && node.additionalProperties !== undefined)
    out.push(`${path}: properties with additionalProperties`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties: false`);
  for (const [k, v] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) {
    structuralProblems(v, `${path}.${k}`, out);
  }
  if (node.items) structuralProblems(node.items as Node, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object')
    structuralProblems(node.additionalProperties as Node, `${path}{}`, out);
}

for (const kind of HERALD_KIND_NAMES) {
  t.test(`${kind}: structural CRD schema with every spec field`, async (t) => {
    const schema = crdOpenApiSchema(kind);
    const problems: string[] = [];
    structuralProblems(schema, kind, problems);
    t.same(problems, [], 'structural');
    const props = schema.properties as Record<string, Node>;
    t.same(props.metadata, { type: 'object' }, 'metadata is left to the API server');
    const specProps = Object.keys((props.spec?.properties as Node | undefined) ?? {}).sort();
    const zodProps = Object.keys((HERALD_SPECS[kind] as unknown as z.ZodObject).shape).sort();
    t.same(specProps, zodProps, 'same fields as the zod schema');
    t.equal(JSON.stringify(schema).includes('"$ref"'), false);
    const plain = jsonSchemaFor(kind);
    t.equal(plain.type, 'object', 'plain JSON schema generated too');
  });
}

t.test('selected details survive generation', async (t) => {
  const peer = crdOpenApiSchema('BGPPeer').properties as Record<string, Node>;
  const spec = peer.spec as { properties: Record<string, Node>; required: string[] };
  t.same(spec.required.sort(), ['myASN', 'peerAddress']);
  t.match(spec.properties.holdTime, { type: 'string', pattern: /ns\|us/ });
  t.match(spec.properties.peerPort, { type: 'integer', minimum: 1, maximum: 65535 });
  const l2 = crdOpenApiSchema('L2Advertisement').properties as Record<string, Node>;
  const l2spec = l2.spec as { properties: Record<string, Node> };
  t.match(l2spec.properties.spread, { type: 'object', properties: { enabled: { type: 'boolean' } } });
  t.match((l2spec.properties.nodeSelectors as { items: Node }).items, {
    properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
  });
});
