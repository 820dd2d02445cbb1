/** TCP framing deadlines: a process starved past a deadline reads the frame that already arrived first. */
import t from 'tap';
import { type Socket, createConnection, createServer } from 'node:net';
import { StreamError, readFrame, writeFrame } from '../../../src/membership/transport.js';

/** Blocks the event loop: no timer and no socket read runs meanwhile. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // burn CPU
  }
}

async function socketPair(t: Tap): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = createConnection({ host: '127.0.0.1', port });
  await new Promise((r) => client.once('connect', r));
  const inner = await accepted;
  t.teardown(() => {
    client.destroy();
    inner.destroy();
    server.close();
  });
  return [client, inner];
}

type Tap = { teardown(fn: () => unknown): void };

t.test(
  'readFrame: a frame that arrived while the process was starved past the deadline is read',
  async (t) => {
    const [client, inner] = await socketPair(t);
    const frame = Buffer.from('state of the cluster');
    const read = readFrame(inner, 30);
    writeFrame(client, frame);
    spin(200);
    t.same(await read, frame, 'read, not timed out');
  },
);

t.test('readFrame: no frame → timeout; part of one → truncated', async (t) => {
  const [client, inner] = await socketPair(t);
  const none = await readFrame(inner, 30).catch((e: unknown) => e);
  t.ok(none instanceof StreamError && none.reason === 'timeout', 'timeout');
  const partial = readFrame(inner, 50);
  client.write(Buffer.from([0, 0, 0, 9, 1, 2]));
  const part = await partial.catch((e: unknown) => e);
  t.ok(part instanceof StreamError && part.reason === 'truncated', 'truncated');
});
