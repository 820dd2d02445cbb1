import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runProbe } from '../../../src/health/probe.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

requirePrerequisites({ commands: ['openssl', 'sh', 'sleep'] });

// The timeout of probes that get an answer: a loaded host took over 200 ms for the first HTTP request of
// the process. Only the cases about the timeout itself use a short one.
const ANSWERS_MS = 10_000;

const listen = async (server: {
  listen: (p: number, h: string, cb: () => void) => unknown;
  address: () => unknown;
}) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};
const closeLater = (
  t: { teardown: (fn: () => void) => void },
  server: { close: () => unknown; closeAllConnections?: () => void },
) =>
  t.teardown(() => {
    server.closeAllConnections?.();
    server.close();
  });

t.test('tcp', async (t) => {
  const server = createTcp((s) => s.destroy());
  const port = await listen(server);
  closeLater(t, server);
  t.same(await runProbe({ kind: 'tcp', port }, { timeoutMs: ANSWERS_MS }), { ok: true, detail: 'connected' });
  const closed = createTcp();
  const gone = await listen(closed);
  await new Promise((r) => closed.close(r));
  t.same(await runProbe({ kind: 'tcp', port: gone }, { timeoutMs: ANSWERS_MS }), {
    ok: false,
    detail: 'connect refused',
  });
});

const statusServer = (make: typeof createHttp, opts = {}): Server =>
  make(opts, (req, res) => {
    if (req.url === '/hang') return;
    const code = Number(req.url?.slice(1));
    res.writeHead(code, code === 302 ? { location: '/200' } : {});
    res.end('x');
  });

t.test('http: 2xx and 3xx pass, others fail, a silent server times out', async (t) => {
  const server = statusServer(createHttp);
  const port = await listen(server);
  closeLater(t, server);
  for (const [path, ok, detail] of [
    ['/200', true, 'HTTP 200'],
    ['/204', true, 'HTTP 204'],
    ['/302', true, 'HTTP 302'],
    ['/404', false, 'HTTP 404'],
    ['/503', false, 'HTTP 503'],
  ] as const) {
    t.same(await runProbe({ kind: 'http', port, path }, { timeoutMs: ANSWERS_MS }), { ok, detail }, path);
  }
  t.same(
    await runProbe({ kind: 'http', port, path: '/hang' }, { timeoutMs: 200 }),
    { ok: false, detail: 'no answer within 200ms' },
    '/hang',
  );
});

t.test('https with a self-signed certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-f-hc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
    ].concat([
      '-subj',
      '/CN=somewhere.example',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  const server = statusServer(createHttps, {
    key: readFileSync(join(dir, 'key.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
  });
  const port = await listen(server);
  closeLater(t, server);
  t.same(await runProbe({ kind: 'https', port, path: '/200' }, { timeoutMs: ANSWERS_MS }), {
    ok: true,
    detail: 'HTTP 200',
  });
  t.same(await runProbe({ kind: 'https', port, path: '/500' }, { timeoutMs: ANSWERS_MS }), {
    ok: false,
    detail: 'HTTP 500',
  });
  t.equal(
    (await runProbe({ kind: 'http', port, path: '/200' }, { timeoutMs: 1000 })).ok,
    false,
    'plain HTTP to a TLS port fails',
  );
});

t.test('exec: exit status, environment, and a hung command killed with its children', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-f-hc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(await runProbe({ kind: 'exec', command: 'true' }, { timeoutMs: ANSWERS_MS }), {
    ok: true,
    detail: 'exit 0',
  });
  t.same(await runProbe({ kind: 'exec', command: 'exit 3' }, { timeoutMs: ANSWERS_MS }), {
    ok: false,
    detail: 'exit 3',
  });
  t.same(
    await runProbe(
      { kind: 'exec', command: 'test "$HERALD_SERVICE" = default/web' },
      { timeoutMs: ANSWERS_MS, env: { HERALD_SERVICE: 'default/web' } },
    ),
    { ok: true, detail: 'exit 0' },
  );
  const pidFile = join(dir, 'pid');
  const started = performance.now();
  const result = await runProbe(
    { kind: 'exec', command: `sleep 30 & echo $! > ${pidFile}; wait` },
    { timeoutMs: 300 },
  );
  const took = performance.now() - started;
  t.same(result, { ok: false, detail: 'no exit within 300ms (killed)' });
  t.ok(took < 20_000, `returned after ${Math.round(took)} ms, long before the 30 s sleep would have ended`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // Killed means gone or a zombie (this machine's init reaps orphans late).
  const running = (): boolean => {
    try {
      return !/^\d+ \(sleep\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  let alive = running();
  for (let i = 0; i < 50 && alive; i++) {
    await new Promise((r) => setTimeout(r, 20));
    alive = running();
  }
  t.notOk(alive, "the command's child is gone too");
});
