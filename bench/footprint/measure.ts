import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

export async function runCommand(cmd: string, args: string[]): Promise<string> {
  return (await promisify(execFile)(cmd, args, { env: { ...process.env, NODE_OPTIONS: '' } })).stdout;
}

export function writeResults(name: string, result: object, markdown: string): void {
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), markdown);
}
