import t from 'tap';
import { sampleIntervalForVips, TrafficMonitor } from '../../../src/metrics/monitor.js';
import { trafficOnly } from '../../../src/metrics/traffic.js';

t.test('scrapes read the source unless the sampler has a fresh sample', async (t) => {
  let now = 0;
  let reads = 0;
  const monitor = new TrafficMonitor(
    () => {
      reads++;
      return new Map([['10.0.0.1', trafficOnly(BigInt(now), BigInt(now * 100))]]);
    },
    { windowMs: 5000, now: () => now },
  );
  monitor.forScrape();
  now = 1000;
  monitor.forScrape();
  t.equal(reads, 2, 'without the timer every scrape reads once');
  t.equal(monitor.rates().get('10.0.0.1')!.bitsPerSecond, 800_000);
  monitor.start(60_000);
  t.teardown(() => monitor.stop());
  now = 1500;
  t.equal(monitor.forScrape()!.atMs, 1000, 'a sample younger than the interval is reused');
  t.equal(reads, 2);
  now = 61_000;
  t.equal(monitor.forScrape()!.atMs, 61_000, 'a stale one is replaced by a read');
  t.equal(reads, 3);
  t.ok(monitor.running(), 'sampling on its timer');
  monitor.stop();
  t.notOk(monitor.running(), 'stopped');
  now = 61_001;
  monitor.forScrape();
  t.equal(reads, 4, 'stopped: reads again');
});

t.test('a failing source keeps the last sample and counts errors', async (t) => {
  let fail = false;
  let now = 0;
  const monitor = new TrafficMonitor(
    () => {
      if (fail) throw new Error('map gone');
      return new Map([['10.0.0.1', trafficOnly(1n, 1n)]]);
    },
    { now: () => now },
  );
  monitor.sample();
  fail = true;
  now = 10;
  t.equal(monitor.sample()!.atMs, 0);
  t.equal(monitor.errors, 1);
  t.match(monitor.lastError?.message, /map gone/);
  fail = false;
  now = 20;
  t.equal(monitor.sample()!.atMs, 20);
  t.equal(monitor.lastError, undefined);
});

t.test('the sampling interval follows the number of VIPs', async (t) => {
  t.equal(sampleIntervalForVips(0), 1000);
  t.equal(sampleIntervalForVips(2000), 1000);
  t.equal(sampleIntervalForVips(2001), 2000);
  t.equal(sampleIntervalForVips(10_000), 5000);
  t.equal(sampleIntervalForVips(1_000_000), 5000, 'never slower than every 5 s');

  const vips = new Map([
    ['10.0.0.1', trafficOnly(1n, 1n)],
    ['10.0.0.2', trafficOnly(1n, 1n)],
  ]);
  const monitor = new TrafficMonitor(() => vips);
  const asked: number[] = [];
  let samples = 0;
  monitor.start(
    (n) => {
      asked.push(n);
      return 5;
    },
    () => samples++,
  );
  t.teardown(() => monitor.stop());
  while (samples < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  t.same(asked.slice(0, 3), [0, 2, 2], 'before the first sample: none known; then the sampled count');
  monitor.stop();
  const stoppedAt = samples;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(samples, stoppedAt, 'stopped: no further samples');
});
