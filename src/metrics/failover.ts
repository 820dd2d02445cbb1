/** The membership event kinds the failover clock listens to. */
export type MembershipChange = 'join' | 'suspect' | 'alive' | 'dead' | 'leave' | 'update';

/**
 * Failover time (`herald_failover_seconds`): from the first suspicion of a VIP's previous owner to this
 * node taking the VIP over. Fed with membership changes and owner changes; observes into `histogram`.
 */
export class FailoverClock {
  private readonly suspectedAt = new Map<string, number>();

  constructor(private readonly histogram: { observe(seconds: number): void }) {}

  memberChanged(kind: MembershipChange, name: string, at = Date.now()): void {
    if (kind === 'update') return;
    if (kind === 'suspect' || kind === 'dead') {
      if (!this.suspectedAt.has(name)) this.suspectedAt.set(name, at);
    } else {
      this.suspectedAt.delete(name);
    }
  }

  /** A VIP moved from `from` to `to`; observed (and returned, in seconds) when this node took it over. */
  ownerChanged(from: string | undefined, to: string | undefined, localNode: string, at = Date.now()) {
    const since = from === undefined ? undefined : this.suspectedAt.get(from);
    if (since === undefined || to !== localNode) return undefined;
    const seconds = (at - since) / 1000;
    this.histogram.observe(seconds);
    return seconds;
  }
}
