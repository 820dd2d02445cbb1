import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nativeBuildDir } from './paths.js';

let loaded: Readonly<Record<string, unknown>> | undefined;

/** Path of the compiled addon. */
export function nativeAddonPath(): string {
  return join(nativeBuildDir(), 'herald_native.node');
}

/** The raw addon module, loaded once. */
function nativeModule(): Readonly<Record<string, unknown>> {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const path = nativeAddonPath();
    try {
      loaded = require(path) as Record<string, unknown>;
    } catch (error) {
      throw new Error(
        `cannot load the Herald native addon at ${path} (build it with \`npx node-gyp build\`): ${(error as Error).message}`,
      );
    }
  }
  return loaded;
}

/**
 * A typed view of some of the addon's exports (each area declares the ones it uses). The returned getter
 * loads the addon on first use and checks once that every named export is a function, so a stale build
 * fails with the names it lacks instead of a TypeError later.
 */
export function nativeView<T>(names: ReadonlyArray<keyof T & string>): () => T {
  let checked: T | undefined;
  return () => {
    if (checked === undefined) {
      const mod = nativeModule();
      const missing = names.filter((name) => typeof mod[name] !== 'function');
      if (missing.length > 0)
        throw new Error(
          `the native addon at ${nativeAddonPath()} lacks ${missing.join(', ')}; rebuild it with \`npx node-gyp build\``,
        );
      checked = mod as unknown as T;
    }
    return checked;
  };
}
