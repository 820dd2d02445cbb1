import fc from 'fast-check';
import t from 'tap';
import {
  ClusterRateView,
  decodeRateReport,
  encodeRateReport,
  isRateReport,
  type RateReport,
  RateReportError,
  RateReportPublisher,
} from '../../../src/metrics/gossip.js';

const report = (over: Partial<RateReport> = {}): RateReport => ({
  node: 'node-a',
  seq: 7,
  epochUnixMs: 1_700_000_000_000,
  atUnixMs: 1_700_000_005_000,
  windowMs: 10_000,
  totalBitsPerSecond: 1.5e9,
  totalPacketsPerSecond: 125_000,
  capacityBits: 1e10,
  vips: [
    { ip: '10.0.0.1', bitsPerSecond: 1e9, packetsPerSecond: 1e5 },
    { ip: '2001:db8::1', bitsPerSecond: 5e8, packetsPerSecond: 25_000 },
  ],
  omittedVips: 0,
  ...over,
});

t.test('round trip keeps every field, busiest VIP first', async (t) => {
  const buf = encodeRateReport(report());
  t.ok(isRateReport(buf));
  t.equal(buf.subarray(0, 3).toString('latin1'), 'HR\x01');
  t.same(decodeRateReport(buf), report());
  const reversed = report({ vips: [...report().vips].reverse() });
  t.same(decodeRateReport(encodeRateReport(reversed)).vips, report().vips);
});

t.test('size bound: totals exact, the busiest VIPs that fit, the rest counted', async (t) => {
  const vips = Array.from({ length: 10_000 }, (_, i) => ({
    ip: `10.${i >> 8}.${i & 255}.1`,
    bitsPerSecond: i * 1000,
    packetsPerSecond: i,
  }));
  const buf = encodeRateReport(report({ vips }), 1024);
  t.ok(buf.length <= 1024, `encoded ${buf.length} bytes`);
  const back = decodeRateReport(buf);
  t.equal(back.totalBitsPerSecond, 1.5e9);
  t.ok(back.vips.length > 10, `${back.vips.length} VIPs fit`);
  t.equal(back.vips.length + back.omittedVips, 10_000);
  t.equal(back.vips[0]!.bitsPerSecond, 9999 * 1000, 'busiest first');
  t.throws(() => encodeRateReport(report({ node: 'x'.repeat(2000) }), 1024), RateReportError);
});

t.test('property: any report round-trips within the bound', async () => {
  const ipv4 = fc.ipV4();
  fc.assert(
    fc.property(
      fc.array(fc.record({ ip: ipv4, bitsPerSecond: fc.double({ min: 0, max: 1e12, noNaN: true }) }), {
        maxLength: 200,
      }),
      fc.integer({ min: 200, max: 4000 }),
      (raw, maxBytes) => {
        const unique = [...new Map(raw.map((v) => [v.ip, v])).values()].map((v) => ({
          ...v,
          packetsPerSecond: 1,
        }));
        const buf = encodeRateReport(report({ vips: unique }), maxBytes);
        const back = decodeRateReport(buf);
        return buf.length <= maxBytes && back.vips.length + back.omittedVips === unique.length;
      },
    ),
  );
});

t.test('decoder rejects foreign, future and corrupt payloads with a reason', async (t) => {
  t.notOk(isRateReport(Buffer.from('xx')));
  t.throws(() => decodeRateReport(Buffer.from('{"json":1}')), /missing "HR" prefix/);
  const future = encodeRateReport(report());
  future[2] = 9;
  t.throws(() => decodeRateReport(future), /version 9 not supported/);
  t.throws(
    () => decodeRateReport(Buffer.concat([Buffer.from('HR\x01'), Buffer.from([0x0a, 0xff])])),
    /corrupt/,
  );
  t.throws(() => decodeRateReport(encodeRateReport(report({ node: '' }))), /without node name/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeRateReport(Buffer.concat([Buffer.from('HR\x01'), bytes]));
      } catch (error) {
        return error instanceof RateReportError;
      }
      return true;
    }),
  );
});

t.test('publisher is rate-limited and numbers its reports', async (t) => {
  const pub = new RateReportPublisher('n1', { windowMs: 10_000, minIntervalMs: 5000 });
  const rates = new Map([
    ['10.0.0.1', { bitsPerSecond: 800, packetsPerSecond: 1 }],
    ['10.0.0.2', { bitsPerSecond: 0, packetsPerSecond: 0 }],
  ]);
  const first = pub.next(0, rates, 1e9);
  t.ok(first);
  t.equal(pub.next(4999, rates, 1e9), undefined);
  const second = pub.next(5000, rates, 1e9)!;
  const d = decodeRateReport(second);
  t.equal(d.seq, 2);
  t.equal(d.vips.length, 1, 'idle VIPs are not listed');
  t.equal(d.totalBitsPerSecond, 800);
});

t.test('cluster view keeps the newest report per node and computes concentration', async (t) => {
  const view = new ClusterRateView();
  view.ingest(encodeRateReport(report({ node: 'a', seq: 2, totalBitsPerSecond: 300 })), 1000);
  t.notOk(view.accept(report({ node: 'a', seq: 1, totalBitsPerSecond: 999 }), 1000), 'older seq ignored');
  t.ok(
    view.accept(report({ node: 'a', seq: 1, epochUnixMs: 1_800_000_000_000, totalBitsPerSecond: 600 }), 1000),
    'restart',
  );
  view.ingest(encodeRateReport(report({ node: 'b', totalBitsPerSecond: 0 })), 1000);
  const c = view.concentration(1000, 10_000);
  t.equal(c.busiest, 'a');
  t.equal(c.ratio, 2);
  view.forget('a');
  t.equal(view.get('a'), undefined);
  t.throws(() => view.ingest(Buffer.from('nope'), 0), RateReportError);
});
