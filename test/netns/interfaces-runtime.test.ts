import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';
import { l2Config } from '../helpers/l2-config.js';
import { oneNode } from '../helpers/one-node.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter', 'ip'] });

const VIP = '10.81.0.200';
/** Named by an L2Advertisement on eth1, an interface the node does not have when the speaker starts. */
const LATE_VIP = '10.82.0.200';
const CLI = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');

const CONFIG = l2Config([
  { pool: 'lan', vip: VIP, service: 'web' },
  { pool: 'later', vip: LATE_VIP, service: 'late', interfaces: ['eth1'], autoAssign: false },
]);

t.test(
  'an interface created after the start is attached and answers with its MAC; deleted, it is forgotten; recreated, it answers again',
  async (t) => {
    const { lan, dir, pinDir, node, ca, cb } = await oneNode(t, 'ifrt', {
      node: '10.81.0.11/24',
      client: '10.81.0.2/24',
    });
    const config = join(dir, 'herald.yaml');
    writeFileSync(config, CONFIG);
    // Default flags but for one node alone on the machine: no --interface, --xdp-mode auto.
    const speaker = lan.spawn(
      node,
      process.execPath,
      [
        CLI,
        'speaker',
        '--node',
        'n1',
        '--insecure-gossip',
        '--config',
        config,
        '--bind',
        '10.81.0.11:7946',
        '--pin-dir',
        pinDir,
        '--api-socket',
        join(dir, 'n1.sock'),
        '--no-host-vips',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    speaker.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    t.teardown(() => {
      if (!t.passing()) t.comment(log.slice(-6000));
    });
    type Line = { level: number; msg: string; interface?: string; mode?: string };
    const lines = (): Line[] =>
      log.split('\n').flatMap((l) => {
        try {
          return [JSON.parse(l) as Line];
        } catch {
          return [];
        }
      });

    await waitUntil(
      'the VIP is answered on eth0',
      30_000,
      async () => (await arping(lan, ca, VIP, { count: 1 })).received > 0,
    );
    const eth1Link = () =>
      lan.link(
        { ns: node, ifname: 'eth1', addrs: ['10.82.0.11/24'] },
        { ns: cb, ifname: 'eth0', addrs: ['10.82.0.2/24'] },
      );
    const lateAnswers = async () => arping(lan, cb, LATE_VIP, { count: 1, source: '10.82.0.2' });

    // 1. eth1 appears while the speaker runs.
    await eth1Link();
    const created = Date.now();
    const mac1 = await interfaceMacIn(lan, node, 'eth1');
    await waitUntil(
      'the VIP named on eth1 is answered',
      30_000,
      async () => (await lateAnswers()).received > 0,
    );
    const tookMs = Date.now() - created;
    const first = await lateAnswers();
    t.same(
      first.macs,
      [mac1],
      `answered on eth1 with its MAC ${tookMs} ms after it appeared (ip monitor; resync 5 s)`,
    );
    const attachedLine = lines().find((l) => l.interface === 'eth1' && /XDP attached/.test(l.msg));
    t.equal(attachedLine?.mode, 'generic', '--xdp-mode auto chose generic mode on the new veth');
    t.match(
      await lan.ip(node, '-d', 'link', 'show', 'eth1'),
      /xdpgeneric/,
      'the program is attached to eth1 in the kernel',
    );
    t.equal((await arping(lan, ca, VIP, { count: 1 })).received, 1, 'eth0 keeps answering');

    // 2. eth1 goes away.
    await lan.ip(node, 'link', 'del', 'eth1');
    await waitUntil('the speaker forgets eth1', 20_000, async () =>
      lines().some((l) => l.interface === 'eth1' && /interface gone/.test(l.msg)),
    );
    t.equal((await arping(lan, ca, VIP, { count: 1 })).received, 1, 'eth0 still answers');

    // 3. eth1 comes back (another veth, another MAC).
    await eth1Link();
    const mac2 = await interfaceMacIn(lan, node, 'eth1');
    t.not(mac2, mac1, 'the recreated eth1 has another MAC');
    await waitUntil('the VIP is answered on the recreated eth1 with its new MAC', 30_000, async () =>
      (await lateAnswers()).macs.includes(mac2),
    );
    const again = await lateAnswers();
    t.same(again.macs, [mac2], 'only the new MAC answers');
    const errors = lines().filter((l) => l.level >= 50);
    t.same(
      errors.map((l) => l.msg),
      [],
      'no error logged through the whole cycle',
    );

    // 4. The speaker stops; --cleanup detaches from every interface and removes the pins.
    speaker.kill('SIGTERM');
    await new Promise((resolve) => speaker.once('exit', resolve));
    const cleanup = await lan.run(node, process.execPath, [
      CLI,
      'speaker',
      '--cleanup',
      '--pin-dir',
      pinDir,
      '--api-socket',
      join(dir, 'n1.sock'),
      '--no-host-vips',
    ]);
    t.equal(cleanup.code, 0, `cleanup: ${cleanup.stdout}${cleanup.stderr}`);
    for (const ifname of ['eth0', 'eth1'])
      t.notMatch(await lan.ip(node, '-d', 'link', 'show', ifname), /xdp/, `no XDP left on ${ifname}`);
    t.notOk(existsSync(pinDir), 'no pins left');
  },
);
