import * as models from '../../../src/k8s/client.js';
import { isObject, type Json, type KubeObject, type ResourceType } from './types.js';
import type { ValidationResult } from './validate.js';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

const registry = models as unknown as Record<string, unknown>;

function model(name: string): Model | undefined {
  const m = registry[name];
  return typeof m === 'function' && 'getAttributeTypeMap' in m ? (m as unknown as Model) : undefined;
}

const groupPrefixes: Record<string, string[]> = {
  '': ['V1', 'CoreV1'],
  'events.k8s.io': ['EventsV1'],
  'discovery.k8s.io': ['V1', 'DiscoveryV1'],
};

/** The generated client model describing a built-in kind (the Kubernetes OpenAPI schema, as code). */
function modelFor(t: ResourceType): Model | undefined {
  for (const prefix of groupPrefixes[t.group] ?? ['V1']) {
    const m = model(`${prefix}${t.kind}`);
    if (m) return m;
  }
  return undefined;
}

/**
 * Validates a built-in object against the Kubernetes API schema as carried by @kubernetes/client-node's
 * generated models: every field must exist in the schema and have the right JSON type. This catches
 * typos and misplaced fields in rendered manifests the way `kubectl apply` against a real server does.
 */
export function validateBuiltin(t: ResourceType, obj: KubeObject): ValidationResult {
  const r: ValidationResult = { errors: [], unknownFields: [] };
  const m = modelFor(t);
  if (m) walkModel(obj, m, '', r);
  return r;
}

function walkModel(v: Json, m: Model, path: string, r: ValidationResult): void {
  if (!isObject(v)) {
    r.errors.push(`${path || '<root>'}: Invalid value: must be an object`);
    return;
  }
  const attrs = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a]));
  for (const [k, child] of Object.entries(v)) {
    const p = path === '' ? k : `${path}.${k}`;
    const a = attrs.get(k);
    if (!a) {
      r.unknownFields.push(p);
      continue;
    }
    walkType(child, a.type, p, r);
  }
}

function walkType(v: Json, type: string, path: string, r: ValidationResult, inMap = false): void {
  if (v === null || type === 'any') return;
  const bad = (want: string): void => {
    r.errors.push(`${path}: Invalid value: ${JSON.stringify(v)}: must be of type ${want}`);
  };
  let m: RegExpMatchArray | null;
  if ((m = type.match(/^Array<(.+)>$/))) {
    if (!Array.isArray(v)) return bad('array');
    v.forEach((e, i) => walkType(e, m![1]!, `${path}[${i}]`, r));
    return;
  }
  if ((m = type.match(/^\{ \[key: string\]: (.+); \}$/))) {
    if (!isObject(v)) return bad('object');
    for (const [k, e] of Object.entries(v)) walkType(e, m[1]!, `${path}.${k}`, r, true);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      // Quantities in resource maps may be written as plain numbers.
      if (typeof v !== 'string' && !(inMap && typeof v === 'number')) bad('string');
      return;
    case 'number':
      if (typeof v !== 'number') bad('number');
      return;
    case 'boolean':
      if (typeof v !== 'boolean') bad('boolean');
      return;
    case 'IntOrString':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) bad('integer or string');
      return;
  }
  const sub = model(type);
  if (sub) walkModel(v, sub, path, r);
}
