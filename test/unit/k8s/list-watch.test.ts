import t from 'tap';
import type { KubeConnection, WatchEvent } from '../../../src/k8s/connection.js';
import { ListWatcher, type RawObject } from '../../../src/k8s/list-watch.js';

const obj = (name: string, rv: string, data = name): RawObject => ({
  metadata: { name, namespace: 'default', resourceVersion: rv },
  data,
});

/** A connection whose lists are `lists` (one per call, the last repeated) and whose watch streams `push`. */
function fakeConnection(lists: RawObject[][]) {
  let onEvent: ((e: WatchEvent) => void) | undefined;
  let endWatch: (() => void) | undefined;
  let listCalls = 0;
  const conn = {
    list: async (_path: string, onItem: (item: RawObject) => void) => {
      const items = lists[Math.min(listCalls, lists.length - 1)] ?? [];
      listCalls++;
      for (const item of items) onItem(item);
      return { resourceVersion: String(listCalls) };
    },
    watch: (_path: string, handlers: { onOpen(): void; onEvent(e: WatchEvent): void }, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        handlers.onOpen();
        onEvent = handlers.onEvent;
        endWatch = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
  };
  return {
    conn: conn as unknown as KubeConnection,
    push: (e: WatchEvent) => onEvent?.(e),
    /** Ends the watch with 410 Gone: the watcher lists again. */
    expire: () => {
      onEvent?.({ type: 'ERROR', object: { code: 410 } });
      endWatch?.();
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
};

t.test('the cache holds what decode made of each object, decoded once per resourceVersion', async (t) => {
  const decoded: string[] = [];
  const fake = fakeConnection([
    [obj('a', '1'), obj('b', '2')],
    [obj('a', '1'), obj('b', '5', 'b2'), obj('c', '6')],
  ]);
  const w = new ListWatcher(fake.conn, {
    path: '/api/v1/services',
    decode: (raw) => {
      const name = (raw.metadata as { name: string }).name;
      decoded.push(`${name}@${(raw.metadata as { resourceVersion: string }).resourceVersion}`);
      return { name, data: String(raw.data) };
    },
  });
  const changes: string[] = [];
  let lists = 0;
  w.on('change', (type: string, key: string) => changes.push(`${type} ${key}`));
  w.on('synced', () => lists++);
  await w.start();
  t.same(
    [...w.values()],
    [
      { name: 'a', data: 'a' },
      { name: 'b', data: 'b' },
    ],
  );
  t.same(changes, ['add default/a', 'add default/b']);

  fake.push({ type: 'MODIFIED', object: obj('a', '3', 'a2') });
  fake.push({ type: 'DELETED', object: obj('b', '4') });
  fake.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '4' } } });
  t.same([...w.values()], [{ name: 'a', data: 'a2' }]);
  t.same(changes.slice(2), ['update default/a', 'delete default/b']);

  // A re-list after 410 Gone: unchanged versions are not decoded again, the rest is reconciled.
  changes.length = 0;
  decoded.length = 0;
  fake.expire();
  await until(() => lists === 2);
  t.same(decoded, ['a@1', 'b@5', 'c@6'], 'a is back at version 1 (the list says so): decoded again');
  t.same(changes, ['update default/a', 'add default/b', 'add default/c']);
  decoded.length = 0;
  changes.length = 0;
  fake.expire();
  await until(() => lists === 3);
  t.same(decoded, [], 'the same list again decodes nothing');
  t.same(changes, [], 'and changes nothing');
  t.equal(w.size, 3);
  w.stop();
});
