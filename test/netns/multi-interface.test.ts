import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';
import { l2Config } from '../helpers/l2-config.js';
import { oneNode } from '../helpers/one-node.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { arping, interfaceMacIn, waitUntil } from '../helpers/probes.js';

requirePrerequisites({ root: true, commands: ['arping', 'nsenter', 'ip'] });

const VIP = '10.78.0.200';
/** In a subnet no interface of the node has at start: answered once an address of it is added. */
const LATE_VIP = '10.80.0.200';

t.test(
  'a VIP named on two interfaces is answered on each with that interface MAC; an address added at run time is picked up',
  async (t) => {
    const { lan, dir, pinDir, node, ca, cb } = await oneNode(t, 'mif', {
      node: '10.78.0.11/24',
      client: '10.78.0.2/24',
    });
    await lan.link(
      { ns: node, ifname: 'eth1', addrs: ['10.79.0.11/24'] },
      { ns: cb, ifname: 'eth0', addrs: ['10.79.0.2/24'] },
    );
    const config = join(dir, 'herald.yaml');
    writeFileSync(
      config,
      l2Config([
        { pool: 'lan', vip: VIP, service: 'web', interfaces: ['eth0', 'eth1'] },
        { pool: 'later', vip: LATE_VIP, service: 'late', autoAssign: false },
      ]),
    );
    const speaker = lan.spawn(
      node,
      process.execPath,
      [
        join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
        'speaker',
        '--node',
        'n1',
        '--insecure-gossip', // one node alone: nothing to gossip with
        '--config',
        config,
        '--interface',
        'eth0',
        '--interface',
        'eth1',
        '--bind',
        '10.78.0.11:7946',
        '--pin-dir',
        pinDir,
        '--api-socket',
        join(dir, 'n1.sock'),
        '--xdp-mode',
        'generic',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    speaker.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    t.teardown(() => {
      if (t.passing()) return;
      t.comment(log);
    });
    const mac0 = await interfaceMacIn(lan, node, 'eth0');
    const mac1 = await interfaceMacIn(lan, node, 'eth1');
    t.not(mac0, mac1);
    await waitUntil(
      'the VIP is answered on eth0',
      20_000,
      async () => (await arping(lan, ca, VIP, { count: 1 })).received > 0,
    );
    const a = await arping(lan, ca, VIP, { count: 2 });
    const b = await arping(lan, cb, VIP, { count: 2, source: '10.79.0.2' });
    t.equal(a.received, 2, 'answered on eth0');
    t.same(new Set(a.macs), new Set([mac0]), 'with eth0 MAC');
    t.equal(b.received, 2, 'answered on eth1');
    t.same(new Set(b.macs), new Set([mac1]), 'with eth1 MAC');

    await lan.ip(cb, 'addr', 'add', '10.80.0.2/24', 'dev', 'eth0');
    const before = await arping(lan, cb, LATE_VIP, { count: 1, source: '10.80.0.2' });
    t.equal(before.received, 0, 'a VIP outside every subnet of the node is not answered');
    await lan.ip(node, 'addr', 'add', '10.80.0.11/24', 'dev', 'eth1');
    const added = Date.now();
    await waitUntil(
      'the VIP of the new subnet is answered on eth1',
      30_000,
      async () => (await arping(lan, cb, LATE_VIP, { count: 1, source: '10.80.0.2' })).received > 0,
    );
    const late = await arping(lan, cb, LATE_VIP, { count: 1, source: '10.80.0.2' });
    t.same(
      late.macs,
      [mac1],
      `answered on eth1 ${Date.now() - added} ms after the address was added (resync 5 s)`,
    );
    await lan.run(node, process.execPath, [
      join(projectRoot(), 'dist', 'src', 'cli', 'main.js'),
      'speaker',
      '--cleanup',
      '--interface',
      'eth0',
      '--interface',
      'eth1',
      '--pin-dir',
      pinDir,
      '--api-socket',
      join(dir, 'n1.sock'),
    ]);
  },
);
