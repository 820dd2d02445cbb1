import { parseDuration } from '../config/duration.js';
import type { L2Advertisement } from '../config/types.js';
import { DEFAULT_PLACEMENT_KNOBS, type PlacementKnobs } from './decide.js';

export type L2PlacementSpec = NonNullable<L2Advertisement['spec']['placement']>;

/** Knobs of a `spec.placement` with `by: bandwidth` (validated config: durations parse), defaults filled. */
export function placementKnobs(spec: L2PlacementSpec): PlacementKnobs {
  const ms = (text: string | undefined, fallback: number) =>
    text === undefined ? fallback : (parseDuration(text) ?? fallback);
  return {
    ...DEFAULT_PLACEMENT_KNOBS,
    thresholdRatio: spec.utilizationThreshold ?? DEFAULT_PLACEMENT_KNOBS.thresholdRatio,
    sustainMs: ms(spec.sustain, DEFAULT_PLACEMENT_KNOBS.sustainMs),
    minGainRatio: spec.minGain ?? DEFAULT_PLACEMENT_KNOBS.minGainRatio,
    minMoveIntervalMs: ms(spec.minMoveInterval, DEFAULT_PLACEMENT_KNOBS.minMoveIntervalMs),
  };
}
