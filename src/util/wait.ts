/**
 * Runs fn once ms have passed and the input that arrived meanwhile has been read: timers fire before
 * the poll phase of Node's event loop, so a late process would otherwise time out on an answer that is
 * already waiting in its socket. Note: clearTimeout() after the timer fired does not stop fn.
 */
export function afterDrain(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
  return setTimeout(() => setImmediate(fn), ms);
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface PollOptions {
  /** Wait between checks (the first one, with backoff); default 50 ms. */
  intervalMs?: number;
  /** With backoff: each wait doubles up to this. Default: intervalMs (no backoff). */
  maxIntervalMs?: number;
  /** Stops polling (→ undefined) when aborted. */
  signal?: AbortSignal;
}

/** Polls `check` every `intervalMs` until it holds (→ ms it took) or `timeoutMs` passes (→ undefined). */
export async function pollUntil(
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  interval: number | PollOptions = 50,
): Promise<number | undefined> {
  const opts = typeof interval === 'number' ? { intervalMs: interval } : interval;
  let wait = opts.intervalMs ?? 50;
  const maxWait = Math.max(wait, opts.maxIntervalMs ?? wait);
  const start = Date.now();
  while (Date.now() - start < timeoutMs && !opts.signal?.aborted) {
    if (await check()) return Date.now() - start;
    await sleep(wait, opts.signal);
    wait = Math.min(wait * 2, maxWait);
  }
  return undefined;
}

/** Like pollUntil, but a timeout is an error naming what was awaited. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  intervalMs = 50,
): Promise<number> {
  const took = await pollUntil(timeoutMs, check, intervalMs);
  if (took === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return took;
}
