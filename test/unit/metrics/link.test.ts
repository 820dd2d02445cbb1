import t from 'tap';
import {
  parseBitsPerSecond,
  parseEthtoolSpeed,
  parseSysfsSpeed,
  probeLinkSpeed,
} from '../../../src/metrics/link.js';
import { parseHostPort } from '../../../src/metrics/address.js';

t.test('speed parsers', async (t) => {
  t.equal(parseSysfsSpeed('10000\n'), 1e10);
  t.equal(parseSysfsSpeed('-1\n'), undefined, 'virtual NIC');
  t.equal(parseSysfsSpeed(''), undefined);
  t.equal(parseEthtoolSpeed('Settings for eth0:\n\tSpeed: 25000Mb/s\n\tDuplex: Full\n'), 2.5e10);
  t.equal(parseEthtoolSpeed('\tSpeed: Unknown!\n'), undefined);
  t.equal(parseEthtoolSpeed('no speed line'), undefined);
  t.equal(parseBitsPerSecond('10G'), 1e10);
  t.equal(parseBitsPerSecond('2.5Gbit'), 2.5e9);
  t.equal(parseBitsPerSecond('100M'), 1e8);
  t.equal(parseBitsPerSecond('1e9'), 1e9);
  t.throws(() => parseBitsPerSecond('fast'), /link capacity "fast"/);
  t.throws(() => parseBitsPerSecond('0'), /positive/);
});

t.test('probe order: override, sysfs only in its own netns, then ethtool', async (t) => {
  const readFile = async () => '1000\n';
  const ethtool = async () => '\tSpeed: 10000Mb/s\n';
  t.same(await probeLinkSpeed('eth0', { overrides: { eth0: 5e9 }, readFile, ethtool }), {
    bits: 5e9,
    source: 'override',
  });
  t.same(await probeLinkSpeed('eth0', { readFile, ethtool, sysfsMatchesNetns: async () => true }), {
    bits: 1e9,
    source: 'sysfs',
  });
  t.same(await probeLinkSpeed('eth0', { readFile, ethtool, sysfsMatchesNetns: async () => false }), {
    bits: 1e10,
    source: 'ethtool',
  });
  t.same(
    await probeLinkSpeed('veth0', {
      readFile: async () => '-1',
      ethtool: async () => 'Speed: Unknown!',
      sysfsMatchesNetns: async () => true,
    }),
    undefined,
    'virtual NIC without override is unknown',
  );
  t.same(
    await probeLinkSpeed('eth0', {
      readFile: () => Promise.reject(new Error('EINVAL')),
      ethtool: () => Promise.reject(new Error('ENOENT')),
      sysfsMatchesNetns: async () => true,
    }),
    undefined,
  );
  await t.rejects(probeLinkSpeed('../etc'), /invalid interface name/);
});

t.test('the real machine: loopback has no speed', async (t) => {
  t.equal(await probeLinkSpeed('lo'), undefined);
});

t.test('ADDR:PORT parsing', async (t) => {
  t.same(parseHostPort('0.0.0.0:7472'), { host: '0.0.0.0', port: 7472 });
  t.same(parseHostPort('[::1]:9'), { host: '::1', port: 9 });
  t.same(parseHostPort(':7472'), { host: '127.0.0.1', port: 7472 });
  t.throws(() => parseHostPort('7472'), /expected ADDR:PORT/);
  t.throws(() => parseHostPort('a:99999'), /expected ADDR:PORT/);
});
