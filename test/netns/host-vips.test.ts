import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { HostVips } from '../../src/host/vips.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['ip'] });
const execFileAsync = promisify(execFile);

t.test('VIPs on lo of a namespace: added, removed, foreign ones untouched, cleanup', async (t) => {
  const lan = new TestLan('hvip');
  t.teardown(() => lan.destroy());
  const ns = await lan.createNamespace('n1');
  const dir = mkdtempSync(join(tmpdir(), 'herald-f-hvip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ip = async (args: string[], input?: string) =>
    input === undefined
      ? (await execFileAsync('ip', ['-n', ns, ...args])).stdout
      : execFileSync('ip', ['-n', ns, ...args], { input, encoding: 'utf8' });
  const onLo = async () =>
    (await ip(['-o', 'address', 'show', 'dev', 'lo']))
      .split('\n')
      .map((l) => l.split(/\s+/)[3])
      .filter((a): a is string => a !== undefined && !a.startsWith('127.') && a !== '::1/128')
      .sort();
  await ip(['address', 'add', '10.0.0.9/32', 'dev', 'lo']);
  await ip(['address', 'add', '10.0.0.201/32', 'dev', 'lo']);
  const statePath = join(dir, 'host-vips.json');
  const vips = new HostVips({ interface: 'lo', statePath, ip });

  t.same(await vips.sync(new Set(['10.0.0.200', '10.0.0.201', 'fd00:0::200'])), {
    added: ['10.0.0.200', 'fd00::200'],
    removed: [],
  });
  t.same(await onLo(), ['10.0.0.200/32', '10.0.0.201/32', '10.0.0.9/32', 'fd00::200/128']);
  t.match(
    await ip(['-6', '-o', 'address', 'show', 'dev', 'lo']),
    /fd00::200\/128.*deprecated/,
    'IPv6 VIP is deprecated (never a source address)',
  );
  t.same(JSON.parse(readFileSync(statePath, 'utf8')), {
    interface: 'lo',
    addresses: ['10.0.0.200', 'fd00::200'],
  });

  // A restarted speaker (new object, same state file) removes only what Herald added.
  const again = new HostVips({ interface: 'lo', statePath, ip });
  t.same(await again.sync(new Set(['10.0.0.200'])), { added: [], removed: ['fd00::200'] });
  t.same(await again.sync(new Set()), { added: [], removed: ['10.0.0.200'] });
  t.same(await onLo(), ['10.0.0.201/32', '10.0.0.9/32'], 'addresses it did not add stay');

  await again.sync(new Set(['10.0.0.202']));
  t.same(await again.cleanup(), { added: [], removed: ['10.0.0.202'] });
  t.same(await onLo(), ['10.0.0.201/32', '10.0.0.9/32']);
  t.throws(() => readFileSync(statePath), 'state file removed by cleanup');

  // Many at once (one ip -batch per change): all added, then all removed.
  const many = new Set(Array.from({ length: 500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`));
  t.equal((await again.sync(many)).added.length, 500, '500 VIPs added in one sync');
  t.equal((await onLo()).length, 502);
  t.equal((await again.sync(new Set())).removed.length, 500, '500 VIPs removed in one sync');
  t.same(await onLo(), ['10.0.0.201/32', '10.0.0.9/32']);
});

t.test('sysctls: raised in the given tree, a stricter value kept', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'herald-f-sysctl-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'net/ipv4/conf/all'), { recursive: true });
  writeFileSync(join(root, 'net/ipv4/conf/all/arp_ignore'), '2\n');
  writeFileSync(join(root, 'net/ipv4/conf/all/arp_announce'), '0\n');
  const vips = new HostVips({ interface: 'lo', statePath: join(root, 's.json'), sysctlRoot: root });
  t.same(vips.prepare(), [['net/ipv4/conf/all/arp_announce', '2']]);
  t.equal(readFileSync(join(root, 'net/ipv4/conf/all/arp_ignore'), 'utf8').trim(), '2');
  t.equal(readFileSync(join(root, 'net/ipv4/conf/all/arp_announce'), 'utf8').trim(), '2');
});
