import { JoinError, type SeedResult } from '../membership/index.js';
import { pollUntil, sleep } from '../util/wait.js';

/** What seed joining needs of the membership. */
export interface SeedTarget {
  /** Joins through the given seeds; resolves to how many answered. */
  join(seeds: string[]): Promise<number>;
  /** Members currently alive, this node included. */
  aliveCount(): number;
}

const ATTEMPT_INTERVAL_MS = 200;

/**
 * Tries every seed at once until one answers or `graceMs` runs out (true: joined, or nobody to join).
 * The first full state exchange with any seed is enough to decide with the cluster's view.
 */
export async function joinFirstSeed(
  target: SeedTarget,
  seeds: readonly string[],
  graceMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (seeds.length === 0) return true;
  const done = new AbortController();
  const stop = () => done.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const attempts = seeds.map((seed) =>
    pollUntil(graceMs, async () => (await target.join([seed]).catch(() => 0)) > 0, {
      intervalMs: ATTEMPT_INTERVAL_MS,
      signal: done.signal,
    }).then((took) => (took === undefined ? Promise.reject(new Error(`no answer from ${seed}`)) : true)),
  );
  // A join call can itself hang past the grace; the grace bounds the wait, not only the retries.
  const joined = await Promise.race([
    Promise.any(attempts).catch(() => false),
    sleep(graceMs, done.signal).then(() => false),
  ]);
  done.abort();
  signal?.removeEventListener('abort', stop);
  return joined;
}

/**
 * A speaker that started alone keeps knocking on its seeds (backing off to 10 s) until it knows another
 * member; otherwise a node whose link came up late would stay a cluster of one and answer for everything.
 * Resolves true when a join through the seeds succeeded, false when another member appeared by itself or
 * the signal aborted.
 */
export async function keepJoining(
  target: SeedTarget,
  seedList: () => string[],
  signal?: AbortSignal,
): Promise<boolean> {
  let joined = false;
  await pollUntil(
    Infinity,
    async () => {
      if (target.aliveCount() > 1) return true;
      const seeds = seedList();
      joined = seeds.length > 0 && (await target.join(seeds).catch(() => 0)) > 0;
      return joined;
    },
    { intervalMs: 500, maxIntervalMs: 10_000, ...(signal ? { signal } : {}) },
  );
  return joined;
}

/**
 * Seeds that are there but would not or could not let this node in: they took the connection and sent
 * nothing we could read (another gossip key, or none), or they know this node's name alive elsewhere.
 * Unlike unreachable seeds, these mean a cluster exists: a node refused by it must answer nothing.
 */
export function refusals(error: unknown): SeedResult[] {
  if (!(error instanceof JoinError)) return [];
  return error.results.filter((r) => r.outcome === 'rejected' || r.outcome === 'conflict');
}

/** The seeds to try: configured and discovered ones, without this node's own addresses. */
export function seedCandidates(
  configured: readonly string[],
  discovered: readonly string[],
  self: readonly string[],
): string[] {
  const own = new Set(self);
  return [...new Set([...configured, ...discovered])].filter((s) => !own.has(s));
}
