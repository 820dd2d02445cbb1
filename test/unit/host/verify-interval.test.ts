import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HostVips } from '../../../src/host/vips.js';

/** A fake `ip` holding the addresses of lo; counts how often the interface is read. */
function fakeIp() {
  const held = new Set<string>();
  const calls = { show: 0, add: 0 };
  const ip = (args: string[], input = ''): Promise<string> => {
    if (args.includes('-batch')) {
      // One `ip -batch` per change: `address add|del PREFIX dev lo` per line.
      for (const line of input.split('\n').filter(Boolean)) void ip(line.split(' '));
      return Promise.resolve('');
    }
    if (args.includes('show')) {
      calls.show++;
      const addr_info = [...held].map((a) => ({ local: a, prefixlen: 32 }));
      return Promise.resolve(JSON.stringify([{ addr_info }]));
    }
    const ipWithPrefix = args[2] ?? '';
    if (args[1] === 'add') {
      calls.add++;
      held.add(ipWithPrefix.split('/')[0]!);
    } else held.delete(ipWithPrefix.split('/')[0]!);
    return Promise.resolve('');
  };
  return { ip, held, calls };
}

t.test('an unchanged wanted set is not read again before the verify interval', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-hv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = fakeIp();
  const host = new HostVips({
    interface: 'lo',
    statePath: join(dir, 'state.json'),
    ip: fake.ip,
    verifyIntervalMs: 200,
  });
  t.same(await host.sync(new Set(['10.0.0.1'])), { added: ['10.0.0.1'], removed: [] });
  t.same(await host.sync(new Set(['10.0.0.1'])), { added: [], removed: [] });
  // A change reads the interface before and after its one `ip -batch`.
  t.equal(fake.calls.show, 2, 'the same set within the interval spawns no ip');

  fake.held.delete('10.0.0.1'); // someone removed it
  t.same(await host.sync(new Set(['10.0.0.1', '10.0.0.2'])), {
    added: ['10.0.0.1', '10.0.0.2'],
    removed: [],
  });
  t.equal(fake.calls.show, 4, 'a changed set is checked at once');

  fake.held.delete('10.0.0.2');
  await new Promise((r) => setTimeout(r, 250));
  t.same(await host.sync(new Set(['10.0.0.1', '10.0.0.2'])), { added: ['10.0.0.2'], removed: [] });
  t.equal(fake.calls.show, 6, 'after the interval the interface is read again and a lost address put back');

  t.same(await host.cleanup(), { added: [], removed: ['10.0.0.1', '10.0.0.2'] });
  t.same([...fake.held], [], 'cleanup always reads and removes');
});

t.test('with an address reader the interface is read without an ip process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-hv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = fakeIp();
  let reads = 0;
  const host = new HostVips({
    interface: 'lo',
    statePath: join(dir, 'state.json'),
    ip: fake.ip,
    addresses: (ifname) => {
      reads++;
      t.equal(ifname, 'lo');
      // The loopback's own addresses (not host prefixes, or not ours) come along and are left alone.
      return [
        { address: '127.0.0.1', prefixLength: 8 },
        { address: '::1', prefixLength: 128 },
        ...[...fake.held].map((address) => ({ address, prefixLength: 32 })),
      ];
    },
  });
  t.same(await host.sync(new Set(['10.0.0.1', '10.0.0.2'])), {
    added: ['10.0.0.1', '10.0.0.2'],
    removed: [],
  });
  t.same(await host.sync(new Set(['10.0.0.2'])), { added: [], removed: ['10.0.0.1'] });
  t.equal(fake.calls.show, 0, 'no ip -j address show');
  t.equal(reads, 4, 'read before and after each change');
  t.same([...fake.held], ['10.0.0.2']);
});
