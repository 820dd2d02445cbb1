import t from 'tap';
import { StartupStages } from '../../../src/speaker/startup-stages.js';

function clocks() {
  const c = { ms: 0, cpu: 0 };
  return { c, stages: new StartupStages({ sinceStartMs: () => c.ms, cpuMs: () => c.cpu }) };
}

t.test('each stage keeps its first time and CPU, in the order reached', async (t) => {
  const { c, stages } = clocks();
  c.ms = 1200.4;
  c.cpu = 800.6;
  stages.reached('configuration');
  c.ms = 1500;
  c.cpu = 900;
  stages.reached('attached');
  c.ms = 1700;
  stages.reached('configuration');
  t.same(stages.fields(), {
    msSinceProcessStart: { configuration: 1200, attached: 1500 },
    cpuMs: { configuration: 801, attached: 900 },
  });
  t.same(Object.keys(stages.fields().msSinceProcessStart), ['configuration', 'attached']);
});

t.test('finish marks the last stage once; nothing is marked after it', async (t) => {
  const { c, stages } = clocks();
  stages.reached('joined');
  c.ms = 3000;
  c.cpu = 2000;
  t.equal(stages.finish('gate'), true);
  c.ms = 9000;
  t.equal(stages.finish('gate'), false);
  stages.reached('decided');
  t.same(stages.fields(), {
    msSinceProcessStart: { joined: 0, gate: 3000 },
    cpuMs: { joined: 0, gate: 2000 },
  });
});

t.test('the process clocks by default: time since start and CPU only grow', async (t) => {
  const stages = new StartupStages();
  stages.reached('a');
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += i;
  t.ok(x > 0);
  stages.reached('b');
  const { msSinceProcessStart: ms, cpuMs } = stages.fields();
  t.ok(ms.a! > 0 && ms.b! >= ms.a!);
  t.ok(cpuMs.a! > 0 && cpuMs.b! >= cpuMs.a!);
});
