/**
 * CPU accounting for bench/arp's per-reply cost: exact run time (ns) of chosen tasks (a process's
 * threads, or kernel threads such as a device's threaded NAPI poller) from schedstat, plus the
 * machine-wide busy time from /proc/stat as a noise indicator.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Sum of the run times (ns) of every thread of pid; 0 when the process is gone. */
export async function taskRuntimeNs(pid: number): Promise<number> {
  let tids: string[];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let sum = 0;
  for (const tid of tids) {
    try {
      const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      sum += Number(text.split(' ')[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return sum;
}

/** Pids of the kernel threads whose name starts with `prefix` (e.g. `napi/capr0-`). */
export async function kernelThreads(prefix: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await readFile(`/proc/${entry}/comm`, 'utf8')).trim();
      if (comm.startsWith(prefix)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Machine-wide busy time (user, nice, system, irq, softirq of every CPU) in ns, from /proc/stat. */
export async function machineBusyNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = f;
  // /proc/stat counts in USER_HZ (100 per second on Linux).
  return (user + nice + system + irq + softirq) * 10_000_000;
}
