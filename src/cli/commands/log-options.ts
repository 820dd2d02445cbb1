import { Option } from 'commander';
import { LOG_FORMATS } from '../../util/log.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function logLevelOption(): Option {
  return new Option('--log-level <level>', 'log level (also $HERALD_LOG_LEVEL)')
    .choices(LOG_LEVELS)
    .default(process.env.HERALD_LOG_LEVEL ?? 'info');
}

export function logFormatOption(): Option {
  return new Option(
    '--log-format <format>',
    'log lines: text on a terminal and JSON otherwise (auto), or always json / text (also $HERALD_LOG_FORMAT)',
  )
    .choices(LOG_FORMATS)
    .default(process.env.HERALD_LOG_FORMAT ?? 'auto');
}
