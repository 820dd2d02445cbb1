import type { Logger } from '../util/log.js';

/** One line per VIP for a few, one summary line for many (a log line per VIP holds a loop of 10,000). */
export function logChanges(
  log: Logger,
  what: string,
  ips: readonly string[],
  at: number,
  extra: Record<string, string> = {},
): void {
  if (ips.length <= LOGGED_ONE_BY_ONE) {
    for (const ip of ips) log.info({ ip, at, ...extra }, `${what} VIP`);
  } else {
    const first = ips.slice(0, LOGGED_ONE_BY_ONE);
    log.info({ count: ips.length, first, at, ...extra }, `${what} ${ips.length} VIPs`);
  }
}
const LOGGED_ONE_BY_ONE = 20;
