import { type KubeConnection, KubeApiError, type WatchEvent } from './connection.js';
import { WatchState } from './watch-state.js';

/** An object as the API server sends it. */
export type RawObject = Record<string, unknown>;

export interface ListWatchOptions<T> {
  /** API path of the collection, e.g. `/api/v1/services`. */
  path: string;
  labelSelector?: string;
  /**
   * What the cache keeps of each object, made when it arrives (listed or watched) and again only when its
   * resourceVersion changes; the object itself is not kept.
   */
  decode: (obj: RawObject) => T;
  /** First delay before re-listing after an error; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export type ChangeType = 'add' | 'update' | 'delete';

interface Identity {
  key: string;
  rv: string;
}

function identityOf(obj: RawObject): Identity {
  const m = (obj.metadata ?? {}) as { name?: string; namespace?: string; resourceVersion?: string };
  return { key: `${m.namespace ?? ''}/${m.name ?? ''}`, rv: m.resourceVersion ?? '' };
}

/**
 * List, then watch from the list's resourceVersion, over the speaker's own connection (k8s/connection.ts),
 * keeping only each object's decoded value (`decode`) and resourceVersion. It never gives up: after an
 * error (API server down, network) it re-lists with backoff and keeps the last known objects meanwhile;
 * 410 Gone re-lists at once. Events: `change` (type,
 * `namespace/name`) for every added, changed or removed object, `synced` after each list, `connected`,
 * `error`.
 */
export class ListWatcher<T> extends WatchState {
  private readonly cache = new Map<string, { rv: string; value: T }>();
  private abort = new AbortController();
  private stopped = true;

  constructor(
    private readonly conn: KubeConnection,
    private readonly opts: ListWatchOptions<T>,
  ) {
    super(opts.path, opts.retryMs, opts.maxRetryMs);
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

  /** The decoded objects, in the order they were first seen. */
  *values(): IterableIterator<T> {
    for (const entry of this.cache.values()) yield entry.value;
  }

  get size(): number {
    return this.cache.size;
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

  /**
   * Lists the collection, decoding each object as it arrives (KubeConnection.list: the list is never
   * held whole), then replaces the cache in one step and emits what changed; returns the list's version.
   * Objects whose version the cache has already are not decoded again.
   */
  private async relist(): Promise<string> {
    const seen = new Set<string>();
    const fresh: Array<[key: string, entry: { rv: string; value: T }]> = [];
    const list = await this.conn.list(this.query({}), (raw) => {
      const { key, rv } = identityOf(raw);
      seen.add(key);
      const old = this.cache.get(key);
      if (!old || old.rv !== rv || rv === '') fresh.push([key, { rv, value: this.opts.decode(raw) }]);
    });
    for (const key of this.cache.keys()) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('change', 'delete', key);
    }
    for (const [key, entry] of fresh) {
      const had = this.cache.has(key);
      this.cache.set(key, entry);
      this.emit('change', had ? 'update' : 'add', key);
    }
    this.markSynced();
    return list.resourceVersion ?? '';
  }

  /** Decodes a watched object into the cache. */
  private put(raw: RawObject): void {
    const { key, rv } = identityOf(raw);
    const had = this.cache.has(key);
    this.cache.set(key, { rv, value: this.opts.decode(raw) });
    this.emit('change', had ? 'update' : 'add', key);
  }

  private apply(e: WatchEvent): void {
    if (e.type !== 'DELETED') {
      this.put(e.object);
      return;
    }
    const { key } = identityOf(e.object);
    if (this.cache.delete(key)) this.emit('change', 'delete', key);
  }
}
