import module from 'node:module';

/**
 * Node's on-disk compile cache (V8 code cache) for Herald's own process and its worker threads: a start
 * compiles Herald's and its libraries' modules from the cache instead of from source.
 *
 * Where: `HERALD_COMPILE_CACHE` (a directory, or `off`), else `dist/.compile-cache` beside the code, so
 * the cache is writable exactly by whoever can write the code it caches (a world-writable directory such
 * as /tmp would let another user plant code that a root speaker runs). Node keeps one subdirectory per
 * Node version, architecture and uid. An unwritable directory (a read-only image, another user's
 * install) is read when it exists and never stops a start; a missing one that cannot be made means no
 * cache. `NODE_COMPILE_CACHE` (Node's own variable, already in force then) and `NODE_DISABLE_COMPILE_CACHE`
 * are left to Node.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv, besideCode: string): string | undefined {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const chosen = env.HERALD_COMPILE_CACHE;
  if (chosen === undefined || chosen === '') return besideCode;
  return chosen === 'off' ? undefined : chosen;
}

export type CompileCacheState = { enabled: true; directory: string } | { enabled: false; reason: string };

let state: CompileCacheState = { enabled: false, reason: 'not asked for' };
let workerDir: string | undefined;

/** Turns the cache on for this thread (and, through workerEnv(), for the threads it starts). Never throws. */
export function enableCompileCache(env: NodeJS.ProcessEnv, besideCode: string): CompileCacheState {
  const dir = compileCacheDir(env, besideCode);
  if (dir === undefined) {
    state = env.NODE_COMPILE_CACHE
      ? { enabled: true, directory: env.NODE_COMPILE_CACHE }
      : { enabled: false, reason: 'turned off' };
    return state;
  }
  try {
    const result = module.enableCompileCache(dir);
    const { ENABLED, ALREADY_ENABLED } = module.constants.compileCacheStatus;
    if (result.status === ENABLED || result.status === ALREADY_ENABLED) {
      workerDir = dir;
      state = { enabled: true, directory: result.directory ?? dir };
    } else state = { enabled: false, reason: result.message ?? `status ${result.status}` };
  } catch (error) {
    state = { enabled: false, reason: error instanceof Error ? error.message : String(error) };
  }
  return state;
}

export const compileCacheState = (): CompileCacheState => state;

/**
 * The environment of a worker thread: the process's, plus the cache directory this thread enabled
 * (a worker reads NODE_COMPILE_CACHE when it starts); the process's own environment is left as it is,
 * so child processes (exec health checks) are not pointed at Herald's cache.
 */
export function workerEnv(): NodeJS.ProcessEnv {
  return workerDir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: workerDir };
}
