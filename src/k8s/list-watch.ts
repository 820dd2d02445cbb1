import { type KubeConnection, KubeApiError, type WatchEvent } from './connection.js';
import { WatchState } from './watch-state.js';

/** The object fields the cache reads; everything else is whatever `transform` kept. */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListWatchOptions {
  /** API path of the collection, e.g. `/api/v1/services`. */
  path: string;
  labelSelector?: string;
  /** Applied to every object before it enters the cache (listed or watched): keep only what is read. */
  transform?: (obj: CachedObject) => CachedObject;
  /** First delay before re-listing after an error; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export type ChangeType = 'add' | 'update' | 'delete';

const keyOf = (o: CachedObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * List, then watch from the list's resourceVersion, over the speaker's own connection (k8s/connection.ts),
 * keeping one transformed copy of each object. It never gives up: after an error (API server down,
 * network) it re-lists with backoff and keeps the last known objects meanwhile; 410 Gone re-lists at
 * once. Same surface as ResourceWatcher (k8s/watcher.ts): `change` (type, object), `synced` after each
 * list, `connected`, `error`.
 */
export class ListWatcher extends WatchState {
  private readonly cache = new Map<string, CachedObject>();
  private readonly transform: (obj: CachedObject) => CachedObject;
  private abort = new AbortController();
  private stopped = true;

  constructor(
    private readonly conn: KubeConnection,
    private readonly opts: ListWatchOptions,
  ) {
    super(opts.path, opts.retryMs, opts.maxRetryMs);
    this.transform = opts.transform ?? ((o) => o);
  }

  /** Starts listing and watching; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitSynced();
    this.stopped = false;
    this.abort = new AbortController();
    void this.run(this.abort.signal);
    await this.waitSynced();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  list(): CachedObject[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): CachedObject | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.opts.labelSelector) q.set('labelSelector', this.opts.labelSelector);
    const s = q.toString();
    return s ? `${this.opts.path}?${s}` : this.opts.path;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        let rv = await this.relist();
        // Watch from rv until the server ends the stream (re-watch) or the history is gone (410: re-list).
        for (;;) {
          let gone = false;
          await this.conn.watch(
            this.query({ watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true' }),
            {
              onOpen: () => this.markConnected(),
              onEvent: (e) => {
                if (e.type === 'ERROR') {
                  if (Number(e.object.code) === 410) gone = true;
                  else
                    throw new KubeApiError(
                      Number(e.object.code),
                      Number(e.object.code),
                      String(e.object.message),
                    );
                  return;
                }
                const next = (e.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
                if (next) rv = next;
                if (e.type !== 'BOOKMARK') this.apply(e);
              },
            },
            signal,
          );
          if (signal.aborted || gone) break;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof KubeApiError && error.code === 410) continue;
        this.reportError(error);
        const delay = this.nextRetryDelay();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }
  }

  /** Lists the collection and replaces the cache, emitting what changed; returns the list's version. */
  private async relist(): Promise<string> {
    const list = await this.conn.request<{ items?: CachedObject[]; metadata?: { resourceVersion?: string } }>(
      'GET',
      this.query({}),
    );
    const seen = new Set<string>();
    for (const raw of list.items ?? []) {
      const obj = this.transform(raw);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('change', 'add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.emit('change', 'update', obj);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('change', 'delete', old);
    }
    this.markSynced();
    return list.metadata?.resourceVersion ?? '';
  }

  private apply(e: WatchEvent): void {
    const obj = this.transform(e.object as CachedObject);
    const key = keyOf(obj);
    if (e.type === 'DELETED') {
      if (this.cache.delete(key)) this.emit('change', 'delete', obj);
      return;
    }
    const had = this.cache.has(key);
    this.cache.set(key, obj);
    this.emit('change', had ? 'update' : 'add', obj);
  }
}
