import { JoinError, type SeedOutcome, type SeedResult } from '../membership/index.js';
import { pollUntil, sleep } from '../util/wait.js';

/** What seed joining needs of the membership. */
export interface SeedTarget {
  /** A full state exchange with one seed; never rejects. */
  contact(seed: string): Promise<SeedResult>;
  /** Members currently alive, this node included. */
  aliveCount(): number;
}

/**
 * Where a speaker with seeds stands (the join gate, docs/membership.md):
 * - `joined`: a seed let it in, or another member reached it: it decides with the cluster's view;
 * - `alone`: every seed unreachable (nothing listens there, or no route): a cold start, or a node alone
 *   on its segment: it decides with what it knows and keeps knocking;
 * - `waiting`: a seed took the connection but sent nothing in time (a member busy or still starting), or
 *   the first attempt has not finished: somebody is there, so it answers nothing and retries;
 * - `refused`: a seed closed the connection unanswered or answered something unreadable (another gossip
 *   key or none), or knows this node's name alive elsewhere: it answers nothing until a join succeeds.
 */
export type Standing = 'joined' | 'alone' | 'waiting' | 'refused';

/** The standing that the latest outcome of each seed gives (undefined: no attempt finished yet). Pure. */
export function standingOf(outcomes: Iterable<SeedOutcome | undefined>): Standing {
  let refused = false;
  let waiting = false;
  for (const outcome of outcomes) {
    if (outcome === 'joined') return 'joined';
    if (outcome === 'rejected' || outcome === 'conflict') refused = true;
    else if (outcome === undefined || outcome === 'busy') waiting = true;
  }
  return refused ? 'refused' : waiting ? 'waiting' : 'alone';
}

/**
 * The standing after another round of attempts. Joined stays joined (a refusal by one seed after another
 * let this node in says that seed is misconfigured, not this node). A refusal silences even a node that
 * serves alone: a cluster is there and will not let it in. Slow seeds never silence a node that already
 * serves alone; only every seed unreachable frees a waiting node; a refused one waits for a join. Pure.
 */
export function nextStanding(current: Standing, observed: Standing): Standing {
  if (current === 'joined' || observed === 'joined') return 'joined';
  if (observed === 'refused') return 'refused';
  if (observed === 'alone' && current === 'waiting') return 'alone';
  return current;
}

/** What a failed join said about one seed (membership/sync JoinError), or `unreachable`. */
export function seedResult(seed: string, error: unknown): SeedResult {
  const known = error instanceof JoinError ? error.results.find((r) => r.seed === seed) : undefined;
  return (
    known ?? { seed, outcome: 'unreachable', error: error instanceof Error ? error.message : String(error) }
  );
}

/**
 * First retry of a seed that did not let this node in; doubled per attempt up to RETRY_MAX_MS, except for
 * a seed not listening (unreachable), asked again every RETRY_MS.
 */
const RETRY_MS = 200;
const RETRY_MAX_MS = 1600;

export interface FirstJoin {
  standing: Standing;
  /** The latest finished attempt of each seed. */
  results: SeedResult[];
}

/**
 * Tries every seed at once, each again (see RETRY_MS), until one lets this node in or `graceMs` runs out;
 * the standing then is that of each seed's latest outcome. No seeds: nobody to join (`joined`).
 */
export async function joinFirstSeed(
  target: SeedTarget,
  seeds: readonly string[],
  graceMs: number,
  signal?: AbortSignal,
  /** The wait between two attempts at one seed (tests record it). */
  retryWait: (ms: number, signal: AbortSignal) => Promise<void> = sleep,
): Promise<FirstJoin> {
  if (seeds.length === 0) return { standing: 'joined', results: [] };
  const done = new AbortController();
  const stop = () => done.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const latest = new Map<string, SeedResult | undefined>(seeds.map((s) => [s, undefined]));
  const attempt = async (seed: string): Promise<void> => {
    let backoff = RETRY_MS;
    while (!done.signal.aborted) {
      const result = await target.contact(seed);
      if (done.signal.aborted) return;
      latest.set(seed, result);
      if (result.outcome === 'joined') return done.abort();
      // Nobody listens there yet (speakers started together: each binds its port seconds into its start):
      // asking again costs a refused connection, and every doubling was up to 1.6 s of start-up lost.
      if (result.outcome === 'unreachable') {
        await retryWait(RETRY_MS, done.signal);
        continue;
      }
      await retryWait(backoff, done.signal);
      backoff = Math.min(2 * backoff, RETRY_MAX_MS);
    }
  };
  // A contact can itself hang past the grace: the grace bounds the wait, not only the retries.
  await Promise.race([Promise.all(seeds.map(attempt)), sleep(graceMs, done.signal)]);
  done.abort();
  signal?.removeEventListener('abort', stop);
  const results = [...latest.values()].filter((r) => r !== undefined);
  return { standing: standingOf([...latest.values()].map((r) => r?.outcome)), results };
}

const CHECK_MS = 200;
const KNOCK_MS = 500;
const KNOCK_MAX_MS = 10_000;

/**
 * A speaker that has not joined keeps knocking on every seed at once (backing off to 10 s) until one lets
 * it in ('seeds') or another member reaches it by itself ('member'; checked between knocks), or the signal
 * aborts. Each round's standing goes to `onRound`. Without this, a node whose link came up late would stay
 * a cluster of one and answer for everything, and a waiting or refused one would never answer.
 */
export async function keepJoining(
  target: SeedTarget,
  seedList: () => string[],
  onRound: (standing: Standing, results: readonly SeedResult[]) => void,
  signal?: AbortSignal,
): Promise<'seeds' | 'member' | 'aborted'> {
  let wait = KNOCK_MS;
  let next = 0;
  const others = () => target.aliveCount() > 1;
  while (!signal?.aborted) {
    if (others()) return 'member';
    if (Date.now() >= next) {
      // A knock can take two TCP timeouts; another member reaching this node meanwhile ends it.
      const knocked = new AbortController();
      const results = await Promise.race([
        Promise.all(seedList().map((seed) => target.contact(seed))),
        pollUntil(Infinity, others, {
          intervalMs: CHECK_MS,
          signal: signal ? AbortSignal.any([signal, knocked.signal]) : knocked.signal,
        }).then(() => undefined),
      ]);
      knocked.abort();
      if (signal?.aborted) break;
      if (!results) return 'member';
      const standing = standingOf(results.map((r) => r.outcome));
      if (standing === 'joined') return 'seeds';
      if (results.length > 0) onRound(standing, results);
      next = Date.now() + wait;
      wait = Math.min(2 * wait, KNOCK_MAX_MS);
    }
    await sleep(Math.max(0, Math.min(CHECK_MS, next - Date.now())), signal);
  }
  return 'aborted';
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
