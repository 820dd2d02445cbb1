import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import {
  compileCacheDir,
  compileCacheState,
  enableCompileCache,
  workerEnv,
} from '../../../src/util/compile-cache.js';
import { projectRoot } from '../../../src/util/paths.js';

// Issue 14 (start time): the CLI compiles its modules from Node's compile cache, beside the code unless
// told otherwise; a directory it cannot use never stops a start.

const run = promisify(execFile);
const cli = join(projectRoot(), 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'herald-s-compile-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Cache files under a cache directory (Node keeps one subdirectory per version, architecture and uid). */
const entries = (cacheDir: string): number =>
  existsSync(cacheDir)
    ? readdirSync(cacheDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .reduce((n, d) => n + readdirSync(join(cacheDir, d.name)).length, 0)
    : 0;

/** The CLI's environment without whatever compile-cache settings the test runner has. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  delete env.NODE_OPTIONS;
  return env;
}

t.test('where the cache lives', async (t) => {
  const beside = '/opt/herald/dist/.compile-cache';
  t.equal(compileCacheDir({}, beside), beside, 'beside the code by default');
  t.equal(compileCacheDir({ HERALD_COMPILE_CACHE: '' }, beside), beside);
  t.equal(compileCacheDir({ HERALD_COMPILE_CACHE: '/var/cache/herald' }, beside), '/var/cache/herald');
  t.equal(compileCacheDir({ HERALD_COMPILE_CACHE: 'off' }, beside), undefined, 'off');
  t.equal(compileCacheDir({ NODE_COMPILE_CACHE: '/x' }, beside), undefined, "Node's own variable rules");
  t.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' }, beside), undefined);
});

t.test('the CLI fills the cache it is pointed at', async (t) => {
  const cache = join(dir, 'cli');
  const { stdout } = await run(process.execPath, [cli, 'speaker', '--help'], {
    env: cliEnv({ HERALD_COMPILE_CACHE: cache }),
  });
  t.match(stdout, /run a speaker on this node/);
  t.ok(entries(cache) > 10, `${entries(cache)} modules cached`);
});

t.test('a directory that cannot be made never stops the CLI', async (t) => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a directory');
  const { stdout } = await run(process.execPath, [cli, 'speaker', '--help'], {
    env: cliEnv({ HERALD_COMPILE_CACHE: join(file, 'cache') }),
  });
  t.match(stdout, /run a speaker on this node/);
});

t.test('worker threads share the cache this thread enabled', async (t) => {
  t.equal(workerEnv(), process.env, 'nothing enabled yet: the process environment');
  const never = join(dir, 'never');
  t.same(enableCompileCache({ HERALD_COMPILE_CACHE: 'off' }, never), {
    enabled: false,
    reason: 'turned off',
  });
  t.notOk(existsSync(never), 'off: no directory made');
  const failed = enableCompileCache({}, join(dir, 'a-file', 'cache'));
  t.equal(failed.enabled, false, 'a path under a file cannot be a cache');
  t.equal(workerEnv(), process.env, 'and workers get none');
  const cache = join(dir, 'workers');
  mkdirSync(cache);
  const state = enableCompileCache({}, cache);
  t.equal(state.enabled, true);
  t.same(compileCacheState(), state);
  t.equal(workerEnv().NODE_COMPILE_CACHE, cache);
  t.equal(process.env.NODE_COMPILE_CACHE, undefined, 'child processes are not pointed at it');
  const before = entries(cache);
  const worker = new Worker(new URL('../../../src/config/parse-worker.js', import.meta.url), {
    execArgv: [],
    env: workerEnv(),
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  worker.postMessage({ kind: 'config', files: [{ text: 'a: 1\n', fileName: 'x' }] });
  // It answers once and ends by itself; Node writes the cache as the thread ends.
  t.equal(await exited, 0);
  t.ok(entries(cache) > before, `the worker's modules were cached (${entries(cache) - before})`);
});
