#!/usr/bin/env -S node --max-semi-space-size=2
import { fileURLToPath } from 'node:url';
import { enableCompileCache } from '../util/compile-cache.js';
import { unsupportedNodeMessage } from './node-version.js';

const tooOld = unsupportedNodeMessage(process.versions.node, process.execPath);
if (tooOld !== undefined) {
  process.stderr.write(tooOld);
  process.exit(1);
}

// First, so that every module after it (Herald's and its libraries') compiles from the cache.
enableCompileCache(process.env, fileURLToPath(new URL('../../.compile-cache', import.meta.url)));
await import('./program.js');
