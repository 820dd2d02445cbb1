import { Worker } from 'node:worker_threads';
import { workerEnv } from '../util/compile-cache.js';
import { fromWire, type WireObjects } from './parsed-wire.js';
import { emptyModel } from './types.js';
import type { ParsedConfig, ParsedObjects } from './parse.js';

export interface ParseBudget {
  /**
   * The parse is stopped (worker terminated) once its thread has used this much CPU time, or after
   * WALL_FACTOR times as long by the clock (a starved host); the result is then a problem. CPU time,
   * not the clock: on a host loaded beyond its CPUs a 10,000-Service file (3.4 MB, ~7 s of CPU) took
   * over 25 s to parse and was refused at start-up.
   */
  timeoutMs: number;
  /** Aborting stops the parse at once and rejects with an AbortError (a newer version superseded it). */
  signal?: AbortSignal;
}

export const DEFAULT_PARSE_TIMEOUT_MS = 15_000;
/** The clock's bound, as a multiple of the CPU-time budget. */
export const WALL_FACTOR = 8;
/** How often the parsing thread's CPU time is read. */
const CPU_CHECK_MS = 250;
/** Heap limit of a parsing thread: junk cannot take the speaker's memory. */
const PARSER_HEAP_MB = 1024;

/**
 * A thread per parse, terminated after it, so no idle V8 isolate (~20 MB) stays resident for a config that
 * changes a few times a day; its start (tens of ms) is paid on the worker, not on the event loop.
 */
function startParser(): Worker {
  return new Worker(new URL('./parse-worker.js', import.meta.url), {
    // Not the parent's flags: a test runner's loaders would make every parser start slowly.
    execArgv: [],
    env: workerEnv(),
    resourceLimits: { maxOldGenerationSizeMb: PARSER_HEAP_MB },
  });
}

/** What the parsing thread is asked (parse-worker.ts answers each with one message). */
export type ParserRequest =
  | { kind: 'config'; files: ReadonlyArray<{ text: string; fileName: string }> }
  | { kind: 'documents'; pieces: ReadonlyArray<{ text: string; fileName: string }> };

/**
 * Parses configuration texts on a worker thread, so the event loop (heartbeat, gossip, data path
 * programming) never waits for YAML, however large or malicious the input. A parse that runs over its
 * budget or dies (out of memory, stack overflow) becomes one problem on the first file.
 */
export function parseInWorker(
  files: ReadonlyArray<{ text: string; fileName: string }>,
  budget: ParseBudget,
): Promise<ParsedConfig> {
  return runParser<ParsedConfig>({ kind: 'config', files }, budget, (message) => ({
    model: emptyModel(),
    problems: [{ file: files[0]?.fileName ?? '<input>', doc: 0, path: '', message }],
    locations: new Map(),
  }));
}

/**
 * Decodes each piece (one YAML document's text, see documents.ts) on a worker thread into its own
 * objects, without cross-object checks; a parse over budget or a dead parser gives `failed`.
 */
export async function parseDocumentsInWorker(
  pieces: ReadonlyArray<{ text: string; fileName: string }>,
  budget: ParseBudget,
): Promise<ParsedObjects[] | { failed: string }> {
  const sent = await runParser<WireObjects[] | { failed: string }>(
    { kind: 'documents', pieces },
    budget,
    (failed) => ({ failed }),
  );
  return Array.isArray(sent) ? sent.map(fromWire) : sent;
}

function runParser<T>(
  request: ParserRequest,
  budget: ParseBudget,
  failed: (message: string) => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (budget.signal?.aborted) {
      reject(abortError());
      return;
    }
    const worker = startParser();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(cpuCheck);
      budget.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const overBudget = (what: string) => () =>
      finish(() =>
        resolve(failed(`parsing took longer than ${budget.timeoutMs / 1000} s${what}; stopped (not loaded)`)),
      );
    const timer = setTimeout(
      overBudget(` (${(budget.timeoutMs * WALL_FACTOR) / 1000} s by the clock)`),
      budget.timeoutMs * WALL_FACTOR,
    );
    const cpuCheck = setInterval(
      () => {
        worker
          .cpuUsage()
          .then(({ user, system }) => {
            if ((user + system) / 1000 >= budget.timeoutMs) overBudget(' of CPU time')();
          })
          .catch(() => undefined);
      },
      Math.min(CPU_CHECK_MS, budget.timeoutMs),
    );
    const onAbort = () => finish(() => reject(abortError()));
    budget.signal?.addEventListener('abort', onAbort);
    worker.once('message', (result: T) => finish(() => resolve(result)));
    worker.once('error', (error) => finish(() => resolve(failed(`cannot parse: ${error.message}`))));
    worker.once('exit', (code) =>
      finish(() => resolve(failed(`cannot parse: the parser stopped (exit code ${code})`))),
    );
    worker.postMessage(request);
  });
}

function abortError(): Error {
  const error = new Error('configuration parse superseded');
  error.name = 'AbortError';
  return error;
}
