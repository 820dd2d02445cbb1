import type { ModelChange } from './model-change.js';
import { emptyModel, type HeraldModel } from './types.js';

const FIELDS = Object.keys(emptyModel()) as Array<keyof HeraldModel>;

/** Model objects are never changed once parsed, and a reload keeps the objects of unchanged documents. */
const textOf = new WeakMap<object, string>();

function objectText(object: object): string {
  let text = textOf.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    textOf.set(object, text);
  }
  return text;
}

/**
 * A model's content as a list of texts (one per object, in order), equal for equal models. A reload
 * compares the new fingerprint with the running one: the objects of documents that did not change are
 * the same objects, so only the new ones are serialized.
 */
export function modelFingerprint(model: HeraldModel): string[] {
  const out: string[] = [];
  for (const field of FIELDS) {
    out.push(`#${field}`);
    for (const object of model[field] as readonly object[]) out.push(objectText(object));
  }
  return out;
}

export function sameFingerprint(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}

/**
 * Whether a reload's recorded change (model-change.ts) certainly changes the model's content: in some
 * field, the texts of the objects added are not those of the objects removed (as multisets), so the
 * fingerprints differ without being built. False when they may be equal (an edit of spaces or comments,
 * a document moved): then compare the fingerprints.
 */
export function changesContent(change: ModelChange): boolean {
  for (const field of FIELDS) {
    const added = change.added[field] as readonly object[];
    const removed = change.removed[field] as readonly object[];
    if (added.length !== removed.length) return true;
    if (added.length === 0) continue;
    const counts = new Map<string, number>();
    for (const object of added) counts.set(objectText(object), (counts.get(objectText(object)) ?? 0) + 1);
    for (const object of removed) {
      const n = counts.get(objectText(object)) ?? 0;
      if (n === 0) return true;
      counts.set(objectText(object), n - 1);
    }
  }
  return false;
}
