import { connect, createServer } from 'node:net';

/**
 * Run inside a network namespace: listens on 127.0.0.1:PORT there and forwards every connection to a
 * unix socket, which the test process (in the host namespace) serves. This lets a speaker in a namespace
 * reach a test API server without any traffic leaving loopback.
 *
 *   node tcp-to-unix.js PORT SOCKET_PATH
 */
const [portText, socketPath] = process.argv.slice(2);
if (!portText || !socketPath) {
  process.stderr.write('usage: tcp-to-unix.js PORT SOCKET_PATH\n');
  process.exit(2);
}
createServer((client) => {
  const upstream = connect(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
}).listen(Number(portText), '127.0.0.1', () => process.stdout.write('ready\n'));
