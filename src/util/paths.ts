import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository / package root, found by walking up from this module to package.json. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot locate the Herald package root (no package.json above dist/)');
    dir = parent;
  }
  return dir;
}

/** Directory of built native artifacts: the addon and the compiled BPF objects. */
export function nativeBuildDir(): string {
  return join(projectRoot(), 'build', 'Release');
}
