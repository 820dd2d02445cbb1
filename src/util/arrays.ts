/** Same length and the same items (identity), in order; false for a missing `b`. */
export function sameItems<T>(a: readonly T[], b: readonly T[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
