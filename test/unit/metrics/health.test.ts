import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import t from 'tap';
import { ALL_FAILING, failingCounts } from '../../../src/health/gossip.js';
import { registerHealthMetrics } from '../../../src/metrics/health.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

requirePrerequisites({ commands: ['promtool'] });

t.test('health check metrics: verdicts, failing nodes, probes and their latency', async (t) => {
  const registry = new Registry();
  let verdicts = new Map([
    ['shop/web', true],
    ['shop/api', false],
  ]);
  let failing = new Map([
    ['shop/web', 0],
    ['shop/api', 2],
  ]);
  const health = registerHealthMetrics(registry, { verdicts: () => verdicts, failingNodes: () => failing });
  health.probe('shop/web', true, 3);
  health.probe('shop/web', true, 700);
  health.probe('shop/api', false, 500);
  const text = await registry.metrics();
  t.match(text, 'herald_health_check_passing{service="shop/web"} 1');
  t.match(text, 'herald_health_check_passing{service="shop/api"} 0');
  t.match(text, 'herald_health_check_failing_nodes{service="shop/api"} 2');
  t.match(text, 'herald_health_check_failing_nodes{service="shop/web"} 0');
  t.match(text, 'herald_health_check_probes_total{service="shop/web",result="pass"} 2');
  t.match(text, 'herald_health_check_probes_total{service="shop/api",result="fail"} 1');
  t.match(text, 'herald_health_check_probe_duration_seconds_bucket{le="0.005",service="shop/web"} 1');
  t.match(text, 'herald_health_check_probe_duration_seconds_bucket{le="1",service="shop/web"} 2');
  t.match(text, 'herald_health_check_probe_duration_seconds_sum{service="shop/web"} 0.703');

  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);

  // a check that goes away leaves no stale series behind
  verdicts = new Map([['shop/web', true]]);
  failing = new Map([['shop/web', 1]]);
  const after = await registry.metrics();
  t.notMatch(after, 'herald_health_check_passing{service="shop/api"}');
  t.notMatch(after, 'herald_health_check_failing_nodes{service="shop/api"}');
  t.match(after, 'herald_health_check_failing_nodes{service="shop/web"} 1');
});

t.test('failing nodes per checked service, from gossiped verdicts', async (t) => {
  const gossiped: Array<Record<string, string>> = [
    {},
    { 'shop/api': 'connect refused' },
    { [ALL_FAILING]: '' },
    { 'other/x': '' },
  ];
  t.same(
    failingCounts(gossiped, ['shop/api', 'shop/web']),
    new Map([
      ['shop/api', 2],
      ['shop/web', 1],
    ]),
    'a node that says everything fails counts for every checked service',
  );
  t.same(failingCounts([], ['shop/api']), new Map([['shop/api', 0]]));
});
