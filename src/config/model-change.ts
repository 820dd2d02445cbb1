import { emptyModel, type HeraldModel } from './types.js';

/**
 * What one reload added to and removed from the model, by object identity: model objects are never
 * changed once parsed, and a reload keeps the objects of every document it did not touch, so an edited
 * object is one removed and one added. The objects kept are in the same relative order as before.
 */
export interface ModelChange {
  added: HeraldModel;
  removed: HeraldModel;
}

const recorded = new WeakMap<HeraldModel, { previous: HeraldModel; change: ModelChange }>();

/**
 * Notes how `next` differs from `previous` (the source that built both knows it without comparing them).
 * Only one step is kept: `previous` forgets its own record, so the models do not chain in memory.
 */
export function recordModelChange(previous: HeraldModel, next: HeraldModel, change: ModelChange): void {
  recorded.delete(previous);
  recorded.set(next, { previous, change });
}

/**
 * The change from `previous` to `next` when it was recorded (one reload apart); undefined otherwise: the
 * caller then compares or computes in full. A stage that kept state for `previous` uses it to redo only
 * what changed.
 */
export function modelChange(previous: HeraldModel | undefined, next: HeraldModel): ModelChange | undefined {
  const r = recorded.get(next);
  return r !== undefined && previous !== undefined && r.previous === previous ? r.change : undefined;
}

/** Whether the change touches only these fields of the model. */
export function changesOnly(change: ModelChange, fields: ReadonlyArray<keyof HeraldModel>): boolean {
  const allowed = new Set<string>(fields);
  for (const side of [change.added, change.removed]) {
    for (const [field, objects] of Object.entries(side) as Array<[keyof HeraldModel, object[]]>) {
      if (objects.length > 0 && !allowed.has(field)) return false;
    }
  }
  return true;
}

export const noChange = (): ModelChange => ({ added: emptyModel(), removed: emptyModel() });
