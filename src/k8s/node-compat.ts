import { createRequire } from 'node:module';

/**
 * @kubernetes/client-node 2.x pulls in undici 8, which needs Node ≥ 22.19 and fails to even load on the
 * Node 20 this project supports. It touches three newer APIs at load or request time; we supply inert
 * stand-ins for exactly those (zstd decompression is then unavailable, which the API server never
 * uses because we do not advertise it). Must be evaluated before the client is imported: import
 * `./client.js`, never '@kubernetes/client-node' directly.
 */
const require = createRequire(import.meta.url);
const zlib = require('node:zlib') as Record<string, unknown>;
const workerThreads = require('node:worker_threads') as Record<string, unknown>;

if (typeof zlib.createZstdDecompress !== 'function') {
  const unsupported = (): never => {
    throw new Error('zstd (de)compression needs Node >= 22.15');
  };
  zlib.createZstdDecompress = unsupported;
  zlib.createZstdCompress = unsupported;
}
if (typeof workerThreads.markAsUncloneable !== 'function') workerThreads.markAsUncloneable = () => undefined;

interface PromiseWithResolvers {
  withResolvers?: () => unknown;
}
const promiseCtor = Promise as unknown as PromiseWithResolvers;
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers() {
    let resolve: (v: unknown) => void = () => undefined;
    let reject: (e: unknown) => void = () => undefined;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export const nodeCompatApplied = true;
