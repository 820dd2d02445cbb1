import type { HeraldModel } from './types.js';

/** One document's objects, by the model field they belong to (a document holds one object). */
export type DocumentObjects = ReadonlyArray<readonly [keyof HeraldModel, readonly object[]]>;

/**
 * A file's objects (per field, in document order) after an edit that kept its first `head` and last
 * `tail` documents in place, from its objects before: each field's array is the previous one with the
 * objects of the documents in between replaced, found by identity (model objects are never shared
 * between documents), so the work is that of the changed documents and a search in native code — no
 * walk over the documents kept. A field that the changed documents do not touch keeps its array.
 * Undefined when `previous` does not hold the documents' objects where they should be (then assemble
 * the file from its documents).
 */
export function spliceModel<D>(
  previous: HeraldModel,
  before: readonly D[],
  after: readonly D[],
  objectsOf: (doc: D) => DocumentObjects,
  head: number,
  tail: number,
): HeraldModel | undefined {
  const removed = collect(before, objectsOf, head, before.length - tail);
  const added = collect(after, objectsOf, head, after.length - tail);
  const out = { ...previous };
  const fields = new Set([...removed.keys(), ...added.keys()]);
  const kept = neighbours(
    before,
    objectsOf,
    head,
    before.length - tail,
    new Set([...fields].filter((f) => !removed.has(f))),
  );
  for (const field of fields) {
    const was = previous[field] as readonly object[];
    const gone = removed.get(field) ?? [];
    const at = gone.length > 0 ? was.indexOf(gone[0]!) : insertionPoint(was, kept.get(field));
    if (at < 0 || at + gone.length > was.length) return undefined;
    // The removed objects must be exactly the run found there.
    for (let i = 1; i < gone.length; i++) if (was[at + i] !== gone[i]) return undefined;
    (out[field] as object[]) = was.slice(0, at).concat(added.get(field) ?? [], was.slice(at + gone.length));
  }
  return out;
}

/** A kept document's object next to where new objects of its field go. */
type Neighbour = { after: object } | { before: object };

function insertionPoint(was: readonly object[], neighbour: Neighbour | undefined): number {
  // No kept document holds the field: neither does the previous array.
  if (neighbour === undefined) return was.length === 0 ? 0 : -1;
  if ('after' in neighbour) {
    const i = was.indexOf(neighbour.after);
    return i < 0 ? -1 : i + 1;
  }
  return was.indexOf(neighbour.before);
}

function collect<D>(
  docs: readonly D[],
  objectsOf: (doc: D) => DocumentObjects,
  from: number,
  to: number,
): Map<keyof HeraldModel, object[]> {
  const out = new Map<keyof HeraldModel, object[]>();
  for (let i = from; i < to; i++) {
    for (const [field, objects] of objectsOf(docs[i]!)) {
      const list = out.get(field);
      if (list) list.push(...objects);
      else out.set(field, [...objects]);
    }
  }
  return out;
}

/**
 * For each field that the changed documents held none of, a kept document's object next to where new
 * ones go: the last of the nearest document before the change, or the first of the nearest one after it
 * (searched outwards from the change, so an edit near objects of its kind looks at few documents).
 */
function neighbours<D>(
  docs: readonly D[],
  objectsOf: (doc: D) => DocumentObjects,
  from: number,
  to: number,
  fields: ReadonlySet<keyof HeraldModel>,
): Map<keyof HeraldModel, Neighbour> {
  const found = new Map<keyof HeraldModel, Neighbour>();
  const missing = new Set(fields);
  for (
    let back = from - 1, ahead = to;
    missing.size > 0 && (back >= 0 || ahead < docs.length);
    back--, ahead++
  ) {
    if (back >= 0)
      for (const [field, objects] of objectsOf(docs[back]!))
        if (objects.length > 0 && missing.delete(field)) found.set(field, { after: objects.at(-1)! });
    if (ahead < docs.length)
      for (const [field, objects] of objectsOf(docs[ahead]!))
        if (objects.length > 0 && missing.delete(field)) found.set(field, { before: objects[0]! });
  }
  return found;
}
