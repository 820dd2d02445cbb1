import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type PriorityOutcome = { nice: number } | { error: string };

/**
 * Sets the nice value of the calling thread alone (Linux: setpriority on the thread's id, read from
 * /proc/thread-self). A nice below 0 needs CAP_SYS_NICE; without it the outcome says why and nothing
 * changes.
 */
export function setThreadNice(nice: number): PriorityOutcome {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return { error: 'no thread id in /proc/thread-self' };
    setPriority(tid, nice);
    return { nice };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
