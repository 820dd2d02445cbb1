// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { createServer } = process.getBuiltinModule('node:http');

/**
 * The lab's backend: a tiny HTTP server in each node namespace that answers with the node's name, so a
 * client can see which node its request reached. Run as `node http-echo.js NAME PORT`. `/?size=N`
 * pads the answer to N bytes (the name stays the first line); a request asking for keep-alive keeps its
 * connection (the flow-mode tests hold long-lived connections), any other is closed after the answer.
 */
const [name = 'unknown', portText = '8080'] = process.argv.slice(2);
const port = Number(portText);
const MAX_SIZE = 1 << 20;
const server = createServer((req, res) => {
  const size = Math.min(Number(/[?&]size=(\d+)/.exec(req.url ?? '')?.[1] ?? 0), MAX_SIZE);
  const head = `${name}\n`;
  const body = size > head.length ? head + 'x'.repeat(size - head.length) : head;
  const keep = req.headers.connection?.toLowerCase() === 'keep-alive';
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    connection: keep ? 'keep-alive' : 'close',
  });
  res.end(body);
  req.resume();
});
server.keepAliveTimeout = 120_000;
server.listen({ port, host: '::', ipv6Only: false }, () => process.stdout.write(`listening ${port}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
