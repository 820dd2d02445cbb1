import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { lastWarnings } from '../../../src/lab/flow-scenario.js';

t.test("a speaker's last warnings, for a readiness timeout's message", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-flow-scenario-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'n1.log');
  const at = Date.UTC(2026, 10, 27, 19, 0, 0);
  writeFileSync(
    log,
    [
      JSON.stringify({ level: 30, time: at, msg: 'XDP attached in generic mode' }),
      JSON.stringify({ level: 40, time: at, msg: 'control loop stalled' }),
      'not json',
      JSON.stringify({ level: 50, time: at + 1000, msg: 'owner watch thread failed' }),
      JSON.stringify({ level: 40, msg: 'a' }),
      JSON.stringify({ level: 40, msg: 'b' }),
      JSON.stringify({ level: 40, msg: 'c' }),
      '',
    ].join('\n'),
  );
  t.same(lastWarnings(log), ['owner watch thread failed @2026-11-27T19:00:01.000Z', 'a', 'b', 'c']);
  t.same(lastWarnings(log, 10), [
    'control loop stalled @2026-11-27T19:00:00.000Z',
    'owner watch thread failed @2026-11-27T19:00:01.000Z',
    'a',
    'b',
    'c',
  ]);
  t.same(lastWarnings(join(dir, 'missing.log')), [], 'no log (removed, never written): none');
});
