import { randomUUID } from 'node:crypto';
import { clone, groupVersion, type KubeObject, type ResourceType } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  typeKey: string;
  type: WatchEventType;
  object: KubeObject;
  previous?: KubeObject;
}

export type EventListener = (e: StoredEvent) => void;

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: {
      name?: string;
      group?: string;
      kind?: string;
      causes?: Array<{ field?: string; message: string; reason?: string }>;
    },
  ) {
    super(message);
  }
}

export function typeKey(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${t.group}/${t.plural}`;
}

/**
 * The versioned object store: one global resourceVersion counter (like etcd's revision), a bounded event
 * history for watches, and compaction (history dropped → older resourceVersions answer 410 Gone).
 */
export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  /** Watches from a resourceVersion below this one get 410 Gone. */
  private compactedRv = 1;
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly historyLimit = 2000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  onEvent(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Drops all event history: every watch started from an earlier resourceVersion gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  private bucket(tk: string): Map<string, KubeObject> {
    let b = this.objects.get(tk);
    if (!b) {
      b = new Map();
      this.objects.set(tk, b);
    }
    return b;
  }

  get(t: ResourceType, ns: string, name: string): KubeObject | undefined {
    return this.bucket(typeKey(t)).get(`${ns}/${name}`);
  }

  list(t: ResourceType, ns?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(typeKey(t)).values())
      if (ns === undefined || o.metadata.namespace === ns) out.push(o);
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${String(a.metadata.name)}`.localeCompare(
        `${b.metadata.namespace ?? ''}/${String(b.metadata.name)}`,
      ),
    );
  }

  eventsSince(rv: number): StoredEvent[] {
    return this.history.filter((e) => e.rv > rv);
  }

  private record(e: StoredEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const l of this.listeners) l(e);
  }

  create(t: ResourceType, obj: KubeObject): KubeObject {
    const ns = t.namespaced ? String(obj.metadata.namespace) : '';
    const name = String(obj.metadata.name);
    const b = this.bucket(typeKey(t));
    const key = `${ns}/${name}`;
    if (b.has(key))
      throw new ApiError(
        409,
        'AlreadyExists',
        `${t.plural}${t.group ? `.${t.group}` : ''} "${name}" already exists`,
        { name, group: t.group, kind: t.plural },
      );
    const stored = clone(obj);
    stored.apiVersion = groupVersion(t);
    stored.kind = t.kind;
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.generation = 1;
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    this.record({ rv: this.rv, typeKey: typeKey(t), type: 'ADDED', object: stored });
    return clone(stored);
  }

  /** Replaces an object; the caller has already checked preconditions and merged immutable fields. */
  replace(t: ResourceType, obj: KubeObject, bumpGeneration: boolean): KubeObject {
    const ns = t.namespaced ? String(obj.metadata.namespace) : '';
    const key = `${ns}/${String(obj.metadata.name)}`;
    const b = this.bucket(typeKey(t));
    const previous = b.get(key);
    if (!previous)
      throw new ApiError(404, 'NotFound', `${t.plural} "${String(obj.metadata.name)}" not found`);
    const stored = clone(obj);
    if (JSON.stringify(stripRv(stored)) === JSON.stringify(stripRv(previous))) return clone(previous);
    stored.metadata.generation = Number(previous.metadata.generation ?? 1) + (bumpGeneration ? 1 : 0);
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    this.record({ rv: this.rv, typeKey: typeKey(t), type: 'MODIFIED', object: stored, previous });
    return clone(stored);
  }

  delete(t: ResourceType, ns: string, name: string): KubeObject {
    const b = this.bucket(typeKey(t));
    const key = `${t.namespaced ? ns : ''}/${name}`;
    const previous = b.get(key);
    if (!previous)
      throw new ApiError(404, 'NotFound', `${t.plural}${t.group ? `.${t.group}` : ''} "${name}" not found`, {
        name,
        group: t.group,
        kind: t.plural,
      });
    b.delete(key);
    const gone = clone(previous);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, typeKey: typeKey(t), type: 'DELETED', object: gone, previous });
    return clone(gone);
  }
}

function stripRv(o: KubeObject): KubeObject {
  const c = clone(o);
  delete c.metadata.resourceVersion;
  delete c.metadata.generation;
  delete c.metadata.managedFields;
  return c;
}
