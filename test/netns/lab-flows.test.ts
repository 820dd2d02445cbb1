import { execFileSync } from 'node:child_process';
import t from 'tap';
import { renderFlowScenario } from '../../src/lab/flow-report.js';
import { ROUTER_WORKLOAD, runFlowScenario, SEED_WORKLOAD } from '../../src/lab/flow-scenario.js';
import { namespacePrefix } from '../../src/lab/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['nsenter', 'ip'] });

t.test(
  "herald lab's flow-mode part: the seed's scenario, single vs flow mode, then the owner dies",
  async (t) => {
    const steps: string[] = [];
    const report = await runFlowScenario({
      tag: 'labft',
      requests: 150,
      responseBytes: 16 * 1024,
      progress: (s) => steps.push(s),
    });
    t.ok(steps.length >= 4, 'progress reported');
    t.same(report.nodes, ['n1', 'n2', 'n3']);
    for (const workload of [SEED_WORKLOAD, ROUTER_WORKLOAD]) {
      const single = report.workloads.find((w) => w.workload === workload && w.mode === 'single');
      const flows = report.workloads.find((w) => w.workload === workload && w.mode === 'flows');
      t.equal(single?.failed, 0, `${workload}, single mode: every request answered`);
      t.equal(
        Object.keys(single?.requests ?? {}).length,
        1,
        `${workload}, single mode: one node answers all`,
      );
      t.equal(flows?.failed, 0, `${workload}, flow mode: every request answered`);
      t.same(
        Object.keys(flows?.requests ?? {}).sort(),
        ['n1', 'n2', 'n3'],
        `${workload}, flow mode: every node`,
      );
      t.ok(
        (flows?.maxMeanTx ?? Infinity) < (single?.maxMeanTx ?? 0),
        `${workload}: node TX is more even in flow mode (max/mean ${flows?.maxMeanTx.toFixed(2)} vs ${single?.maxMeanTx.toFixed(2)})`,
      );
    }
    const s = report.survival;
    t.equal(s.connections, 24, '24 long-lived connections');
    t.ok(s.onSurvivors > 0, `${s.onSurvivors} of them on surviving nodes`);
    t.equal(s.survivorsKeptWorking, s.onSurvivors, 'every connection on a surviving node kept working');
    const text = renderFlowScenario(report);
    t.match(text, /seed: one client host, 10 loops\s+single/);
    t.match(text, new RegExp(`Owner death in flow mode: killed ${s.victim}`));
    t.comment(text);
    t.notOk(
      execFileSync('ip', ['netns', 'list']).toString().includes(`${namespacePrefix()}labft-`),
      'namespaces removed',
    );
  },
);
