import { matchDocuments, splitDocuments } from './documents.js';
import { decodeDocuments, finishParsed, newParsed, type ParsedConfig, type ParsedObjects } from './parse.js';
import { parseDocumentsInWorker, type ParseBudget } from './parse-off-thread.js';
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

  async parse(
    files: ReadonlyArray<{ text: string; fileName: string }>,
    budget: ParseBudget,
  ): Promise<ParsedConfig | undefined> {
    const next: Array<{ fileName: string; pieces: string[]; entries: Array<ParsedObjects | undefined> }> = [];
    const missing: Array<{ text: string; fileName: string; file: number; doc: number }> = [];
    for (const file of files) {
      const pieces = splitDocuments(file.text);
      if (!pieces) return undefined;
      const known = this.files.get(file.fileName);
      const matched = matchDocuments(known?.pieces ?? [], pieces);
      const entries = matched.map((at) => (at === -1 ? undefined : known!.entries[at]));
      entries.forEach((entry, doc) => {
        if (!entry) missing.push({ text: pieces[doc]!, fileName: file.fileName, file: next.length, doc });
      });
      next.push({ fileName: file.fileName, pieces, entries });
    }
    const decoded = await decode(missing, budget);
    if (!decoded) return undefined;
    missing.forEach(({ file, doc }, i) => (next[file]!.entries[doc] = decoded[i]!));
    const split = next as SplitFile[];
    // Only the documents of this version stay: the cache never outgrows the files.
    this.files = new Map(split.map((file) => [file.fileName, file]));
    return assemble(split);
  }
}

interface SplitFile {
  fileName: string;
  pieces: string[];
  entries: ParsedObjects[];
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

function assemble(split: readonly SplitFile[]): ParsedConfig {
  const out = newParsed();
  for (const { entries } of split) {
    entries.forEach((entry, i) => {
      for (const field of FIELDS) {
        appendAll(out.model[field], entry.model[field]);
        appendAll(out.checkedOnly[field], entry.checkedOnly[field]);
      }
      for (const problem of entry.problems) out.problems.push({ ...problem, doc: i + 1 });
    });
  }
  return finishParsed(out, new LazyLocations(() => locationsOf(split)));
}

function locationsOf(split: readonly SplitFile[]): Map<object, ObjectLocation> {
  const locations = new Map<object, ObjectLocation>();
  for (const { entries } of split) {
    entries.forEach((entry, i) => {
      // A document decoded alone is document 1: its objects are renumbered to where it is now.
      for (const [object, at] of entry.locations) locations.set(object, { ...at, doc: i + 1 });
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
