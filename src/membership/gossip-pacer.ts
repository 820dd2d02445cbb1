/**
 * Paces gossip rounds: they run only while something is queued. News arms the pacer (the first round
 * at once, then one every interval) and it disarms itself after a round that leaves nothing queued, so
 * a quiet member has no gossip timer waking it up (at fast-lan's 40 ms that timer was over a third of a
 * quiet member's wake-ups, each costing CPU for nothing).
 */
export class GossipPacer {
  private running = false;
  private kick: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly intervalMs: number,
    /** One gossip round. */
    private readonly round: () => void,
    /** True while something waits to be gossiped. */
    private readonly pending: () => boolean,
  ) {}

  start(): void {
    this.running = true;
    this.nudge();
  }

  stop(): void {
    this.running = false;
    if (this.kick) clearImmediate(this.kick);
    if (this.timer) clearInterval(this.timer);
    this.kick = undefined;
    this.timer = undefined;
  }

  /** Something was queued: arm the rounds unless they run already. */
  nudge(): void {
    if (!this.running || this.armed() || !this.pending()) return;
    this.kick = setImmediate(() => {
      this.kick = undefined;
      this.round();
      if (!this.running || !this.pending()) return;
      this.timer = setInterval(() => {
        this.round();
        if (this.pending()) return;
        clearInterval(this.timer);
        this.timer = undefined;
      }, this.intervalMs);
      this.timer.unref?.();
    });
  }

  armed(): boolean {
    return this.kick !== undefined || this.timer !== undefined;
  }
}
