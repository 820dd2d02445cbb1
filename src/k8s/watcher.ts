import { EventEmitter } from 'node:events';
import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from './client.js';

export interface ListResult {
  items: KubernetesObject[];
  metadata?: { resourceVersion?: string };
}

export interface WatcherOptions {
  /** API path of the collection, e.g. `/api/v1/services`. */
  path: string;
  /** Lists the collection (a client-node API call); items may be typed class instances. */
  list: () => Promise<ListResult>;
  labelSelector?: string;
  /** First delay before re-listing after an error; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Applied to every object before it enters the cache (listed or watched), e.g. to drop unread fields. */
  transform?: (obj: KubernetesObject) => KubernetesObject;
}

export type ChangeType = 'add' | 'update' | 'delete';

/** A Watch that reports when a watch request was accepted (so a resumed watch counts as connected). */
class TrackingWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly onConnected: () => void,
    private readonly transform: (obj: KubernetesObject) => KubernetesObject,
  ) {
    super(kc);
  }

  override async watch(...args: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    const [path, params, callback, done] = args;
    let failed = false;
    const transformed: typeof callback = (phase, apiObj: unknown, watchObj: unknown) =>
      callback(
        phase,
        phase === 'ERROR' || phase === 'BOOKMARK' ? apiObj : this.transform(apiObj as KubernetesObject),
        watchObj,
      );
    const ctl = await super.watch(path, params, transformed, (err: unknown) => {
      if (err) failed = true;
      done(err);
    });
    if (!failed) this.onConnected();
    return ctl;
  }
}

/** Plain JSON copy of an object (client-node lists return class instances with Date fields; watches do not). */
export function toPlain<T>(obj: T): T {
  if (typeof obj === 'object' && obj !== null && Object.getPrototypeOf(obj) === Object.prototype) return obj;
  return JSON.parse(JSON.stringify(obj)) as T;
}

/**
 * A client-node informer (ListWatch) that never gives up: after any error (API server down, network) it
 * re-lists with backoff, keeping the last known objects meanwhile; 410 Gone re-lists at once (client-node).
 * Emits `change` (type, object) with plain JSON objects, `synced` after each successful list, and
 * `error` (Error). `connected` tells whether the last list/watch attempt succeeded.
 */
export class ResourceWatcher extends EventEmitter {
  private readonly lw: ListWatch<KubernetesObject>;
  private stopped = true;
  private retryMs: number;
  private retryTimer?: NodeJS.Timeout;
  private syncedOnce = false;
  private syncWaiters: Array<() => void> = [];
  connected = false;

  constructor(
    kc: KubeConfig,
    private readonly opts: WatcherOptions,
  ) {
    super();
    this.retryMs = opts.retryMs ?? 200;
    const transform = opts.transform ?? ((obj: KubernetesObject) => obj);
    const list = async (): Promise<ListResult> => {
      const r = await opts.list();
      setImmediate(() => this.markSynced());
      return { metadata: r.metadata, items: r.items.map((i) => transform(toPlain(i))) };
    };
    const watch = new TrackingWatch(kc, () => this.markConnected(), transform);
    this.lw = new ListWatch(opts.path, watch, list as never, false, opts.labelSelector);
    for (const type of ['add', 'update', 'delete'] as const) {
      this.lw.on(type, (obj: KubernetesObject) => this.emit('change', type, toPlain(obj)));
    }
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  get path(): string {
    return this.opts.path;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  /** Starts listing and watching; resolves once the first list has been applied to the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.lw.start().catch((e: unknown) => this.onError(e));
    await this.waitSynced();
  }

  waitSynced(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    void this.lw.stop();
  }

  list(): readonly KubernetesObject[] {
    return this.lw.list();
  }

  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.lw.get(name, namespace);
  }

  private markConnected(): void {
    this.retryMs = this.opts.retryMs ?? 200;
    if (this.connected) return;
    this.connected = true;
    this.emit('connected');
  }

  private markSynced(): void {
    this.markConnected();
    this.syncedOnce = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
    this.emit('synced');
  }

  private onError(err: unknown): void {
    this.connected = false;
    if (this.listenerCount('error') > 0)
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const delay = this.retryMs;
    // Not unref'd: a speaker waiting for its first sync has nothing else keeping it alive; stop() clears it.
    this.retryMs = Math.min(this.retryMs * 2, this.opts.maxRetryMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }
}
