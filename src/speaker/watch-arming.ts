import type { VipDecision } from '../l2/desired.js';
import { type ArmedTakeovers, sameArming } from '../l2/watch/takeover.js';
import type { SpeakerL2 } from './l2-part.js';
import type { OwnerWatchPart } from './parts.js';

/**
 * Keeps the owner watch armed (l2/watch/takeover.ts) with the decisions the datapath holds, telling the
 * pulse thread only of changes, and remembers the owners whose VIPs the watch took on its own until a
 * round has written them: their holding mark stays on meanwhile (OwnershipLiveness), so an owner that
 * comes back keeps its gate shut while those entries may still answer.
 */
export class WatchArming {
  private armed: ArmedTakeovers = [];
  private from: readonly VipDecision[] | undefined;
  private version = -1;
  private readonly takenFrom = new Set<string>();

  /** After an apply: arm from these decisions when they or the interfaces changed. */
  arm(
    decisions: readonly VipDecision[],
    l2: Pick<SpeakerL2, 'armTakeovers' | 'interfacesVersion'>,
    watch: Pick<OwnerWatchPart, 'arm'>,
  ): void {
    if (!watch.arm || (decisions === this.from && l2.interfacesVersion() === this.version)) return;
    const { armed, version } = l2.armTakeovers(decisions);
    this.from = decisions;
    this.version = version;
    if (sameArming(armed, this.armed)) return;
    this.armed = armed;
    watch.arm(armed);
  }

  /** The watch took `owner`'s armed VIPs over and dropped what it had armed for it: arm again. */
  took(owner: string): void {
    this.takenFrom.add(owner);
    this.armed = [];
    this.from = undefined;
  }

  /** An apply is in: with nothing the watch took left unwritten, those owners are no longer held. */
  applied(stillPending: boolean): void {
    if (!stillPending) this.takenFrom.clear();
  }

  /** Owners whose VIPs the watch took that no round has written yet. */
  held(): ReadonlySet<string> {
    return this.takenFrom;
  }
}
