import { Composer, type Document, LineCounter, Parser } from 'yaml';
import { duplicateKeys } from './duplicate-keys.js';
import type { z } from 'zod';
import {
  EndpointSliceSchema,
  HERALD_API_VERSION,
  HERALD_KINDS,
  NamespaceSchema,
  NodeSchema,
  ServiceSchema,
  type HeraldKind,
} from './schemas.js';
import { emptyModel, sortProblems, type HeraldModel, type Problem } from './types.js';
import { formatProblems } from './formats.js';
import { validateModel, type ObjectLocation } from './validate.js';

/**
 * Turns YAML text into a `HeraldModel`. Pure: no file I/O (see `load.ts`). Every problem is collected;
 * objects with problems are left out of the model, everything else is kept.
 *
 * Documents are numbered from 1 in the order they appear (`doc` 0 means the file as a whole). A `kind: List`
 * document (what `kubectl get -o yaml` prints) is accepted; its objects are reported as `items[i].…`.
 */

/** apiVersions accepted per Herald kind (MetalLB's are converted to `herald.dev/v1beta1`). */
const METALLB_VERSIONS: Readonly<Record<HeraldKind, readonly string[]>> = {
  IPAddressPool: ['metallb.io/v1beta1'],
  L2Advertisement: ['metallb.io/v1beta1'],
  BGPAdvertisement: ['metallb.io/v1beta1'],
  BGPPeer: ['metallb.io/v1beta1', 'metallb.io/v1beta2'],
  BFDProfile: ['metallb.io/v1beta1'],
  Community: ['metallb.io/v1beta1'],
};

const CORE_KINDS: Readonly<
  Record<string, { apiVersion: string; schema: z.ZodType; field: keyof HeraldModel }>
> = {
  Service: { apiVersion: 'v1', schema: ServiceSchema, field: 'services' },
  Node: { apiVersion: 'v1', schema: NodeSchema, field: 'nodes' },
  Namespace: { apiVersion: 'v1', schema: NamespaceSchema, field: 'namespaces' },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', schema: EndpointSliceSchema, field: 'endpointSlices' },
};

const HERALD_FIELD: Readonly<Record<HeraldKind, keyof HeraldModel>> = {
  IPAddressPool: 'pools',
  L2Advertisement: 'l2Advertisements',
  BGPAdvertisement: 'bgpAdvertisements',
  BGPPeer: 'bgpPeers',
  BFDProfile: 'bfdProfiles',
  Community: 'communities',
};

/** Joins a zod/issue path the way people write it: `spec.addresses[1]`, `metadata.annotations["a/b"]`. */
export function formatPath(parts: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const s = String(p);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

const joinPath = (prefix: string, rest: string): string =>
  !prefix ? rest : !rest ? prefix : rest.startsWith('[') ? prefix + rest : `${prefix}.${rest}`;

function issueProblems(issues: readonly z.core.$ZodIssue[], at: ObjectLocation): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          ...at,
          path: joinPath(at.path, joinPath(path, formatPath([key]))),
          message: 'unknown field',
        });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
      message = 'required field is missing';
    }
    if (issue.code === 'invalid_value' && 'values' in issue) {
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push({ ...at, path: joinPath(at.path, path), message });
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ParsedObjects {
  model: HeraldModel;
  problems: Problem[];
  /** Where each object of the model came from (for precise problems in cross-object checks). */
  locations: Map<object, ObjectLocation>;
  /** Objects with bad values: not in the model, but validated with it. */
  checkedOnly: HeraldModel;
}

/** Adds one raw object (already YAML-decoded) to the model, or problems about it. */
export function addObject(raw: unknown, at: ObjectLocation, out: ParsedObjects): void {
  if (!isRecord(raw)) {
    out.problems.push({
      ...at,
      message: 'expected a Kubernetes-style object (apiVersion, kind, metadata, ...)',
    });
    return;
  }
  const apiVersion = raw.apiVersion;
  const kind = raw.kind;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    out.problems.push({
      ...at,
      path: joinPath(at.path, typeof kind !== 'string' ? 'kind' : 'apiVersion'),
      message: 'required field is missing',
    });
    return;
  }
  if (kind === 'List' && apiVersion === 'v1') {
    const items = Array.isArray(raw.items) ? raw.items : [];
    items.forEach((item, i) => addObject(item, { ...at, path: joinPath(at.path, `items[${i}]`) }, out));
    return;
  }
  if (Object.prototype.hasOwnProperty.call(HERALD_KINDS, kind)) {
    const hk = kind as HeraldKind;
    if (apiVersion !== HERALD_API_VERSION && !METALLB_VERSIONS[hk].includes(apiVersion)) {
      out.problems.push({
        ...at,
        path: joinPath(at.path, 'apiVersion'),
        message: `unsupported apiVersion "${apiVersion}" for ${kind}; use ${HERALD_API_VERSION} (or ${METALLB_VERSIONS[hk].join(' / ')})`,
      });
      return;
    }
    const r = HERALD_KINDS[hk].safeParse(raw);
    if (!r.success) {
      out.problems.push(...issueProblems(r.error.issues, at));
      return;
    }
    const obj = { ...r.data, apiVersion: HERALD_API_VERSION };
    const bad = formatProblems(hk, obj);
    out.problems.push(...bad.map((p) => ({ ...at, path: joinPath(at.path, p.path), message: p.message })));
    // With bad values the object stays out of the model but still takes part in cross-object checks.
    ((bad.length === 0 ? out.model : out.checkedOnly)[HERALD_FIELD[hk]] as object[]).push(obj);
    out.locations.set(obj, at);
    return;
  }
  const core = CORE_KINDS[kind];
  if (core) {
    if (apiVersion !== core.apiVersion) {
      out.problems.push({
        ...at,
        path: joinPath(at.path, 'apiVersion'),
        message: `unsupported apiVersion "${apiVersion}" for ${kind}; use ${core.apiVersion}`,
      });
      return;
    }
    const r = core.schema.safeParse(raw);
    if (!r.success) {
      out.problems.push(...issueProblems(r.error.issues, at));
      return;
    }
    const obj = r.data as object;
    (out.model[core.field] as object[]).push(obj);
    out.locations.set(obj, at);
    return;
  }
  const known = [...Object.keys(HERALD_KINDS), ...Object.keys(CORE_KINDS)].join(', ');
  out.problems.push({
    ...at,
    path: joinPath(at.path, 'kind'),
    message: `unknown kind "${kind}" (apiVersion ${apiVersion}); Herald reads ${known}`,
  });
}

/** Options of every YAML parse: uniqueKeys off (quadratic in the library; duplicateKeys() is linear). */
const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: false } as const;

/**
 * The YAML documents of a stream, composed one at a time as the parser reaches each one's end, with the
 * same options and results as the library's `parseAllDocuments`; `lines` learns each line break as the
 * parser passes it. A caller that drops each document before asking for the next never holds the syntax
 * trees of a whole large file at once (collecting them cost about as much garbage-collection time as the
 * parse itself at 10,000 Services).
 */
export function* yamlDocuments(text: string, lines: LineCounter): Generator<Document.Parsed> {
  const composer = new Composer(YAML_OPTIONS);
  yield* composer.compose(new Parser(lines.addNewLine).parse(text));
}

/** Decodes the YAML documents of one file into `out` (no cross-object validation), one at a time. */
export function addDocuments(text: string, fileName: string, out: ParsedObjects): void {
  const lines = new LineCounter();
  let index = 0;
  try {
    for (const doc of yamlDocuments(text, lines)) {
      index++;
      addDocument(doc, lines, { file: fileName, doc: index, path: '' }, out);
    }
  } catch (error) {
    out.problems.push({ file: fileName, doc: 0, path: '', message: `cannot parse YAML: ${String(error)}` });
  }
}

function addDocument(doc: Document.Parsed, lines: LineCounter, at: ObjectLocation, out: ParsedObjects): void {
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0];
      const where = line ? ` (line ${line.line}, column ${line.col})` : '';
      out.problems.push({ ...at, message: `YAML error${where}: ${e.message.split('\n')[0]}` });
    }
    return;
  }
  const dups = duplicateKeys(doc, lines);
  if (dups.length > 0) {
    for (const d of dups) {
      out.problems.push({
        ...at,
        message: `YAML error (line ${d.line}, column ${d.col}): duplicate key "${d.key}"`,
      });
    }
    return;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    out.problems.push({
      ...at,
      message: `YAML error: ${error instanceof Error ? error.message : String(error)}`,
    });
    return;
  }
  if (value === null || value === undefined) return; // empty document (e.g. a trailing ---)
  addObject(value, at, out);
}

/** A parsed configuration: the model, every problem, and where each model object was read from. */
export interface ParsedConfig {
  model: HeraldModel;
  problems: Problem[];
  locations: ReadonlyMap<object, ObjectLocation>;
}

export const newParsed = (): ParsedObjects => ({
  model: emptyModel(),
  problems: [],
  locations: new Map(),
  checkedOnly: emptyModel(),
});

/** Decodes each text on its own (one YAML document each, see documents.ts), without cross-object checks. */
export function decodeDocuments(pieces: ReadonlyArray<{ text: string; fileName: string }>): ParsedObjects[] {
  return pieces.map((piece) => {
    const out = newParsed();
    addDocuments(piece.text, piece.fileName, out);
    return out;
  });
}

/** Parses one file's text: model plus every problem (syntax, schema and cross-object). */
export function parseConfigDocuments(
  text: string,
  fileName = '<input>',
): { model: HeraldModel; problems: Problem[] } {
  const out = newParsed();
  addDocuments(text, fileName, out);
  return finishParsed(out);
}

/**
 * Cross-object validation (including objects kept out of the model for bad values), then problems sorted by
 * file and document (stable within a document). Use after `addObject`/`addDocuments`.
 */
export function finishParsed(
  out: ParsedObjects,
  locations: ReadonlyMap<object, ObjectLocation> = out.locations,
): ParsedConfig {
  const all = emptyModel();
  for (const k of Object.keys(all) as Array<keyof HeraldModel>) {
    (all[k] as object[]) = [...out.model[k], ...out.checkedOnly[k]];
  }
  out.problems.push(...validateModel(all, (o) => locations.get(o)));
  const problems = sortProblems(out.problems);
  return { model: out.model, problems, locations };
}

/** Parses several files into one model (pools may not overlap across files, names are unique across them). */
export function parseConfigTexts(files: ReadonlyArray<{ text: string; fileName: string }>): ParsedConfig {
  const out = newParsed();
  for (const f of files) addDocuments(f.text, f.fileName, out);
  return finishParsed(out);
}
