export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it holds (→ ms it took) or `timeoutMs` passes (→ undefined). */
export async function pollUntil(
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
  intervalMs = 50,
): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await sleep(intervalMs);
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
