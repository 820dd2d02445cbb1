import { z } from 'zod';
import { HERALD_KINDS, HERALD_SPECS, type HeraldKind } from './schemas.js';

/**
 * JSON schemas generated from the zod definitions, so CRDs and TS types cannot drift.
 * - `jsonSchemaFor(kind)`: plain JSON Schema (draft 2020-12) of the whole object, for editors and docs.
 * - `crdOpenApiSchema(kind)`: a Kubernetes *structural* OpenAPI v3 schema for `spec.versions[].schema.
 *   openAPIV3Schema` of a CRD: every node typed, no $ref/anyOf/oneOf/not, no `additionalProperties: false`
 *   next to `properties`, `metadata` left to the API server, `status` preserved.
 */

type Json = Record<string, unknown>;

export function jsonSchemaFor(kind: HeraldKind): Json {
  return z.toJSONSchema(HERALD_KINDS[kind], { io: 'input', unrepresentable: 'any' }) as Json;
}

/** Keywords a structural schema may carry (others are dropped). */
const KEEP = new Set([
  'type',
  'description',
  'properties',
  'items',
  'required',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'additionalProperties',
  'default',
  'format',
]);

function structural(node: unknown): Json {
  if (typeof node !== 'object' || node === null) return {};
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (!KEEP.has(k)) continue;
    if (k === 'properties') {
      const props: Json = {};
      for (const [pk, pv] of Object.entries(v as Json)) props[pk] = structural(pv);
      out.properties = props;
    } else if (k === 'items') out.items = structural(v);
    else if (k === 'additionalProperties') {
      if (typeof v === 'object' && v !== null && !src.properties && Object.keys(v).length > 0) {
        out.additionalProperties = structural(v);
      }
    } else if (k === 'minimum' || k === 'maximum') {
      // zod's safe-integer bounds are noise in a CRD
      if (Math.abs(v as number) < Number.MAX_SAFE_INTEGER) out[k] = v;
    } else if (k === 'required' && Array.isArray(v) && v.length === 0) continue;
    else out[k] = v;
  }
  // unions (e.g. targetPort int-or-string) are not structural: fall back to a typed escape hatch
  if (!out.type && Array.isArray(src.anyOf)) {
    const types = new Set((src.anyOf as Json[]).map((a) => a.type));
    if (types.size === 2 && types.has('integer') && types.has('string'))
      out['x-kubernetes-int-or-string'] = true;
    else Object.assign(out, structural((src.anyOf as Json[])[0]));
  }
  if (out.type === 'object' && !out.properties && !out.additionalProperties) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

export function crdOpenApiSchema(kind: HeraldKind): Json {
  const spec = structural(
    z.toJSONSchema(HERALD_SPECS[kind], { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }),
  );
  return {
    type: 'object',
    description: `${kind} (herald.dev/v1beta1); fields mirror MetalLB's ${kind}.`,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: spec,
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    ...(kind === 'IPAddressPool' || kind === 'BGPPeer' || kind === 'Community' ? { required: ['spec'] } : {}),
  };
}
