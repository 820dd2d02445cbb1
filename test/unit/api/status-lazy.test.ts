import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { projectRoot } from '../../../src/util/paths.js';

/**
 * In a fresh process (this one has loaded gRPC already): the status server listens without loading
 * gRPC or node:http2, and loads them at the first connection, which it then serves.
 */
const script = (socketPath: string) => `
const { startStatusServer } = await import(${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist/src/api/server.js')).href)});
const { StatusEvents } = await import(${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist/src/api/source.js')).href)});
const http2 = () => process.moduleLoadList.includes('NativeModule http2');
const source = { node: () => 'n1', vips: async () => [], members: async () => [], bgpSessions: async () => [], events: new StatusEvents() };
const server = await startStatusServer(source, { socketPath: ${JSON.stringify(socketPath)} });
const listening = http2();
const { StatusClient } = await import(${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist/src/api/client.js')).href)});
const client = new StatusClient({ socketPath: ${JSON.stringify(socketPath)} });
const answer = await client.listMembers();
client.close();
await server.close();
process.stdout.write(JSON.stringify({ listening, node: answer.node }));
`;

t.test('the status API loads gRPC at its first connection, not at start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hrl-api-lazy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script(join(dir, 'speaker.sock'))],
    { env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
  );
  t.same(JSON.parse(stdout), { listening: false, node: 'n1' }, 'no node:http2 while listening; served');
});
