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
  const read = await readLimitedBytes(path, maxBytes);
  return 'problem' in read ? read : { text: read.bytes.toString('utf8') };
}

/** readLimited's bytes, not decoded (a reload compares them with the last version's first). */
export async function readLimitedBytes(
  path: string,
  maxBytes: number,
): Promise<{ bytes: Buffer } | { problem: Problem }> {
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
    // One buffer of the size seen (+1 to notice growth), not zero-filled: a 3.6 MB file costs one read and
    // one decode. The file may grow while we read it: grow the buffer, and stop past maxBytes.
    let buffer = Buffer.allocUnsafe(Math.min(size + 1, maxBytes + 1));
    let length = 0;
    while (length <= maxBytes) {
      if (length === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return tooBig(length);
    return { bytes: buffer.subarray(0, length) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return problem(`cannot read file${code ? ` (${code})` : ''}`);
  } finally {
    await handle.close();
  }
}
