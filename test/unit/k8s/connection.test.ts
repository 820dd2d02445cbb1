import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  inClusterSettings,
  KubeApiError,
  KubeConnection,
  kubeconfigSettings,
} from '../../../src/k8s/connection.js';

const { createServer } = process.getBuiltinModule('node:http');

const kubeconfig = (user: string, cluster = '    certificate-authority-data: Q0EtREFUQQ==') =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: other',
    '  cluster:',
    '    server: https://wrong:1',
    '- name: c',
    '  cluster:',
    '    server: https://10.0.0.1:6443',
    cluster,
    'users:',
    '- name: u',
    '  user:',
    user,
    'contexts:',
    '- name: x',
    '  context: { cluster: other, user: u }',
    '- name: ctx',
    '  context: { cluster: c, user: u, namespace: herald-system }',
    'current-context: ctx',
    '',
  ].join('\n');

t.test('kubeconfig: the current context’s server, CA, token and namespace', async (t) => {
  const s = kubeconfigSettings(kubeconfig('    token: abc'));
  t.equal(s.server, 'https://10.0.0.1:6443');
  t.equal(s.ca?.toString(), 'CA-DATA');
  t.equal(s.token, 'abc');
  t.equal(s.namespace, 'herald-system');
  t.notOk(s.insecureSkipTlsVerify);
});

t.test('kubeconfig: client certificate files relative to the kubeconfig, insecure flag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-m-kubeconfig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cert.pem'), 'CERT');
  writeFileSync(join(dir, 'key.pem'), 'KEY');
  const path = join(dir, 'config');
  const s = kubeconfigSettings(
    kubeconfig(
      '    client-certificate: cert.pem\n    client-key: key.pem',
      '    insecure-skip-tls-verify: true',
    ),
    path,
  );
  t.equal(s.cert?.toString(), 'CERT');
  t.equal(s.key?.toString(), 'KEY');
  t.equal(s.insecureSkipTlsVerify, true);
  t.equal(s.ca, undefined);
});

t.test('kubeconfig: exec plugins and a missing context fail loudly', async (t) => {
  t.throws(() => kubeconfigSettings(kubeconfig('    exec: { command: aws }')), /exec and auth-provider/);
  t.throws(() => kubeconfigSettings('current-context: nope\n'), /no current context/);
});

t.test(
  'in-cluster: service host and port, the token file (re-read on rotation), CA, namespace',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-m-sa-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'namespace'), 'kube-lb\n');
    const s = inClusterSettings({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    t.equal(s.server, 'https://[fd00::1]:443');
    t.equal(s.ca?.toString(), 'CA');
    t.equal(s.tokenFile, join(dir, 'token'));
    t.equal(
      s.token,
      undefined,
      'the token is read from the file at each request (cached a minute), never kept',
    );
    t.equal(s.namespace, 'kube-lb');
    t.throws(() => inClusterSettings({}, dir), /not in a cluster/);
  },
);

t.test(
  'requests carry the token file’s current token (a rotated token is used), JSON both ways',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-m-token-'));
    const seen: Array<{ auth?: string; body: string; type?: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body, type: req.headers['content-type'] });
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', message: 'not there' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: req.url }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'one\n');
    const conn = new KubeConnection({ server: `http://127.0.0.1:${port}`, tokenFile }, 0);
    t.teardown(() => {
      conn.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    t.same(await conn.request('GET', '/a'), { ok: '/a' });
    writeFileSync(tokenFile, 'two\n');
    await conn.request('PATCH', '/b', { x: 1 }, 'application/merge-patch+json');
    t.same(
      seen.map((s) => s.auth),
      ['Bearer one', 'Bearer two'],
    );
    t.equal(seen[1]?.body, '{"x":1}');
    t.equal(seen[1]?.type, 'application/merge-patch+json');
    const error = await conn.request('GET', '/missing').catch((e: unknown) => e);
    t.ok(error instanceof KubeApiError && error.code === 404 && /not there/.test(error.message));
  },
);

t.test('a list streams: each item reaches the caller before the rest of the response is sent', async (t) => {
  let sendRest: (() => void) | undefined;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/broken')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"metadata":{},"items":[{"a":1},{"b":');
      return;
    }
    if (req.url?.startsWith('/gone')) {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', message: 'too old resource version' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(
      '{"kind":"ServiceList","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"a"}},',
    );
    sendRest = () => res.end('{"metadata":{"name":"b"}}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const conn = new KubeConnection({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  t.teardown(() => {
    conn.close();
    server.close();
  });
  const names: string[] = [];
  const listed = conn.list('/api/v1/services', (item) => {
    names.push((item.metadata as { name: string }).name);
    if (names.length === 1) sendRest?.();
  });
  t.same(await listed, { resourceVersion: '42' });
  t.same(names, ['a', 'b'], 'b was sent only after a had been handed over');
  const gone = await conn.list('/gone', () => undefined).catch((e: unknown) => e);
  t.ok(
    gone instanceof KubeApiError && gone.code === 410 && /too old/.test(gone.message),
    '410 as KubeApiError',
  );
  await t.rejects(
    conn.list('/broken', () => undefined),
    SyntaxError,
    'a response cut short',
  );
  await t.rejects(
    conn.list('/api/v1/services', () => {
      throw new Error('decode failed');
    }),
    /decode failed/,
    'an item the caller cannot take',
  );
});
