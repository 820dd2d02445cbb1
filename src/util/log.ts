import { writeSync } from 'node:fs';
import { type DestinationStream, type Logger, pino } from 'pino';
import { formatLogLine } from './log-text.js';

export type { Logger } from 'pino';

export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Process-wide structured logger on stderr. HERALD_LOG_LEVEL overrides the level (default info),
 * HERALD_LOG_FORMAT the format: `auto` (default) is text on a terminal and JSON lines otherwise (journald,
 * files, pods, the lab), `json` and `text` force one.
 */
export function createLogger(
  name: string,
  level = process.env.HERALD_LOG_LEVEL ?? 'info',
  format: LogFormat = parseLogFormat(process.env.HERALD_LOG_FORMAT ?? 'auto'),
): Logger {
  const text = format === 'text' || (format === 'auto' && process.stderr.isTTY === true);
  return pino(
    { name, level },
    text ? textDestination(2, process.stderr.isTTY === true) : pino.destination(2),
  );
}

export function parseLogFormat(value: string): LogFormat {
  const found = LOG_FORMATS.find((f) => f === value);
  if (!found) throw new Error(`log format must be one of ${LOG_FORMATS.join(', ')}, got ${value}`);
  return found;
}

/** pino's lines rendered as text and written synchronously (a terminal: nothing is lost on exit). */
export function textDestination(fd: number, color: boolean): DestinationStream {
  return { write: (line: string) => void writeSync(fd, formatLogLine(line, color)) };
}
