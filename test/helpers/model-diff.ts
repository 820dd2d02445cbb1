import { recordModelChange } from '../../src/config/model-change.js';
import { emptyModel, type HeraldModel } from '../../src/config/types.js';

const objectsOf = (model: HeraldModel): object[] =>
  Object.values(model).flatMap((objects: object[]) => objects);

/**
 * Records the change from `previous` to `next` by object identity, as the document cache does for a reload
 * (config/model-change.ts); like it, not when an object is in `next` twice (a copied document). Returns
 * whether it recorded.
 */
export function recordIdentityChange(previous: HeraldModel | undefined, next: HeraldModel): boolean {
  const now = objectsOf(next);
  const present = new Set(now);
  if (!previous || present.size !== now.length) return false;
  const before = new Set(objectsOf(previous));
  const side = (from: HeraldModel, keep: (o: object) => boolean) => {
    const out = emptyModel();
    for (const field of Object.keys(out) as Array<keyof HeraldModel>)
      (out[field] as object[]) = (from[field] as object[]).filter(keep);
    return out;
  };
  recordModelChange(previous, next, {
    added: side(next, (o) => !before.has(o)),
    removed: side(previous, (o) => !present.has(o)),
  });
  return true;
}
