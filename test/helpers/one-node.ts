import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namespacePrefix } from '../../src/lab/netns.js';
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
