import { readFileSync } from 'node:fs';
import { projectRoot } from '../util/paths.js';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(`${projectRoot()}/${file}`, 'utf8'));
  } catch {
    return undefined;
  }
}

function stringField(raw: unknown, key: string): string | undefined {
  if (typeof raw !== 'object' || raw === null || !(key in raw)) return undefined;
  const value = (raw as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

export function packageVersion(): string {
  return stringField(readJson('package.json'), 'version') ?? '0.0.0';
}

/** "0.1.0 (commit 1a2b3c4d5e6f)" in an image (build-info.json is written by the Dockerfile), else the version. */
export function versionText(): string {
  const commit = stringField(readJson('build-info.json'), 'commit');
  return commit ? `${packageVersion()} (commit ${commit})` : packageVersion();
}
