/** The first index of `sorted` (ascending) whose item is not below `value`: where `value` goes in. */
export function lowerBound<T extends number | string>(sorted: readonly T[], value: T): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as T) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** lowerBound over items sorted by their `ip` (text order): where an item of `ip` is or goes. */
export function lowerBoundByIp(items: ReadonlyArray<{ ip: string }>, ip: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as { ip: string }).ip < ip) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
