import { isObject, type Json, type OpenApiSchema } from './types.js';

export interface ValidationResult {
  errors: string[];
  unknownFields: string[];
}

const metadataKeys = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Validates a custom resource against its CRD's structural openAPIV3Schema, the way the API server
 * does: types, required, enum, pattern, bounds, lengths, item counts, formats of the common kinds;
 * fields the schema does not declare are reported as unknown (rejected under fieldValidation=Strict,
 * pruned otherwise). Error strings follow the server's `path: message` style.
 */
export function validateAgainstSchema(value: Json, schema: OpenApiSchema): ValidationResult {
  const result: ValidationResult = { errors: [], unknownFields: [] };
  walk(value, schema, '', result, true);
  return result;
}

function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function walk(v: Json, s: OpenApiSchema, path: string, r: ValidationResult, root = false): void {
  const at = path === '' ? '<root>' : path;
  if (v === null) {
    if (!s.nullable && s.type !== undefined)
      r.errors.push(`${at}: Invalid value: "null": ${at} in body must be of type ${s.type}: "null"`);
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v)))
      r.errors.push(
        `${at}: Invalid value: ${JSON.stringify(v)}: ${at} in body must be of type integer or string`,
      );
    return;
  }
  for (const sub of s.allOf ?? []) walk(v, { ...sub, 'x-kubernetes-preserve-unknown-fields': true }, path, r);
  for (const alt of [s.oneOf, s.anyOf]) {
    if (!alt) continue;
    const ok = alt.filter((sub) => {
      const probe: ValidationResult = { errors: [], unknownFields: [] };
      walk(v, { ...sub, 'x-kubernetes-preserve-unknown-fields': true }, path, probe);
      return probe.errors.length === 0;
    }).length;
    if (alt === s.oneOf ? ok !== 1 : ok === 0)
      r.errors.push(
        `${at}: Invalid value: ${JSON.stringify(v)}: must validate ${alt === s.oneOf ? 'one and only one' : 'at least one'} schema`,
      );
  }
  const t = typeOf(v);
  if (s.type !== undefined) {
    const okType = s.type === t || (s.type === 'number' && t === 'integer');
    if (!okType) {
      r.errors.push(`${at}: Invalid value: "${t}": ${at} in body must be of type ${s.type}: "${t}"`);
      return;
    }
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
    r.errors.push(
      `${at}: Unsupported value: ${JSON.stringify(v)}: supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`,
    );
  if (typeof v === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v))
      r.errors.push(`${at}: Invalid value: ${JSON.stringify(v)}: ${at} in body should match '${s.pattern}'`);
    if (s.minLength !== undefined && v.length < s.minLength)
      r.errors.push(
        `${at}: Invalid value: ${JSON.stringify(v)}: ${at} in body should be at least ${s.minLength} chars long`,
      );
    if (s.maxLength !== undefined && v.length > s.maxLength)
      r.errors.push(`${at}: Too long: may not be more than ${s.maxLength} bytes`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum)
      r.errors.push(
        `${at}: Invalid value: ${v}: ${at} in body should be greater than or equal to ${s.minimum}`,
      );
    if (s.maximum !== undefined && v > s.maximum)
      r.errors.push(`${at}: Invalid value: ${v}: ${at} in body should be less than or equal to ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems)
      r.errors.push(
        `${at}: Invalid value: ${v.length}: ${at} in body should have at least ${s.minItems} items`,
      );
    if (s.maxItems !== undefined && v.length > s.maxItems)
      r.errors.push(`${at}: Too many: ${v.length}: must have at most ${s.maxItems} items`);
    if (s.items) v.forEach((e, i) => walk(e, s.items!, `${path}[${i}]`, r));
  }
  if (isObject(v)) {
    for (const req of s.required ?? [])
      if (v[req] === undefined) r.errors.push(`${path === '' ? '' : `${path}.`}${req}: Required value`);
    for (const [k, child] of Object.entries(v)) {
      const childPath = path === '' ? k : `${path}.${k}`;
      if (root && metadataKeys.has(k)) continue;
      const ps = s.properties?.[k];
      if (ps) walk(child, ps, childPath, r);
      else if (typeof s.additionalProperties === 'object') walk(child, s.additionalProperties, childPath, r);
      else if (s.additionalProperties !== true && !s['x-kubernetes-preserve-unknown-fields'])
        r.unknownFields.push(childPath);
    }
  }
}

/** Removes the unknown fields found by validateAgainstSchema (what the server does without Strict). */
export function prune(value: Json, unknownFields: string[]): void {
  for (const f of unknownFields) {
    const segs = f.replace(/\[(\d+)\]/g, '.$1').split('.');
    let cur: Json | undefined = value;
    for (const seg of segs.slice(0, -1))
      cur = Array.isArray(cur) ? cur[Number(seg)] : isObject(cur) ? cur[seg] : undefined;
    if (isObject(cur)) delete cur[segs[segs.length - 1]!];
  }
}
