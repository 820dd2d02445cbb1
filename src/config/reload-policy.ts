import type { HeraldModel, Problem } from './types.js';

/**
 * Whether a valid new configuration may replace the running one. An editor truncating the file, or a
 * deploy writing an empty one, must not release every VIP at once: a new version without pools, while
 * the running one has some, is refused like an invalid file unless the operator allowed it.
 */
export function reloadRefusal(
  running: HeraldModel | undefined,
  next: HeraldModel,
  file: string,
  allowEmpty: boolean,
): Problem | undefined {
  const have = running?.pools.length ?? 0;
  if (allowEmpty || have === 0 || next.pools.length > 0) return undefined;
  return {
    file,
    doc: 0,
    path: '',
    message: `refusing to drop all ${have} pool${have === 1 ? '' : 's'}; use --allow-empty-config`,
  };
}
