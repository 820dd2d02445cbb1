import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Process-wide structured logger; HERALD_LOG_LEVEL overrides the level (default info). */
export function createLogger(name: string, level = process.env.HERALD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2));
}
