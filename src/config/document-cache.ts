import { splitDocuments } from './documents.js';
import { decodeDocuments, finishParsed, newParsed, type ParsedConfig, type ParsedObjects } from './parse.js';
import { parseDocumentsInWorker, type ParseBudget } from './parse-off-thread.js';
import type { HeraldModel } from './types.js';

/** New documents up to this size are decoded on the calling thread: a few ms, no thread start. */
export const IN_THREAD_MAX_BYTES = 16 * 1024;

/**
 * Reloads that decode only what changed: each YAML document's objects are kept, keyed by the document's
 * text, and a new version of the files decodes only the documents not seen before (on the calling
 * thread when they are small, else on a parsing thread within the budget). The cross-object checks
 * always run over the whole assembled model.
 *
 * The result is exact only without problems: document numbers and line positions of problems come from a
 * parse of the whole files, so a caller that gets problems (or `undefined`, when the files cannot be split
 * exactly) parses the whole files instead.
 */
export class DocumentCache {
  private entries = new Map<string, ParsedObjects>();

  async parse(
    files: ReadonlyArray<{ text: string; fileName: string }>,
    budget: ParseBudget,
  ): Promise<ParsedConfig | undefined> {
    const split: Array<{ fileName: string; keys: string[] }> = [];
    const missing = new Map<string, { text: string; fileName: string }>();
    for (const file of files) {
      const pieces = splitDocuments(file.text);
      if (!pieces) return undefined;
      const keys = pieces.map((text) => `${file.fileName}\0${text}`);
      keys.forEach((key, i) => {
        if (!this.entries.has(key)) missing.set(key, { text: pieces[i]!, fileName: file.fileName });
      });
      split.push({ fileName: file.fileName, keys });
    }
    const decoded = await decode([...missing.values()], budget);
    if (!decoded) return undefined;
    const next = new Map<string, ParsedObjects>();
    [...missing.keys()].forEach((key, i) => next.set(key, decoded[i]!));
    for (const { keys } of split)
      for (const key of keys) next.set(key, next.get(key) ?? this.entries.get(key)!);
    // Only the documents of this version stay: the cache never outgrows the files.
    this.entries = next;
    return assemble(split, next);
  }
}

async function decode(
  pieces: ReadonlyArray<{ text: string; fileName: string }>,
  budget: ParseBudget,
): Promise<ParsedObjects[] | undefined> {
  const bytes = pieces.reduce((sum, p) => sum + p.text.length, 0);
  if (bytes <= IN_THREAD_MAX_BYTES) return decodeDocuments(pieces);
  const result = await parseDocumentsInWorker(pieces, budget);
  return Array.isArray(result) ? result : undefined;
}

function assemble(
  split: ReadonlyArray<{ fileName: string; keys: readonly string[] }>,
  entries: ReadonlyMap<string, ParsedObjects>,
): ParsedConfig {
  const out = newParsed();
  for (const { keys } of split) {
    keys.forEach((key, i) => {
      const entry = entries.get(key)!;
      for (const field of Object.keys(out.model) as Array<keyof HeraldModel>) {
        (out.model[field] as object[]).push(...entry.model[field]);
        (out.checkedOnly[field] as object[]).push(...entry.checkedOnly[field]);
      }
      out.problems.push(...entry.problems.map((p) => ({ ...p, doc: i + 1 })));
      for (const [obj, at] of entry.locations) out.locations.set(obj, { ...at, doc: i + 1 });
    });
  }
  return finishParsed(out);
}
