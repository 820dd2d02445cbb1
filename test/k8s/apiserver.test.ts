import t from 'tap';
import { TestApiServer } from './apiserver/server.js';
import {
  CoreV1Api,
  type KubernetesObject,
  type ListWatch,
  makeInformer,
  type V1Service,
} from '../../src/k8s/client.js';
import { eventually, Kubectl, kubeConfigFor } from './helpers/kube.js';

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
              color: {type: string, enum: [red, blue]}
          status:
            type: object
            properties:
              ready: {type: boolean}
`;

t.test('real kubectl against the test API server', async (t) => {
  const server = await TestApiServer.start();
  const kubectl = new Kubectl(server);
  t.teardown(async () => {
    kubectl.cleanup();
    await server.stop();
  });

  let r = await kubectl.run(['apply', '-f', kubectl.file('crd.yaml', crd)]);
  t.equal(r.code, 0, `apply CRD: ${r.stderr}`);
  r = await kubectl.run(['api-resources', '--api-group=example.dev', '-o', 'name']);
  t.match(r.stdout, /widgets\.example\.dev/, 'CRD resource discovered');

  const good =
    'apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w1, labels: {tier: a}}\nspec: {size: 3, color: red}\n';
  r = await kubectl.run(['apply', '-f', kubectl.file('w1.yaml', good)]);
  t.equal(r.code, 0, `apply CR: ${r.stderr}`);
  r = await kubectl.run(['apply', '-f', kubectl.file('w1.yaml', good)]);
  t.match(r.stdout, /unchanged/, 'second apply is a no-op');

  const bad =
    'apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 30, color: green}\n';
  r = await kubectl.run(['apply', '-f', kubectl.file('w2.yaml', bad)]);
  t.not(r.code, 0, 'invalid CR rejected');
  t.match(r.stderr, /spec\.size/, 'error names the bad field');
  t.match(r.stderr, /Unsupported value: "green"/);

  const unknown =
    'apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: 1, colour: red}\n';
  r = await kubectl.run(['apply', '-f', kubectl.file('w3.yaml', unknown)]);
  t.not(r.code, 0, 'unknown field rejected under strict validation');
  t.match(r.stderr, /unknown field "spec.colour"/);

  const typo = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndatta: {a: b}\n';
  r = await kubectl.run(['apply', '-f', kubectl.file('c1.yaml', typo)]);
  t.not(r.code, 0, 'unknown field in a built-in kind rejected');
  t.match(r.stderr, /unknown field "datta"/);

  r = await kubectl.run(['get', 'wd', '-l', 'tier=a', '-o', 'jsonpath={.items[*].metadata.name}']);
  t.equal(r.stdout, 'w1', 'label selector');
  r = await kubectl.run(['get', 'wd', '-l', 'tier!=a', '-o', 'jsonpath={.items[*].metadata.name}']);
  t.equal(r.stdout, '', 'negated label selector');
  r = await kubectl.run(['get', 'ns', '--field-selector', 'metadata.name=kube-system', '-o', 'name']);
  t.equal(r.stdout.trim(), 'namespace/kube-system', 'field selector metadata.name');

  // Status subresource: the main resource ignores status, /status ignores spec.
  r = await kubectl.run([
    'patch',
    'widget',
    'w1',
    '--type=merge',
    '-p',
    '{"spec":{"size":4},"status":{"ready":true}}',
  ]);
  t.equal(r.code, 0, r.stderr);
  let w1 = server.get('example.dev/v1', 'Widget', 'w1', 'default');
  t.equal((w1?.spec as { size: number }).size, 4);
  t.equal(w1?.status, undefined, 'status not written through the main resource');
  t.equal(w1?.metadata.generation, 2, 'generation bumped on spec change');
  r = await kubectl.run([
    'patch',
    'widget',
    'w1',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"spec":{"size":9},"status":{"ready":true}}',
  ]);
  t.equal(r.code, 0, r.stderr);
  w1 = server.get('example.dev/v1', 'Widget', 'w1', 'default');
  t.same(w1?.status, { ready: true });
  t.equal((w1?.spec as { size: number }).size, 4, 'spec not written through /status');
  t.equal(w1?.metadata.generation, 2, 'status writes do not bump generation');

  // Stale update → 409.
  const stale = { ...w1!, metadata: { ...w1!.metadata, resourceVersion: '2' } };
  r = await kubectl.run(['replace', '-f', kubectl.file('stale.json', JSON.stringify(stale))]);
  t.not(r.code, 0, 'replace with a stale resourceVersion fails');
  t.match(r.stderr, /Conflict|the object has been modified/);

  r = await kubectl.run([
    'apply',
    '-n',
    'nope',
    '-f',
    kubectl.file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n'),
  ]);
  t.match(r.stderr, /namespaces "nope" not found/, 'objects need an existing namespace');
  r = await kubectl.run(['delete', 'crd', 'widgets.example.dev']);
  t.equal(r.code, 0, r.stderr);
  t.throws(() => server.list('example.dev/v1', 'Widget'), 'CRD removal unregisters the resource');
});

t.test('client-node informers: bookmarks, 410 relist, restart', async (t) => {
  const server = await TestApiServer.start({ bookmarkIntervalMs: 100 });
  let stopInformer = async (): Promise<void> => undefined;
  t.teardown(async () => {
    await stopInformer();
    await server.stop();
  });
  const kc = kubeConfigFor(server);
  const core = kc.makeApiClient(CoreV1Api);
  const svc = (name: string, labels: Record<string, string> = {}): V1Service => ({
    metadata: { name, labels },
    spec: { ports: [{ port: 80 }] },
  });
  await core.createNamespacedService({ namespace: 'default', body: svc('a', { app: 'x' }) });
  const informer = makeInformer(
    kc,
    '/api/v1/services',
    () => core.listServiceForAllNamespaces({ labelSelector: 'app=x' }),
    'app=x',
  ) as ListWatch<V1Service>;
  const seen = new Map<string, KubernetesObject>();
  informer.on('add', (o) => seen.set(o.metadata!.name!, o));
  informer.on('update', (o) => seen.set(o.metadata!.name!, o));
  informer.on('delete', (o) => seen.delete(o.metadata!.name!));
  let stopped = false;
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void (stopped || informer.start()), 50);
  });
  stopInformer = async () => {
    stopped = true;
    await informer.stop();
  };
  await informer.start();
  await eventually('initial list', () => seen.has('a'));
  await core.createNamespacedService({ namespace: 'default', body: svc('b', { app: 'x' }) });
  await core.createNamespacedService({ namespace: 'default', body: svc('other') });
  await eventually('watch ADDED', () => seen.has('b'));
  t.notOk(seen.has('other'), 'label selector applies to the watch');

  // A label change out of the selector is a DELETED for this watch.
  const b = await core.readNamespacedService({ namespace: 'default', name: 'b' });
  b.metadata!.labels = { app: 'y' };
  await core.replaceNamespacedService({ namespace: 'default', name: 'b', body: b });
  await eventually('selector exit seen as delete', () => !seen.has('b'));

  // Bookmarks carry the current resourceVersion to watchers that asked for them.
  const rvBefore = Number(informer.latestResourceVersion());
  await core.createNamespacedService({ namespace: 'default', body: svc('unrelated') });
  const ac = new AbortController();
  const res = await fetch(
    `${server.url}/api/v1/namespaces/default/services?watch=true&allowWatchBookmarks=true&labelSelector=app%3Dnone&resourceVersion=${rvBefore}`,
    { signal: ac.signal },
  );
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  ac.abort();
  const bookmark = JSON.parse(new TextDecoder().decode(value).split('\n')[0]!) as {
    type: string;
    object: KubernetesObject;
  };
  t.equal(bookmark.type, 'BOOKMARK');
  t.ok(
    Number(bookmark.object.metadata?.resourceVersion) > rvBefore,
    'bookmark carries a newer resourceVersion',
  );

  // Compaction while the watch is closed → 410 Gone → relist, including a deletion it missed.
  server.compact();
  await server.restart(50);
  await core.deleteNamespacedService({ namespace: 'default', name: 'a' });
  await core.createNamespacedService({ namespace: 'default', body: svc('c', { app: 'x' }) });
  server.compact();
  await eventually(
    'relist after 410 sees the missed delete and add',
    () => !seen.has('a') && seen.has('c'),
    8000,
  );
  const listWithOldRv = await fetch(
    `${server.url}/api/v1/services?resourceVersion=2&resourceVersionMatch=Exact`,
  );
  t.equal(listWithOldRv.status, 410, 'exact list at a compacted resourceVersion is 410 Gone');
  const watchOld = await (await fetch(`${server.url}/api/v1/services?watch=true&resourceVersion=2`)).text();
  t.match(watchOld, /"code":410/, 'watch from a compacted resourceVersion yields an ERROR 410 event');
});
