import { isObject, type KubeObject } from './types.js';

export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

/** Parses a label selector string (`a=b,c!=d,e in (x,y),f notin (z),g,!h`); throws on bad syntax. */
export function parseLabelSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      out.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()) });
    } else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) {
      out.push({ key: m[1]!, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
    } else if ((m = p.match(/^!\s*([\w./-]+)$/))) {
      out.push({ key: m[1]!, op: '!exists' });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      out.push({ key: m[1]!, op: 'exists' });
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(p)}`);
    }
  }
  return out;
}

export function labelsMatch(reqs: Requirement[], obj: KubeObject): boolean {
  const labels = isObject(obj.metadata.labels) ? obj.metadata.labels : {};
  return reqs.every((r) => {
    const v = labels[r.key];
    const has = typeof v === 'string';
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
    }
  });
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

const supportedFields = new Set(['metadata.name', 'metadata.namespace']);

/** Field selectors: the API server supports metadata.name and metadata.namespace for every type. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  return text
    .split(',')
    .filter((p) => p.trim() !== '')
    .map((p) => {
      const m = p.trim().match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw new Error(`invalid field selector: ${JSON.stringify(p)}`);
      if (!supportedFields.has(m[1]!)) throw new Error(`field label not supported: ${m[1]}`);
      return { field: m[1]!, value: m[3]!, negate: m[2] === '!=' };
    });
}

export function fieldsMatch(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => {
    const actual = r.field === 'metadata.name' ? obj.metadata.name : (obj.metadata.namespace ?? '');
    return (actual === r.value) !== r.negate;
  });
}
