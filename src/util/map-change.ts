/**
 * A map (or a list of items keyed by IP, such as VIP groups) derived from an earlier one by a few known
 * changes, told to whoever kept state for the earlier one (as config/model-change.ts does for models):
 * the keys whose entries may differ, added and removed ones included. Only one step is kept, so they do
 * not chain in memory.
 */
const recorded = new WeakMap<object, { previous: object; keys: ReadonlySet<unknown> }>();

export function recordMapChange<K>(previous: object, next: object, keys: ReadonlySet<K>): void {
  recorded.delete(previous);
  recorded.set(next, { previous, keys });
}

/**
 * The keys whose entries may differ from `previous` to `next` when `next` was recorded as made from
 * `previous`; undefined otherwise (compare every entry then).
 */
export function mapChange<K = string>(
  previous: object | undefined,
  next: object,
): ReadonlySet<K> | undefined {
  const r = recorded.get(next);
  return r !== undefined && previous !== undefined && r.previous === previous
    ? (r.keys as ReadonlySet<K>)
    : undefined;
}
