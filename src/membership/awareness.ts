/**
 * Lifeguard local health ("awareness"): a member that misses nacks it expected is probably the slow one
 * itself (CPU starvation, a congested link), so it stretches its own probe timeouts instead of blaming
 * others. Score 0 is healthy; timeouts are multiplied by score + 1.
 */
export class Awareness {
  private current = 0;

  constructor(private readonly max: number) {}

  /** Adds delta (positive = worse), clamped to [0, max − 1]; returns the new score. */
  apply(delta: number): number {
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
    return this.current;
  }

  score(): number {
    return this.current;
  }

  scale(timeoutMs: number): number {
    return timeoutMs * (this.current + 1);
  }
}
