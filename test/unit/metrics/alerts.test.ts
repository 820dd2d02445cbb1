import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { projectRoot } from '../../../src/util/paths.js';
import { requirePrerequisites } from '../../helpers/prereq.js';

const execFileAsync = promisify(execFile);
requirePrerequisites({ commands: ['promtool'] });
const rules = join(projectRoot(), 'charts', 'herald', 'files', 'alerts.yaml');
const fixtures = join(projectRoot(), 'test', 'unit', 'metrics', 'fixtures', 'alerts.test.yaml');

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileAsync('promtool', args, { timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

t.test('alert rules load in promtool check rules', async (t) => {
  const r = await promtool('check', 'rules', rules);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /SUCCESS: 6 rules found/);
  const names = (
    parse(readFileSync(rules, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> }
  ).groups
    .flatMap((g) => g.rules.map((rule) => rule.alert))
    .sort();
  t.same(names, [
    'HeraldBfdSessionDown',
    'HeraldBgpSessionDown',
    'HeraldMembersUnreachable',
    'HeraldNodeLinkSaturated',
    'HeraldTrafficConcentrated',
    'HeraldVipWithoutOwner',
  ]);
});

t.test('alerts fire (and stay quiet) in promtool test rules fixtures', async (t) => {
  const r = await promtool('test', 'rules', fixtures);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /SUCCESS/);
});

t.test('the fixtures can fail: an alert expected too early is reported', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hrl-h7-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(fixtures, 'utf8')
    .replace('../../../../charts/herald/files/alerts.yaml', rules)
    .replace(
      'eval_time: 5m\n        alertname: HeraldBgpSessionDown',
      'eval_time: 3m\n        alertname: HeraldBgpSessionDown',
    );
  writeFileSync(join(dir, 'broken.yaml'), text);
  const r = await promtool('test', 'rules', join(dir, 'broken.yaml'));
  t.equal(r.code, 1);
  t.match(r.out, /alertname: HeraldBgpSessionDown, time: 3m/);
});
