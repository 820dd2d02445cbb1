import t from 'tap';
import { clientBucket } from '../../src/l2/buckets.js';
import {
  addrFromKey,
  addrKey,
  decodeClient,
  decodeConfig,
  decodeVip,
  encodeConfig,
  encodeVip,
  parseMac,
  formatMac,
  parseTimensMonotonicOffsetNs,
  solicitedNodeMac,
  sumPerCpuCounters,
} from '../../src/datapath/xdp-layout.js';

/** Reference FNV-1a 32 written with BigInt arithmetic, independent of the Math.imul version. */
function fnv1a(bytes: number[]): number {
  let h = 0x811c9dc5n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  return Number(h);
}

t.test('FNV-1a reference vectors and clientBucket', async (t) => {
  t.equal(fnv1a([]), 0x811c9dc5);
  t.equal(fnv1a([0x61]), 0xe40c292c); // "a", from the FNV test suite
  t.equal(fnv1a([...Buffer.from('foobar')]), 0xbf9cf968);
  t.equal(clientBucket('10.0.0.9'), fnv1a([10, 0, 0, 9]) & 63);
  t.equal(clientBucket('2001:db8::9'), fnv1a([...addrKey('2001:db8::9')]) & 63);
  t.equal(clientBucket('::ffff:10.0.0.9'), clientBucket('10.0.0.9'), 'v4-mapped text is the IPv4 client');
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(clientBucket(`10.${i >> 8}.${i & 255}.1`));
  t.equal(seen.size, 64, 'all 64 buckets used');
  t.throws(() => clientBucket('10.0.0'), /not an IP address/);
});

t.test('address keys', async (t) => {
  t.equal(addrKey('192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
  t.equal(addrKey('2001:db8::1').toString('hex'), '20010db8000000000000000000000001');
  t.equal(addrFromKey(addrKey('192.0.2.1')), '192.0.2.1');
  t.equal(addrFromKey(addrKey('2001:DB8:0:0::1')), '2001:db8::1');
  t.throws(() => addrKey('bogus'));
  t.equal(solicitedNodeMac('2001:db8::1:2:abcd:ef01')?.toString('hex'), '3333ffcdef01');
  t.equal(solicitedNodeMac('192.0.2.1'), undefined);
  t.throws(() => addrFromKey(Buffer.alloc(4)));
});

t.test('VIP value round trip and layout', async (t) => {
  const e = {
    action: 'answer' as const,
    mac: parseMac('02:00:00:00:00:aa'),
    ifindex: 7,
    vlan: 100,
    buckets: 5n,
  };
  const b = encodeVip(e);
  t.equal(b.toString('hex'), '0500000000000000' + '07000000' + '6400' + '0200000000aa' + '01000000');
  t.same(decodeVip(b), e);
  t.equal(decodeVip(encodeVip({ ...e, action: 'suppress' })).action, 'suppress');
  t.throws(() => encodeVip({ ...e, vlan: 4095 }));
  t.throws(() => encodeVip({ ...e, buckets: 1n << 64n }));
  t.throws(() => encodeVip({ ...e, mac: Buffer.alloc(5) }));
  t.equal(formatMac(e.mac), '02:00:00:00:00:aa');
  t.throws(() => parseMac('02:00:00:00:00'));
});

t.test('per-CPU counter sum, client and config values', async (t) => {
  const v = Buffer.alloc(80);
  for (let i = 0; i < 10; i++) v.writeBigUInt64LE(BigInt(i + 1), i * 8);
  t.same(sumPerCpuCounters(v), {
    rxPackets: 7n,
    rxBytes: 9n,
    arpRequests: 11n,
    ndpRequests: 13n,
    replies: 15n,
  });
  t.throws(() => sumPerCpuCounters(Buffer.alloc(41)));
  const c = Buffer.alloc(24);
  c.writeBigUInt64LE(123n, 0);
  c.writeUInt32LE(4, 8);
  parseMac('02:00:00:00:00:01').copy(c, 12);
  t.same(decodeClient(addrKey('10.0.0.9'), c), {
    ip: '10.0.0.9',
    lastSeenNs: 123n,
    ifindex: 4,
    mac: parseMac('02:00:00:00:00:01'),
  });
  t.same(decodeConfig(encodeConfig({ heartbeatNs: 5n, livenessBoundNs: 6n })), {
    heartbeatNs: 5n,
    livenessBoundNs: 6n,
  });
  t.equal(parseTimensMonotonicOffsetNs('monotonic           0         0\nboottime 0 0\n'), 0n);
  t.equal(parseTimensMonotonicOffsetNs('monotonic -2 500\nboottime 0 0\n'), -1_999_999_500n);
  t.equal(parseTimensMonotonicOffsetNs(''), 0n);
});
