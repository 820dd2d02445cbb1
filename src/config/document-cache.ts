import { commonPrefix, commonSuffix, matchDocuments, splitDocuments } from './documents.js';
import { decodeDocuments, finishParsed, newParsed, type ParsedConfig, type ParsedObjects } from './parse.js';
import { parseDocumentsInWorker, type ParseBudget } from './parse-off-thread.js';
import { ModelValidation } from './incremental-validation.js';
import { recordModelChange } from './model-change.js';
import { spliceModel } from './splice-model.js';
import { emptyModel, type HeraldModel } from './types.js';
import type { ObjectLocation } from './validate.js';

const FIELDS = Object.keys(emptyModel()) as Array<keyof HeraldModel>;

/** New documents up to this size are decoded on the calling thread: a few ms, no thread start. */
export const IN_THREAD_MAX_BYTES = 16 * 1024;

/**
 * Reloads that decode only what changed: each YAML document's objects are kept, keyed by its file and its
 * text, and a new version of the files decodes only the documents not seen before (on the calling
 * thread when they are small, else on a parsing thread within the budget). The cross-object checks
 * always run over the whole assembled model.
 *
 * The result is exact only without problems: document numbers and line positions of problems come from a
 * parse of the whole files, so a caller that gets problems (or `undefined`, when the files cannot be split
 * exactly) parses the whole files instead.
 */
export class DocumentCache {
  /** Each file's documents (texts) and what they decoded to, in order. */
  private files = new Map<string, SplitFile>();
  /** What the last parse assembled: the next parse records its change from its model (model-change.ts). */
  private last: ParsedConfig | undefined;
  /** Each file's objects as `last` assembled them (per field, in document order). */
  private fileModels = new Map<string, HeraldModel>();
  /** `last` has no problem and no merely checked object: it may be spliced. */
  private lastClean = false;
  private readonly validation = new ModelValidation();
  /** Assemblies from every document, and those that spliced only the changed documents in. */
  readonly stats = { assembled: 0, spliced: 0 };

  parse(
    files: ReadonlyArray<{ text: string; fileName: string }>,
    budget: ParseBudget,
  ): Promise<ParsedConfig | undefined> {
    return this.parseBytes(
      files.map(({ text, fileName }) => ({ bytes: Buffer.from(text, 'utf8'), fileName })),
      budget,
    );
  }

  /**
   * The files as read (UTF-8). Only the bytes between what a file shares with its last version at its
   * start and at its end are decoded to text and split; the documents there are matched by text to the
   * last version's documents in that stretch.
   */
  async parseBytes(
    files: ReadonlyArray<{ bytes: Buffer; fileName: string }>,
    budget: ParseBudget,
  ): Promise<ParsedConfig | undefined> {
    const next: Array<{
      fileName: string;
      bytes: Buffer;
      starts: number[];
      entries: Array<Entry | undefined>;
      head: number;
      tail: number;
    }> = [];
    const missing: Array<{ text: string; fileName: string; file: number; doc: number }> = [];
    const removed: Entry[] = [];
    const before = [...this.files.keys()];
    let ordered = files.length === before.length;
    for (const file of files) {
      const known = this.files.get(file.fileName);
      ordered &&= before[next.length] === file.fileName;
      const { head, tail } = known ? unchangedDocuments(known, file.bytes) : { head: 0, tail: 0 };
      const count = known?.entries.length ?? 0;
      const oldFrom = known ? (known.starts[head] ?? known.bytes.length) : 0;
      const oldTo = known && tail > 0 ? known.starts[count - tail]! : (known?.bytes.length ?? 0);
      const from = oldFrom;
      const to = oldTo + file.bytes.length - (known?.bytes.length ?? 0);
      const pieces = from < to ? splitDocuments(file.bytes.toString('utf8', from, to)) : [];
      const was =
        known && oldFrom < oldTo ? splitDocuments(known.bytes.toString('utf8', oldFrom, oldTo)) : [];
      if (!pieces || !was) return undefined;
      const matched = matchDocuments(was, pieces);
      const middle = matched.map((at) => (at === -1 ? undefined : known!.entries[head + at]));
      middle.forEach((entry, i) => {
        if (!entry)
          missing.push({ text: pieces[i]!, fileName: file.fileName, file: next.length, doc: head + i });
      });
      const kept = keptInOrder(matched, was.length);
      if (kept) was.forEach((_, i) => kept[i] === 1 || removed.push(known!.entries[head + i]!));
      else ordered = false;
      const starts = known ? known.starts.slice(0, head) : [];
      let at = from;
      for (const piece of pieces) {
        starts.push(at);
        at += Buffer.byteLength(piece, 'utf8');
      }
      const shift = file.bytes.length - (known?.bytes.length ?? 0);
      for (let i = count - tail; i < count; i++) starts.push(known!.starts[i]! + shift);
      const entries: Array<Entry | undefined> = known
        ? (known.entries.slice(0, head) as Array<Entry | undefined>).concat(
            middle,
            known.entries.slice(count - tail),
          )
        : middle;
      next.push({ fileName: file.fileName, bytes: file.bytes, starts, entries, head, tail });
    }
    const decoded = await decode(missing, budget);
    if (!decoded) return undefined;
    const added = decoded.map(entryOf);
    missing.forEach(({ file, doc }, i) => (next[file]!.entries[doc] = added[i]!));
    const split = next as SplitFile[];
    const known = this.files;
    // Only the documents of this version stay: the cache never outgrows the files.
    this.files = new Map(split.map((file) => [file.fileName, file]));
    const previous = this.last;
    // The same documents in the same order: the same model (a file event after the SIGHUP that read it).
    if (previous && ordered && added.length === 0 && removed.length === 0 && previous.problems.length === 0)
      return previous;
    const record = (model: HeraldModel) => {
      if (previous && ordered)
        recordModelChange(previous.model, model, { added: merged(added), removed: merged(removed) });
    };
    const spliced =
      previous && ordered && this.lastClean && added.every(isClean) ? this.splice(split, known) : undefined;
    let parsed: ParsedConfig;
    if (spliced) {
      this.stats.spliced++;
      const model = joined(split.map((file) => spliced.get(file.fileName)!));
      record(model);
      const locations = new LazyLocations(() => locationsOf(split));
      parsed = { model, problems: this.validation.validate(model, (o) => locations.get(o)), locations };
      this.fileModels = spliced;
      this.lastClean = parsed.problems.length === 0;
    } else {
      this.stats.assembled++;
      const fileModels = new Map(split.map((file) => [file.fileName, fileModelOf(file.entries)]));
      parsed = assemble(split, joined([...fileModels.values()]), record, this.validation);
      this.fileModels = fileModels;
      this.lastClean = parsed.problems.length === 0 && split.every((file) => file.entries.every(isClean));
    }
    this.last = parsed;
    return parsed;
  }

  /** A file's documents as the last parse split it (what splitDocuments gives for its whole text). */
  documentTexts(fileName: string): string[] | undefined {
    const file = this.files.get(fileName);
    return file?.starts.map((at, i) =>
      file.bytes.toString('utf8', at, file.starts[i + 1] ?? file.bytes.length),
    );
  }

  /**
   * Each file's objects from its previous ones, when the last parse assembled them cleanly and every
   * document it decoded now is clean too: only the documents between the unchanged head and tail of each
   * file are taken out and put in (splice-model.ts). Undefined when a file cannot be spliced.
   */
  private splice(
    split: readonly SplitFile[],
    known: ReadonlyMap<string, SplitFile>,
  ): Map<string, HeraldModel> | undefined {
    const out = new Map<string, HeraldModel>();
    for (const file of split) {
      const was = known.get(file.fileName);
      const objects = this.fileModels.get(file.fileName);
      if (!was || !objects) return undefined;
      const { head, tail } = unchangedEnds(was.entries, file.entries, file.head, file.tail);
      const model =
        head === file.entries.length && head === was.entries.length
          ? objects
          : spliceModel(objects, was.entries, file.entries, (e) => e.model, head, tail);
      if (!model) return undefined;
      out.set(file.fileName, model);
    }
    return out;
  }
}

/** How many documents at the start and at the end of a file are the same entries as before. */
function unchangedEnds(
  before: readonly Entry[],
  after: readonly Entry[],
  atLeastHead: number,
  atLeastTail: number,
): { head: number; tail: number } {
  const most = Math.min(before.length, after.length);
  let head = atLeastHead;
  while (head < most && before[head] === after[head]) head++;
  let tail = Math.min(atLeastTail, most - head);
  while (tail < most - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { head, tail };
}

/** A document with objects of the model only: no problem, nothing merely checked. */
const isClean = (entry: Entry): boolean =>
  entry.parsed.problems.length === 0 && entry.checkedOnly.length === 0;

/** One file's model objects in document order. */
function fileModelOf(entries: readonly Entry[]): HeraldModel {
  const out = emptyModel();
  for (const entry of entries) for (const [field, objects] of entry.model) appendAll(out[field], objects);
  return out;
}

/** The model of several files' objects, in file order (one file: its own arrays). */
function joined(files: readonly HeraldModel[]): HeraldModel {
  if (files.length === 1) return { ...files[0]! };
  const out = emptyModel();
  for (const field of FIELDS)
    (out[field] as object[]) = ([] as object[]).concat(...files.map((f) => f[field]));
  return out;
}

/** A document's decoded objects, with the kinds it holds listed once (a document holds one object). */
interface Entry {
  parsed: ParsedObjects;
  model: Array<[keyof HeraldModel, object[]]>;
  checkedOnly: Array<[keyof HeraldModel, object[]]>;
}

function entryOf(parsed: ParsedObjects): Entry {
  const present = (model: HeraldModel) =>
    FIELDS.flatMap((field): Array<[keyof HeraldModel, object[]]> =>
      model[field].length > 0 ? [[field, model[field]]] : [],
    );
  return { parsed, model: present(parsed.model), checkedOnly: present(parsed.checkedOnly) };
}

/**
 * The previous documents kept by a match (matchDocuments), when they keep their relative order and each
 * is kept once; undefined otherwise (a move or a copy: no change is recorded, every stage works in full).
 */
function keptInOrder(matched: readonly number[], before: number): Uint8Array | undefined {
  const kept = new Uint8Array(before);
  let last = -1;
  for (const at of matched) {
    if (at === -1) continue;
    if (at <= last) return undefined;
    kept[at] = 1;
    last = at;
  }
  return kept;
}

/** The objects of these documents as one model (a change's added or removed side). */
function merged(entries: readonly Entry[]): HeraldModel {
  const out = emptyModel();
  for (const entry of entries) for (const [field, objects] of entry.model) appendAll(out[field], objects);
  return out;
}

interface SplitFile {
  fileName: string;
  /** The file as read, and where each document starts in it (each ends where the next starts). */
  bytes: Buffer;
  starts: number[];
  entries: Entry[];
  /** Documents at the start and at the end kept from the last version as they were. */
  head: number;
  tail: number;
}

/**
 * How many documents at the start and at the end of the last version are in the new bytes unchanged:
 * those within the bytes both versions share at their start (and the 4 bytes after, which tell that the
 * next document still starts there) or at their end (and the line break before). The documents between
 * are split and matched again.
 */
function unchangedDocuments(known: SplitFile, bytes: Buffer): { head: number; tail: number } {
  const count = known.entries.length;
  const old = known.bytes;
  if (old.length === bytes.length && old.equals(bytes)) return { head: count, tail: 0 };
  const prefix = commonPrefix(old, bytes);
  const suffix = commonSuffix(old, bytes, Math.min(old.length, bytes.length) - prefix);
  // head: documents 0..k-1 where document k starts (with its 4 bytes) inside the shared prefix
  let head = 0;
  for (let lo = 1, hi = count - 1; lo <= hi;) {
    const mid = (lo + hi) >>> 1;
    if (known.starts[mid]! + 4 <= prefix) {
      head = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // tail: documents from the first one (not in head) whose start and the line break before it are shared
  let first = count;
  for (let lo = head, hi = count - 1; lo <= hi;) {
    const mid = (lo + hi) >>> 1;
    if (known.starts[mid]! >= old.length - suffix + 1) {
      first = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return { head, tail: count - first };
}

async function decode(
  pieces: ReadonlyArray<{ text: string; fileName: string }>,
  budget: ParseBudget,
): Promise<ParsedObjects[] | undefined> {
  if (pieces.length === 0) return [];
  const bytes = pieces.reduce((sum, p) => sum + p.text.length, 0);
  if (bytes <= IN_THREAD_MAX_BYTES) return decodeDocuments(pieces);
  const result = await parseDocumentsInWorker(pieces, budget);
  return Array.isArray(result) ? result : undefined;
}

/**
 * The model of these documents in order. A model without problems of its own documents is validated
 * by `validation` (which checks only what changed when it can); `assembled` sees the model first, so
 * its change can be recorded before that.
 */
function assemble(
  split: readonly SplitFile[],
  model: HeraldModel,
  assembled: (model: HeraldModel) => void,
  validation: ModelValidation,
): ParsedConfig {
  const out = newParsed();
  out.model = model;
  let checkedOnly = false;
  for (const { entries } of split) {
    entries.forEach((entry, i) => {
      for (const [field, objects] of entry.checkedOnly) appendAll(out.checkedOnly[field], objects);
      checkedOnly ||= entry.checkedOnly.length > 0;
      for (const problem of entry.parsed.problems) out.problems.push({ ...problem, doc: i + 1 });
    });
  }
  assembled(out.model);
  const locations = new LazyLocations(() => locationsOf(split));
  if (checkedOnly || out.problems.length > 0) return finishParsed(out, locations);
  return { model: out.model, problems: validation.validate(out.model, (o) => locations.get(o)), locations };
}

function locationsOf(split: readonly SplitFile[]): Map<object, ObjectLocation> {
  const locations = new Map<object, ObjectLocation>();
  for (const { entries } of split) {
    entries.forEach((entry, i) => {
      // A document decoded alone is document 1: its objects are renumbered to where it is now.
      for (const [object, at] of entry.parsed.locations) locations.set(object, { ...at, doc: i + 1 });
    });
  }
  return locations;
}

/**
 * Where each object was read from, built on first use: only problems need it, and a reload served
 * from the cache has none (with problems, the whole files are parsed again for exact positions).
 */
class LazyLocations implements ReadonlyMap<object, ObjectLocation> {
  private built: Map<object, ObjectLocation> | undefined;

  constructor(private readonly build: () => Map<object, ObjectLocation>) {}

  private get map(): Map<object, ObjectLocation> {
    return (this.built ??= this.build());
  }
  get size() {
    return this.map.size;
  }
  get(key: object) {
    return this.map.get(key);
  }
  has(key: object) {
    return this.map.has(key);
  }
  forEach(
    callback: (value: ObjectLocation, key: object, map: ReadonlyMap<object, ObjectLocation>) => void,
    thisArg?: unknown,
  ): void {
    this.map.forEach((value, key) => callback.call(thisArg, value, key, this));
  }
  entries() {
    return this.map.entries();
  }
  keys() {
    return this.map.keys();
  }
  values() {
    return this.map.values();
  }
  [Symbol.iterator]() {
    return this.map[Symbol.iterator]();
  }
}

function appendAll(target: readonly object[], items: readonly object[]): void {
  for (const item of items) (target as object[]).push(item);
}
