import { Registry } from 'prom-client';
import t from 'tap';
import { registerConfigReloads } from '../../../src/metrics/config-reloads.js';

t.test('reloads counted by result; the last one says whether the running config is the newest', async (t) => {
  const registry = new Registry();
  const reloads = registerConfigReloads(registry);
  let text = await registry.metrics();
  t.match(text, /^herald_config_reloads_total\{result="rejected"\} 0$/m);
  t.match(text, /^herald_config_last_reload_successful 1$/m, 'the start-up config was valid');
  reloads.reloaded('applied');
  reloads.reloaded('rejected');
  text = await registry.metrics();
  t.match(text, /^herald_config_reloads_total\{result="applied"\} 1$/m);
  t.match(text, /^herald_config_reloads_total\{result="rejected"\} 1$/m);
  t.match(text, /^herald_config_last_reload_successful 0$/m);
  reloads.reloaded('applied');
  t.match(await registry.metrics(), /^herald_config_last_reload_successful 1$/m);
});
