/**
 * A speaker's transmit-error counter end to end: the speaker attaches in native mode to a veth whose peer
 * (the client) has no XDP program, so every ARP reply its XDP program sends (XDP_TX) is dropped by the
 * kernel and the client hears nothing. The operator must see it: herald_xdp_transmit_errors_total on
 * /metrics equals the replies the program sent, and `herald status` names the interface.
 * Layout (tag txe): ca (10.84.0.2) --veth-- n1 (10.84.0.11, speaker, XDP native on eth0).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';
import { l2Config } from '../helpers/l2-config.js';
import { oneNode, spawnOneSpeaker } from '../helpers/one-node.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter', 'ip'] });
const execFileAsync = promisify(execFile);

const VIP = '10.84.0.200';
const CLI = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
const METRICS = '127.0.0.1:9484';

/** Sums of a metric family's samples whose labels contain `labels`. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('XDP_TX replies the kernel drops show on /metrics and in herald status', async (t) => {
  const one = await oneNode(t, 'txe', { node: '10.84.0.11/24', client: '10.84.0.2/24' });
  const { lan, dir, node, ca } = one;
  const config = join(dir, 'herald.yaml');
  writeFileSync(config, l2Config([{ pool: 'lan', vip: VIP, service: 'web' }]));
  const { socket, log } = spawnOneSpeaker(t, one, {
    config,
    bind: '10.84.0.11:7946',
    args: ['--metrics', METRICS, '--interface', 'eth0', '--xdp-mode', 'native', '--no-host-vips'],
  });
  const status = async (...args: string[]) =>
    (await execFileAsync(process.execPath, [CLI, 'status', 'vips', ...args, '--socket', socket])).stdout;
  const scrape = async () =>
    (
      await lan.exec(node, process.execPath, [
        '-e',
        `fetch('http://${METRICS}/metrics').then(async (r) => process.stdout.write(await r.text()))`,
      ])
    ).stdout;

  await waitUntil('the speaker answers the VIP (status: local)', 30_000, async () => {
    const list = JSON.parse(await status('--json').catch(() => '{}')) as {
      vips?: Array<{ ip: string; local: boolean }>;
    };
    return list.vips?.some((v) => v.ip === VIP && v.local) ?? false;
  });
  // Decided is not answering yet: the gate opens a pulse or two after the first decision is applied, and
  // a request before that goes to the kernel (no XDP_TX to count).
  await waitUntil('the liveness gate to open', 30_000, async () =>
    log().includes('"msg":"liveness gate open"'),
  );
  t.notMatch(log(), /transmit errors are not counted/, 'the counter loaded');

  const r = await arping(lan, ca, VIP, { count: 3 });
  t.equal(r.sent, 3);
  t.equal(r.received, 0, 'the client heard no reply: the peer has no XDP program, native XDP_TX is dropped');

  let text = '';
  await waitUntil('the drops are on /metrics', 10_000, async () => {
    text = await scrape();
    return (sample(text, 'herald_xdp_transmit_errors_total', 'interface="eth0",action="tx"') ?? 0) >= 3;
  });
  const replies = sample(text, 'herald_layer2_responses_sent_total', `ip="${VIP}"`);
  const dropped = sample(text, 'herald_xdp_transmit_errors_total', 'interface="eth0",action="tx"');
  t.ok(replies !== undefined && replies >= 3, `the program sent ${replies} replies (XDP_TX)`);
  t.equal(dropped, replies, 'every reply the program sent was dropped and counted');

  const json = JSON.parse(await status('--json')) as { transmitErrors?: unknown };
  t.same(json.transmitErrors, [{ interface: 'eth0', action: 'tx', frames: dropped }]);
  t.match(await status(), new RegExp(`^XDP transmit errors .*: eth0 tx ${dropped}$`, 'm'));
});
