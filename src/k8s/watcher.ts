import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from './client.js';
import { WatchState } from './watch-state.js';

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
export class ResourceWatcher extends WatchState {
  private readonly lw: ListWatch<KubernetesObject>;
  private stopped = true;
  private retryTimer?: NodeJS.Timeout;

  constructor(kc: KubeConfig, opts: WatcherOptions) {
    super(opts.path, opts.retryMs, opts.maxRetryMs);
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

  /** Starts listing and watching; resolves once the first list has been applied to the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.lw.start().catch((e: unknown) => this.onError(e));
    await this.waitSynced();
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

  private onError(err: unknown): void {
    this.reportError(err);
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const delay = this.nextRetryDelay();
    // Not unref'd: a speaker waiting for its first sync has nothing else keeping it alive; stop() clears it.
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.lw.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }
}
