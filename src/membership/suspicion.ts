/**
 * Lifeguard suspicion: a suspected member is declared dead when its timeout runs out; the timeout starts
 * high and shrinks as other members independently confirm the suspicion.
 */

export interface SuspicionBounds {
  /** Confirmations that bring the timeout down to the minimum. */
  k: number;
  minMs: number;
  maxMs: number;
}

/**
 * Bounds for a cluster of n members: min = mult × max(1, log10 n) × probeInterval, max = maxMult × min,
 * k = mult − 2 (0 when fewer than k other members could confirm).
 */
export function suspicionBounds(
  n: number,
  t: { suspicionMult: number; suspicionMaxTimeoutMult: number; probeIntervalMs: number },
): SuspicionBounds {
  let k = t.suspicionMult - 2;
  if (n - 2 < k) k = 0;
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = Math.floor(t.suspicionMult * nodeScale * t.probeIntervalMs);
  return { k: Math.max(0, k), minMs, maxMs: t.suspicionMaxTimeoutMult * minMs };
}

/** Total timeout after c confirmations: max(min, max − ln(c+1)/ln(k+1) × (max − min)). */
export function suspicionTimeout(c: number, b: SuspicionBounds): number {
  if (b.k < 1) return b.minMs;
  const frac = Math.log(c + 1) / Math.log(b.k + 1);
  const raw = b.maxMs - frac * (b.maxMs - b.minMs);
  return Math.max(b.minMs, Math.floor(raw));
}

/** A running suspicion of one member. Time and timers are injectable for tests. */
export class Suspicion {
  private readonly confirmers = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly startedAt: number;
  private fired = false;

  constructor(
    from: string,
    private readonly bounds: SuspicionBounds,
    private readonly onTimeout: (confirmations: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    // The member who raised the suspicion does not count as a confirmation.
    this.confirmers.add(from);
    this.startedAt = now();
    this.schedule(this.bounds.k < 1 ? this.bounds.minMs : this.bounds.maxMs);
  }

  /** Counts an independent confirmation; returns true if it was new (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.fired || this.confirmers.has(from)) return false;
    if (this.confirmations() >= this.bounds.k) return false;
    this.confirmers.add(from);
    const total = suspicionTimeout(this.confirmations(), this.bounds);
    this.schedule(total - (this.now() - this.startedAt));
    return true;
  }

  confirmations(): number {
    return this.confirmers.size - 1;
  }

  /** Remaining time in ms (for status/tests). */
  remainingMs(): number {
    return suspicionTimeout(this.confirmations(), this.bounds) - (this.now() - this.startedAt);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.fired = true;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        if (this.fired) return;
        this.fired = true;
        this.onTimeout(this.confirmations());
      },
      Math.max(0, delayMs),
    );
  }
}
