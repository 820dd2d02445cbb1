import type { HealthTiming } from '../config/index.js';

/** One probe's outcome: passed or not, and in words what happened ("connect refused", "HTTP 503"). */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/**
 * A check's verdict with hysteresis. `known` is false until the first result, which counts at once (a
 * node starting with a dead server must not hold the VIP for fall × interval); after that a passing
 * check fails only after `fall` failures in a row and a failing one passes only after `rise` passes in a
 * row, so a flapping service moves its VIP at most once per min(fall, rise) intervals.
 */
export interface CheckState {
  known: boolean;
  passing: boolean;
  /** Results in a row that disagree with `passing`. */
  streak: number;
  /** What the last failure said (kept while failing, for status and gossip). */
  detail: string;
}

export const INITIAL_CHECK_STATE: CheckState = { known: false, passing: true, streak: 0, detail: '' };

export function stepCheck(state: CheckState, result: ProbeResult, timing: HealthTiming): CheckState {
  if (!state.known)
    return { known: true, passing: result.ok, streak: 0, detail: result.ok ? '' : result.detail };
  if (result.ok === state.passing) {
    return { ...state, streak: 0, detail: state.passing ? '' : result.detail };
  }
  const streak = state.streak + 1;
  const needed = state.passing ? timing.fall : timing.rise;
  if (streak < needed) return { ...state, streak, detail: state.passing ? result.detail : state.detail };
  return { known: true, passing: result.ok, streak: 0, detail: result.ok ? '' : result.detail };
}
