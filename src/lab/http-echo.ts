import { createServer } from 'node:http';

/**
 * The lab's backend: a tiny HTTP server in each node namespace that answers with the node's name, so a
 * client can see which node its request reached. Run as `node http-echo.js NAME PORT`.
 */
const [name = 'unknown', portText = '8080'] = process.argv.slice(2);
const port = Number(portText);
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${name}\n`);
  req.resume();
});
server.listen({ port, host: '::', ipv6Only: false }, () => process.stdout.write(`listening ${port}\n`));
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => server.close(() => process.exit(0)));
