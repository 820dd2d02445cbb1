import { open } from 'node:fs/promises';
import type { Problem } from './types.js';

/** Default cap on one configuration file: far above any real configuration (10,000 Services ≈ 3 MB). */
export const DEFAULT_CONFIG_MAX_BYTES = 16 * 1024 * 1024;

const limit = (n: number): string =>
  n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n.toLocaleString('en-US')}-byte`;

/**
 * Reads a file as UTF-8, but never more than `maxBytes` (+1 to notice a larger one): a file of junk
 * cannot make the speaker read or parse without bound. Returns the text, or the problem to report.
 */
export async function readLimited(
  path: string,
  maxBytes: number,
): Promise<{ text: string } | { problem: Problem }> {
  const problem = (message: string) => ({ problem: { file: path, doc: 0, path: '', message } });
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return problem(`cannot read file${code ? ` (${code})` : ''}`);
  }
  try {
    const size = (await handle.stat()).size;
    const tooBig = (n: number) =>
      problem(
        `file is ${n.toLocaleString('en-US')} bytes, over the ${limit(maxBytes)} limit for a configuration (--config-max-bytes)`,
      );
    if (size > maxBytes) return tooBig(size);
    // The file may grow while we read it: read in chunks and stop past maxBytes.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(1024 * 1024, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > maxBytes) return tooBig(length);
    return { text: Buffer.concat(chunks, length).toString('utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return problem(`cannot read file${code ? ` (${code})` : ''}`);
  } finally {
    await handle.close();
  }
}
