import { readFile } from 'node:fs/promises';
import { parseConfigTexts, type ParsedConfig } from './parse.js';
import type { Problem } from './types.js';

/** The only file I/O of the config area: reads files and hands their text to the pure parser. */
export async function loadConfigFiles(paths: readonly string[]): Promise<ParsedConfig> {
  const files: Array<{ text: string; fileName: string }> = [];
  const unreadable: Problem[] = [];
  for (const path of paths) {
    try {
      files.push({ text: await readFile(path, 'utf8'), fileName: path });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      unreadable.push({
        file: path,
        doc: 0,
        path: '',
        message: `cannot read file${code ? ` (${code})` : ''}`,
      });
    }
  }
  const parsed = parseConfigTexts(files);
  return { ...parsed, problems: [...unreadable, ...parsed.problems] };
}

export const loadConfigFile = (path: string): Promise<ParsedConfig> => loadConfigFiles([path]);
