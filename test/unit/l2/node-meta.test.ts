import t from 'tap';
import { networkInterfaces } from 'node:os';
import { interfaceAddresses } from '../../../src/datapath/netdev.js';
import { decodeNodeMeta, encodeNodeMeta, NODE_META_MAX_BYTES } from '../../../src/speaker/node-meta.js';
import { interfacesFrom, localInterfaces } from '../../../src/speaker/local-interfaces.js';

t.test('node metadata round-trips and rejects junk', async (t) => {
  const meta = {
    interfaces: [{ name: 'eth0', cidrs: ['10.0.0.1/24', 'fd00::1/64'] }],
    labels: { zone: 'a' },
  };
  t.same(decodeNodeMeta(encodeNodeMeta(meta)), meta);
  t.same(decodeNodeMeta(encodeNodeMeta({ ...meta, labels: {} })), { ...meta, labels: {} });
  t.equal(decodeNodeMeta(Buffer.alloc(0)), undefined);
  const bad = Buffer.from('{"v":1,"ifs":[{"n":"eth0","a":["10.0.0.1/24","garbage","10.0.0.300/24"]}]}');
  t.same(decodeNodeMeta(bad)?.interfaces, [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }], 'bad prefixes dropped');
  t.equal(decodeNodeMeta(Buffer.from('{not json')), undefined);
  t.equal(decodeNodeMeta(Buffer.from('{"v":1,"ifs":[{"n":""}]}')), undefined);
  const newer = Buffer.from('{"v":2,"ifs":[{"n":"eth0","a":[],"speed":10}],"extra":true}');
  t.same(decodeNodeMeta(newer)?.interfaces, [{ name: 'eth0', cidrs: [] }], 'newer versions still decode');
  const huge = {
    interfaces: [{ name: 'eth0', cidrs: Array.from({ length: 60 }, (_, i) => `10.0.${i}.1/24`) }],
    labels: {},
  };
  t.throws(() => encodeNodeMeta(huge), new RegExp(`${NODE_META_MAX_BYTES}-byte`));
});

t.test('local interfaces: unknown names are an error, loopback is never listed', async (t) => {
  t.throws(() => localInterfaces(['hrl-no-such-if']), /not found/);
  t.notOk(localInterfaces().some((i) => i.name === 'lo'));
});

t.test('failing health checks travel in the metadata and shrink to fit it', async (t) => {
  const meta = {
    interfaces: [{ name: 'eth0', cidrs: ['10.0.0.1/24'] }],
    labels: {},
    failing: { 'default/web': 'connect refused' },
  };
  t.same(decodeNodeMeta(encodeNodeMeta(meta)), meta);
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`default/service-${i}`, 'HTTP 503']));
  const buf = encodeNodeMeta({ ...meta, failing: many });
  t.ok(buf.length <= NODE_META_MAX_BYTES, `${buf.length} bytes`);
  t.same(decodeNodeMeta(buf)?.failing, { '*': 'too many failing checks to list' });
});

t.test('interfaces from getifaddrs entries: LANs only, sorted, with their MAC', async (t) => {
  const a = (name: string, address: string, prefixLength: number, loopback = false, running = true) => ({
    name,
    family: address.includes(':') ? (6 as const) : (4 as const),
    address,
    prefixLength,
    loopback,
    running,
  });
  const macs = new Map([
    ['eth1', Buffer.from('020000000001', 'hex')],
    ['eth0', Buffer.from('020000000000', 'hex')],
    ['tun0', Buffer.alloc(6)],
  ]);
  const addresses = [
    a('lo', '127.0.0.1', 8, true),
    a('eth1', '10.1.0.1', 24),
    a('eth1', 'fe80::1', 64),
    a('eth0', '10.0.0.1', 24),
    a('eth0', 'fd00::1', 64),
    a('kube-ipvs0', '10.96.0.1', 32),
    a('kube-ipvs0', 'fd00:96::1', 128),
    a('tun0', '10.8.0.1', 24),
    a('lo2', '10.7.0.1', 24, true),
    a('down0', '10.6.0.1', 24, false, false),
  ];
  t.same(interfacesFrom(addresses, macs).found, [
    { name: 'eth0', cidrs: ['10.0.0.1/24', 'fd00::1/64'], mac: '020000000000' },
    { name: 'eth1', cidrs: ['10.1.0.1/24'], mac: '020000000001' },
    { name: 'tun0', cidrs: ['10.8.0.1/24'] },
  ]);
  t.same(interfacesFrom(addresses, macs, ['eth1', 'eth9']), {
    found: [{ name: 'eth1', cidrs: ['10.1.0.1/24'], mac: '020000000001' }],
    missing: ['eth9'],
  });
});

t.test('the getifaddrs scan reads what os.networkInterfaces() reads', async (t) => {
  const fromNode = Object.entries(networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).map((i) => ({
      name,
      family: i.family === 'IPv4' ? (4 as const) : (6 as const),
      address: i.address,
      prefixLength: Number(i.cidr?.split('/')[1]),
      loopback: i.internal,
      running: true,
    })),
  );
  const macs = new Map(
    Object.entries(networkInterfaces()).map(([name, list]) => [
      name,
      Buffer.from((list?.[0]?.mac ?? '').replace(/:/g, ''), 'hex'),
    ]),
  );
  // os.networkInterfaces() lists running interfaces only.
  const native = { addresses: interfaceAddresses().addresses.filter((a) => a.running) };
  const key = (a: { name: string; address: string; prefixLength: number }) =>
    `${a.name} ${a.address}/${a.prefixLength}`;
  t.same(native.addresses.map(key).sort(), fromNode.map(key).sort(), 'same addresses');
  t.same(localInterfaces(), interfacesFrom(fromNode, macs).found, 'same interfaces, cidrs and MACs');
  t.notOk(
    interfaceAddresses(['lo']).addresses.some((a) => a.name === 'lo'),
    'skipped interfaces are not read',
  );
});
