/**
 * Long loops on the event loop in time slices. A slice runs until it has spent its budget, then yields
 * with setImmediate, so timers and I/O (the heartbeat, gossip, the owner watch) run before the next
 * slice: a loop over N items holds the event loop for about one budget at a time, whatever N.
 */
export interface SliceOptions {
  /** Work per slice before yielding, in ms (default 5). */
  budgetMs?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
  /** Stops the loop between slices: mapSliced rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const DEFAULT_SLICE_BUDGET_MS = 5;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TimeSlicer {
  readonly budgetMs: number;
  /** How many times the work gave the event loop back. */
  yields = 0;
  private readonly now: () => number;
  private readonly signal: AbortSignal | undefined;
  private sliceStart: number;

  constructor(opts: SliceOptions = {}) {
    this.budgetMs = opts.budgetMs ?? DEFAULT_SLICE_BUDGET_MS;
    this.now = opts.now ?? (() => performance.now());
    this.signal = opts.signal;
    this.sliceStart = this.now();
  }

  /** The current slice has spent its budget: the caller should `await pause()` before going on. */
  due(): boolean {
    return this.now() - this.sliceStart >= this.budgetMs;
  }

  /** Gives the event loop a turn and starts a new slice; throws when the signal aborted meanwhile. */
  async pause(): Promise<void> {
    this.yields++;
    await nextTurn();
    this.signal?.throwIfAborted();
    this.sliceStart = this.now();
  }

  /** Starts a new slice without yielding (after waiting on something else). */
  restart(): void {
    this.sliceStart = this.now();
  }
}

/** `items.map(fn)`, yielding between slices of `slicer`'s budget. */
export async function mapSliced<T, R>(
  items: readonly T[],
  fn: (item: T) => R,
  slicer: TimeSlicer,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    if (slicer.due()) await slicer.pause();
    out[i] = fn(items[i] as T);
  }
  return out;
}
