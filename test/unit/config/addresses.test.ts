import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import t from 'tap';
import {
  canonicalIp,
  formatIp,
  parseAddressRange,
  parseIp,
  rangeToCidrs,
} from '../../../src/config/addresses.js';
import { parseCommunity } from '../../../src/config/community.js';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

t.test('parseIp / formatIp', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['10.0.0.1', '10.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['10.0.0.256', undefined],
    ['10.0.0', undefined],
    ['010.0.0.1', undefined],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['fd00::1:2:3:4:5:6:7', undefined],
    ['fd00:0:0:0:0:0:0:0:1', undefined],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::2::3', undefined],
    ['1.2.3.4::', undefined],
    ['::1.2.3.4', '::102:304'],
    ['fe80::1%eth0', undefined],
    ['12345::', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) t.equal(canonicalIp(input), want, input);
});

// eight 16-bit groups, zeros frequent so that "::" compression is exercised
const groupsArb = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
  minLength: 8,
  maxLength: 8,
});

t.test('IPv6 round trip agrees with ipaddr.js', async (t) => {
  fc.assert(
    fc.property(groupsArb, (groups) => {
      const v = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
      const text = formatIp(6, v);
      const ref = ipaddr.IPv6.parse(text).toRFC5952String();
      if (text !== ref) throw new Error(`${text} != ${ref}`);
      const back = parseIp(ipaddr.IPv6.parse(text).toNormalizedString());
      if (back?.value !== v) throw new Error(`round trip of ${text}`);
      if (parseIp(text)?.value !== v) throw new Error(`round trip of compressed ${text}`);
    }),
    { numRuns: 2000 },
  );
  t.pass('ok');
});

t.test('ranges and CIDR covering', async (t) => {
  const r = parseAddressRange('10.0.0.1-10.0.0.6');
  t.ok(typeof r !== 'string');
  if (typeof r !== 'string') {
    t.same(
      rangeToCidrs(r).map((c) => `${formatIp(4, c.value)}/${c.prefix}`),
      ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32'],
    );
  }
  t.match(parseAddressRange('10.0.0.5/24'), { start: 167772160n, end: 167772415n, prefix: 24 });
  t.match(parseAddressRange('fd00::/64'), { family: 6, prefix: 64 });
  t.match(parseAddressRange('10.0.0.7'), { start: 167772167n, end: 167772167n });
  t.match(parseAddressRange('10.0.0.1 - 10.0.0.2'), { start: 167772161n });
  t.match(parseAddressRange('10.0.0.0/'), /prefix length must be 0..32/);
  t.match(parseAddressRange('10.0.0.1-'), /is not an IP address/);
});

t.test('durations like Go', async (t) => {
  const cases: Array<[string, number | undefined]> = [
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['9m0s', 540_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['0', 0],
    ['0s', 0],
    ['90', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) t.equal(parseDuration(input), want, input);
  t.equal(formatDuration(90_000), '1m30s');
  t.equal(formatDuration(300), '300ms');
});

t.test('communities', async (t) => {
  t.same(parseCommunity('65535:65282'), { type: 'standard', value: 0xffffff02 });
  t.same(parseCommunity('large:64512:1:2'), { type: 'large', global: 64512, local1: 1, local2: 2 });
  t.match(parseCommunity('65536:1'), /0..65535/);
  t.match(parseCommunity('large:1:2'), /not a large community/);
  t.match(parseCommunity('a:b'), /0..65535/);
});
