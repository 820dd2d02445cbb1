import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { request } = process.getBuiltinModule('node:http');

/**
 * The flow-mode load tool, run inside a client namespace; bounded in count and time. JSON on stdout.
 *
 *   node flow-load.js requests VIP PORT LOOPS COUNT SIZE
 *     LOOPS parallel loops send COUNT requests in all, each on a new connection, for SIZE-byte answers
 *     → {"nodes":{"n1":..},"bytes":{"n1":..},"failed":N}
 *   node flow-load.js hold VIP PORT CONNS INTERVAL_MS MAX_MS [TIMEOUT_MS]
 *     CONNS keep-alive connections, one request each per INTERVAL_MS until MAX_MS; one line per answer
 *     {"c":i,"t":ms,"node":"n2"} and one when a connection breaks {"c":i,"t":ms,"error":".."} (it then
 *     stops): reset, closed, or no answer within TIMEOUT_MS (default 2000; longer to ride out a failover)
 */

function once(vip: string, port: number, size: number): Promise<{ node: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: vip, port, path: `/?size=${size}`, agent: false, timeout: 3000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          node: body.toString('utf8', 0, Math.min(64, body.length)).split('\n')[0] ?? '',
          bytes: body.length,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function requests(vip: string, port: number, loops: number, count: number, size: number) {
  const nodes: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  const loop = async () => {
    while (next < count) {
      next++;
      try {
        const r = await once(vip, port, size);
        nodes[r.node] = (nodes[r.node] ?? 0) + 1;
        bytes[r.node] = (bytes[r.node] ?? 0) + r.bytes;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  return { nodes, bytes, failed };
}

/** One keep-alive connection: a request every intervalMs; reports each answer until it breaks. */
function holdOne(
  id: number,
  vip: string,
  port: number,
  intervalMs: number,
  timeoutMs: number,
  endAt: number,
  emit: (line: object) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: vip, port });
    let buf = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      if (error) emit({ c: id, t: Date.now(), error });
      socket.destroy();
      resolve();
    };
    const ask = () => {
      if (Date.now() >= endAt) return finish();
      socket.write(`GET /?size=0 HTTP/1.1\r\nHost: vip\r\nConnection: keep-alive\r\n\r\n`);
      deadline = setTimeout(() => finish('timeout'), timeoutMs);
    };
    socket.on('connect', ask);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const node = buf.toString('utf8', end + 4, end + 4 + len).split('\n')[0] ?? '';
      buf = buf.subarray(end + 4 + len);
      clearTimeout(deadline);
      emit({ c: id, t: Date.now(), node });
      timer = setTimeout(ask, intervalMs);
    });
    socket.on('error', (e) => finish(e.message));
    socket.on('close', () => finish(Date.now() >= endAt ? undefined : 'closed'));
  });
}

export async function hold(
  vip: string,
  port: number,
  conns: number,
  intervalMs: number,
  maxMs: number,
  timeoutMs = 2000,
) {
  const endAt = Date.now() + maxMs;
  const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  await Promise.all(
    Array.from({ length: conns }, (_, i) => holdOne(i, vip, port, intervalMs, timeoutMs, endAt, emit)),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, vip = '', port = '8080', a = '10', b = '100', c = '0', d = '2000'] = process.argv.slice(2);
  if (mode === 'requests') {
    const r = await requests(vip, Number(port), Number(a), Math.min(Number(b), 100_000), Number(c));
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else if (mode === 'hold') {
    const maxMs = Math.min(Number(c), 600_000);
    await hold(vip, Number(port), Math.min(Number(a), 1000), Number(b), maxMs, Math.min(Number(d), maxMs));
  } else {
    process.stderr.write(
      'usage: flow-load.js requests VIP PORT LOOPS COUNT SIZE | hold VIP PORT CONNS INTERVAL_MS MAX_MS [TIMEOUT_MS]\n',
    );
    process.exit(2);
  }
}
