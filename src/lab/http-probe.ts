import { pathToFileURL } from 'node:url';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { request } = process.getBuiltinModule('node:http');

/**
 * The lab's client: sends HTTP requests to VIPs from inside a client namespace and reports, as one JSON
 * line per result on stdout, which node answered. Bounded in count and time; every request uses a fresh
 * connection so a failover is not hidden by connection reuse.
 *
 *   node http-probe.js count VIP[,VIP...] PORT N          → {"vip":..,"nodes":{"n1":3,...},"failed":0}
 *   node http-probe.js watch VIP PORT INTERVAL_MS MAX_MS  → {"t":epochMs,"s":sentMs,"node":"n2"} per
 *                                                           answer, {"t":..,"s":..,"error":"..."} per failure
 */
export function probeOnce(vip: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: vip, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function count(vips: string[], port: number, n: number): Promise<void> {
  for (const vip of vips) {
    const nodes: Record<string, number> = {};
    let failed = 0;
    for (let i = 0; i < n; i++) {
      try {
        const node = await probeOnce(vip, port, 1000);
        nodes[node] = (nodes[node] ?? 0) + 1;
      } catch {
        failed++;
      }
    }
    process.stdout.write(`${JSON.stringify({ vip, nodes, failed })}\n`);
  }
}

/**
 * One request every intervalMs, each on its own connection and not waiting for the previous one (up to
 * MAX_OUTSTANDING at once, each with a 1 s timeout): the first answer after a failover comes from the
 * first request sent once the new owner answers, not after the requests stuck on the old one time out.
 */
async function watch(vip: string, port: number, intervalMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let outstanding = 0;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < end) {
    const started = Date.now();
    if (outstanding < MAX_OUTSTANDING) {
      outstanding++;
      const done = probeOnce(vip, port, 1000)
        .then(
          (node) => process.stdout.write(`${JSON.stringify({ t: Date.now(), s: started, node })}\n`),
          (error: unknown) =>
            process.stdout.write(
              `${JSON.stringify({ t: Date.now(), s: started, error: (error as Error).message })}\n`,
            ),
        )
        .then(() => {
          outstanding--;
          inFlight.delete(done);
        });
      inFlight.add(done);
    }
    const wait = intervalMs - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inFlight);
}

const MAX_OUTSTANDING = 200;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, vipArg = '', portText = '8080', a = '10', b = '10000'] = process.argv.slice(2);
  if (mode === 'count') await count(vipArg.split(','), Number(portText), Number(a));
  else if (mode === 'watch') await watch(vipArg, Number(portText), Number(a), Number(b));
  else {
    process.stderr.write('usage: http-probe.js count VIPS PORT N | watch VIP PORT INTERVAL_MS MAX_MS\n');
    process.exit(2);
  }
}
