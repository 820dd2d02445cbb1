import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/util/paths.js';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export interface ProcessSample {
  rssKb: number;
  hwmKb: number;
  /** user + system CPU time since the process started */
  cpuMs: number;
}

export function processSample(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // fields after the parenthesised command name: utime and stime are the 12th and 13th
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuMs: ticks * TICK_MS };
}

export interface ThreadSample {
  /** user + system CPU time, ms */
  cpuMs: number;
  /** voluntary context switches: the times the thread went to sleep (each wake-up ends one) */
  sleeps: number;
}

/** CPU time and sleeps of each thread of a process, summed by thread name (comm). */
export function threadSamples(pid: number): Map<string, ThreadSample> {
  const out = new Map<string, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const sleeps = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const prev = out.get(name) ?? { cpuMs: 0, sleeps: 0 };
      out.set(name, {
        cpuMs: prev.cpuMs + (Number(rest[11]) + Number(rest[12])) * TICK_MS,
        sleeps: prev.sleeps + sleeps,
      });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

export interface ThreadIdle {
  /** % of one core */
  cpuPercent: number;
  /** wake-ups per second */
  wakeupsPerS: number;
}

/** Per thread name, between two samples `ms` apart: CPU % of one core and wake-ups/s (threads that ran). */
export function threadIdle(
  before: Map<string, ThreadSample>,
  after: Map<string, ThreadSample>,
  ms: number,
): Record<string, ThreadIdle> {
  const out: Record<string, ThreadIdle> = {};
  for (const [name, a] of after) {
    const b = before.get(name) ?? { cpuMs: 0, sleeps: 0 };
    const wakeupsPerS = Math.round(((a.sleeps - b.sleeps) / ms) * 1000);
    if (a.cpuMs === b.cpuMs && wakeupsPerS === 0) continue;
    out[name] = { cpuPercent: Number((((a.cpuMs - b.cpuMs) / ms) * 100).toFixed(2)), wakeupsPerS };
  }
  return out;
}

export async function runCommand(cmd: string, args: string[]): Promise<string> {
  return (await promisify(execFile)(cmd, args, { env: { ...process.env, NODE_OPTIONS: '' } })).stdout;
}

export function writeResults(name: string, result: object, markdown: string): void {
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), markdown);
}

/**
 * RSS of a fresh Node process (with `nodeFlags`) after it imported `modules` and collected garbage, and
 * with `idleWorkers` idle worker threads: what loading code costs before any work is done.
 */
export async function moduleFloorRssMb(
  nodeBin: string,
  nodeFlags: readonly string[],
  modules: readonly string[],
  idleWorkers = 0,
): Promise<number> {
  const code = [
    "import { Worker } from 'node:worker_threads';",
    ...modules.map((m) => `await import(${JSON.stringify(m)});`),
    `for (let i = 0; i < ${idleWorkers}; i++) await new Promise((r) => new Worker("process.getBuiltinModule('node:worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1000)", { eval: true }).once('message', r));`,
    'gc(); await new Promise((r) => setTimeout(r, 500)); gc();',
    'process.stdout.write(String(process.memoryUsage().rss)); process.exit(0);',
  ].join('\n');
  const out = await runCommand(nodeBin, [...nodeFlags, '--expose-gc', '--input-type=module', '-e', code]);
  return Math.round(Number(out) / 1024 / 1024);
}
