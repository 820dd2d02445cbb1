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
