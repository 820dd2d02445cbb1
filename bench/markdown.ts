import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Writes `section` (markdown starting with its `## ` heading) into `file`, replacing the section whose
 * heading starts with `key` (default: the whole heading) up to the next `## ` heading, or appending it:
 * benchmarks with several parts keep each other's results in one file.
 */
export function writeSection(file: string, section: string, key?: string): void {
  const heading = section.split('\n', 1)[0] ?? '';
  if (!heading.startsWith('## ')) throw new Error(`a section starts with a "## " heading, got "${heading}"`);
  const prefix = key ?? heading;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const body = section.endsWith('\n') ? section : `${section}\n`;
  const start = text.split('\n').findIndex((line) => line.startsWith(prefix));
  if (start < 0) {
    writeFileSync(file, text === '' ? body : `${text.replace(/\n*$/, '\n\n')}${body}`);
    return;
  }
  const lines = text.split('\n');
  const next = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  const before = lines.slice(0, start).join('\n');
  const after = next < 0 ? '' : `\n${lines.slice(next).join('\n')}`;
  writeFileSync(file, `${before}${before ? '\n' : ''}${body}${after}`);
}
