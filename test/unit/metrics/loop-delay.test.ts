/** nodejs_eventloop_lag_* come from the delays Herald records, not from a monitor timer of their own. */
import t from 'tap';
import perfHooks from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { recordLoopDelay } from '../../../src/metrics/loop-delay.js';
import { createHeraldMetrics } from '../../../src/metrics/registry.js';

/** Scrapes the lag family (its first gauge sets them all, and resets the delays) and reads `name`. */
const value = async (registry: Registry, name: string): Promise<number> => {
  await registry.getSingleMetric('nodejs_eventloop_lag_seconds')?.get();
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? NaN;
};

t.test('no event-loop delay monitor of its own; the lag gauges read the recorded delays', async (t) => {
  const original = perfHooks.monitorEventLoopDelay;
  let monitors = 0;
  perfHooks.monitorEventLoopDelay = (options) => {
    monitors++;
    return original(options);
  };
  const spy = perfHooks.monitorEventLoopDelay;
  t.teardown(() => {
    perfHooks.monitorEventLoopDelay = original;
  });
  const registry = new Registry();
  createHeraldMetrics(registry);
  t.equal(monitors, 0, 'no monitorEventLoopDelay (its timer would wake the loop every precision interval)');
  t.equal(perfHooks.monitorEventLoopDelay, spy, 'perf_hooks is left as it was');

  await registry.metrics(); // a scrape resets the delays
  recordLoopDelay(0);
  recordLoopDelay(12);
  recordLoopDelay(250);
  const near = (got: number, want: number) => Math.abs(got - want) <= want / 100;
  const max1 = await value(registry, 'nodejs_eventloop_lag_max_seconds');
  t.ok(near(max1, 0.25), `the longest delay recorded (${max1} s)`);
  recordLoopDelay(40);
  const max2 = await value(registry, 'nodejs_eventloop_lag_max_seconds');
  t.ok(near(max2, 0.04), `the longest since the previous scrape (${max2} s)`);
  t.ok((await value(registry, 'nodejs_eventloop_lag_p99_seconds')) >= 0, 'the percentiles are there too');
});
