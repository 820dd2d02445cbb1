import { PinDirLock } from '../datapath/pin-lock.js';

/**
 * Takes this host's pin directory for one speaker (an exclusive flock, see datapath/pin-lock.ts): the
 * first step of a start, before any listener binds, and of --cleanup, which must never run under a live
 * speaker. Throws a one-line error when another speaker holds it.
 */
export function lockPinDir(dir: string): { release(): void } {
  return PinDirLock.acquire(dir);
}
