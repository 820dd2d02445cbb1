import { EventEmitter } from 'node:events';

/**
 * What the two list-and-watch loops share (ListWatcher over the speaker's own connection, ResourceWatcher
 * over client-node): `connected` and `synced` state, waiters for the first list, the re-list backoff
 * (reset by every accepted list or watch), and the `connected`, `synced` and `error` events.
 */
export abstract class WatchState extends EventEmitter {
  connected = false;
  private syncedOnce = false;
  private syncWaiters: Array<() => void> = [];
  private retryMs: number;

  constructor(
    readonly path: string,
    private readonly firstRetryMs = 200,
    private readonly maxRetryMs = 5000,
  ) {
    super();
    this.retryMs = firstRetryMs;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  waitSynced(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  protected markConnected(): void {
    this.retryMs = this.firstRetryMs;
    if (this.connected) return;
    this.connected = true;
    this.emit('connected');
  }

  protected markSynced(): void {
    this.markConnected();
    this.syncedOnce = true;
    for (const w of this.syncWaiters.splice(0)) w();
    this.emit('synced');
  }

  /** Marks the loop disconnected and reports `err` to `error` listeners, if any. */
  protected reportError(err: unknown): void {
    this.connected = false;
    if (this.listenerCount('error') > 0)
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  /** The delay before the next re-list; each call doubles the next one, up to the maximum. */
  protected nextRetryDelay(): number {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    return delay;
  }
}
