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

/** CPU time (user + system, ms) of each thread of a process, summed by thread name (comm). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) * TICK_MS);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Per thread name: % of one core between two threadCpuMs samples `ms` apart (threads that ran only). */
export function threadPercent(
  before: Map<string, number>,
  after: Map<string, number>,
  ms: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, cpu] of after) {
    const pct = ((cpu - (before.get(name) ?? 0)) / ms) * 100;
    if (pct > 0) out[name] = Number(pct.toFixed(2));
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
