import type { DocumentCache } from './document-cache.js';
import { DEFAULT_CONFIG_MAX_BYTES, readLimitedBytes } from './read-limited.js';
import { parseConfigTexts, type ParsedConfig } from './parse.js';
import { parseInWorker, type ParseBudget } from './parse-off-thread.js';
import type { Problem } from './types.js';

export interface LoadOptions {
  /** Files larger than this are a problem, not read further (default 16 MiB). */
  maxBytes?: number;
  /** Parse on a worker thread within this budget (the speaker); without it, parse here (the CLI). */
  worker?: ParseBudget;
  /** With `worker`: decode only the documents this cache has not seen (a reload of large files). */
  documents?: DocumentCache;
}

/** The only file I/O of the config area: reads files and hands their text to the pure parser. */
export async function loadConfigFiles(
  paths: readonly string[],
  opts: LoadOptions = {},
): Promise<ParsedConfig> {
  const read: Array<{ bytes: Buffer; fileName: string }> = [];
  const unreadable: Problem[] = [];
  for (const path of paths) {
    const got = await readLimitedBytes(path, opts.maxBytes ?? DEFAULT_CONFIG_MAX_BYTES);
    if ('problem' in got) unreadable.push(got.problem);
    else read.push({ bytes: got.bytes, fileName: path });
  }
  if (opts.documents && opts.worker && unreadable.length === 0 && read.length > 0) {
    const known = await opts.documents.parseBytes(read, opts.worker);
    // Problems are reported from a parse of the whole files (exact documents and lines).
    if (known && known.problems.length === 0) return known;
  }
  const files = read.map(({ bytes, fileName }) => ({ text: bytes.toString('utf8'), fileName }));
  const parsed =
    opts.worker && files.length > 0 ? await parseInWorker(files, opts.worker) : parseConfigTexts(files);
  return { ...parsed, problems: [...unreadable, ...parsed.problems] };
}

export const loadConfigFile = (path: string, opts: LoadOptions = {}): Promise<ParsedConfig> =>
  loadConfigFiles([path], opts);
