/**
 * `compute` by key, kept for at most `max` keys; past that all are forgotten at once (keys may come from
 * peers, so what is kept stays bounded whatever they send).
 */
export function boundedMemo<T>(max: number, compute: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    if (known.has(key)) return known.get(key) as T;
    const value = compute(key);
    if (known.size >= max) known.clear();
    known.set(key, value);
    return value;
  };
}
