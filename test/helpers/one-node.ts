import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespacePrefix } from '../../src/lab/netns.js';
import { projectRoot } from '../../src/util/paths.js';
import { TestLan } from './netns.js';

/** What a one-speaker test needs: a node namespace, two client namespaces, a work dir and a pin dir. */
export interface OneNode {
  lan: TestLan;
  dir: string;
  pinDir: string;
  node: string;
  ca: string;
  cb: string;
}

/**
 * Creates the namespaces (hrl-<prefix><tag>-n1, -ca, -cb), a temporary directory and a pin dir name, all
 * removed by the test's teardown (also on failure); the node's eth0 is linked to ca's eth0 at `eth0`.
 */
export async function oneNode(
  t: { teardown(fn: () => Promise<void> | void): void },
  tag: string,
  eth0: { node: string; client: string },
): Promise<OneNode> {
  const lan = new TestLan(tag);
  const dir = mkdtempSync(join(tmpdir(), `herald-${namespacePrefix()}${tag}-`));
  const pinDir = `/sys/fs/bpf/${namespacePrefix()}${tag}`;
  t.teardown(async () => {
    await lan.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pinDir, { recursive: true, force: true });
  });
  const node = await lan.createNamespace('n1');
  const ca = await lan.createNamespace('ca');
  const cb = await lan.createNamespace('cb');
  await lan.link(
    { ns: node, ifname: 'eth0', addrs: [eth0.node] },
    { ns: ca, ifname: 'eth0', addrs: [eth0.client] },
  );
  return { lan, dir, pinDir, node, ca, cb };
}

/**
 * Starts `herald speaker` as node n1 alone (no gossip peers) in the node namespace with the config file
 * `config`, gossip bound to `bind` (HOST:PORT), the pin dir and an API socket in the work dir, plus
 * `args`. Its stderr (the JSON log) is kept and printed when the test fails; the LAN kills it.
 */
export function spawnOneSpeaker(
  t: { teardown(fn: () => void): void; passing(): boolean; comment(...m: unknown[]): void },
  one: OneNode,
  opts: { config: string; bind: string; args: readonly string[] },
): { socket: string; log(): string } {
  const socket = join(one.dir, 'n1.sock');
  const cli = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
  const speaker = one.lan.spawn(
    one.node,
    process.execPath,
    [
      cli,
      'speaker',
      '--node',
      'n1',
      '--insecure-gossip', // one node alone: nothing to gossip with
      '--config',
      opts.config,
      '--bind',
      opts.bind,
      '--pin-dir',
      one.pinDir,
      '--api-socket',
      socket,
      ...opts.args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  speaker.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  t.teardown(() => {
    if (!t.passing()) t.comment(log.slice(-6000));
  });
  return { socket, log: () => log };
}
