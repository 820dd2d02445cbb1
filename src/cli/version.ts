import { readFileSync } from 'node:fs';
import { projectRoot } from '../util/paths.js';

export function packageVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(`${projectRoot()}/package.json`, 'utf8'));
  if (typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string') {
    return raw.version;
  }
  return '0.0.0';
}
