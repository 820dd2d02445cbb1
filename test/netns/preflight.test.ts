import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { projectRoot } from '../../src/util/paths.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { TestLan } from '../helpers/netns.js';

// Issue 13: `ip netns exec` remounts /sys without the bpffs; the speaker used to spin in a silent mkdir
// loop there. Now it exits at once with one line saying why and what to use instead.

const run = promisify(execFile);

t.test('a speaker started with `ip netns exec` exits with one clear line', async (t) => {
  requirePrerequisites({ root: true, commands: ['ip'] });
  const lan = new TestLan('pre');
  t.teardown(() => lan.destroy());
  const ns = await lan.createNamespace('n1');
  const cli = join(projectRoot(), 'dist/src/cli/main.js');
  const config = join(projectRoot(), 'examples/standalone.yaml');
  const started = Date.now();
  const result = await run(
    'ip',
    ['netns', 'exec', ns, process.execPath, cli, 'speaker', '--config', config],
    {
      timeout: 30_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  t.equal(result.code, 1, 'exits 1 (no loop)');
  t.match(result.stderr, /^herald: \/sys\/fs\/bpf is not a bpffs .*nsenter --net=\/run\/netns\/NAME/);
  t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  t.comment(`exited after ${Date.now() - started} ms`);
});
