/**
 * Incarnation arithmetic at the wire's 32-bit limit. Incarnations live on a circle (RFC 1982 serial
 * numbers): `a` is newer than `b` when it is 1..MAX_INCARNATION_STEP ahead, older when it is less than
 * 2^31 behind, and anything in between (2^31 exactly included) is implausible
 * (no member bumps its own incarnation 2^24 times between two pieces of news a peer hears) and ignored.
 * So nothing wraps into "older", and every accusation a peer believes can be refuted with an incarnation
 * that peer believes too: a forged "left at 0xFFFFFFFF" about a member known at 3 is simply old news.
 */

export const INCARNATION_MODULUS = 2 ** 32;
/** The largest step ahead that is still believed (a member bumps once per refutation or metadata change). */
export const MAX_INCARNATION_STEP = 2 ** 24;

export type IncarnationOrder = 'same' | 'newer' | 'older' | 'implausible';

/** Where `a` stands relative to `b` (both uint32). */
export function compareIncarnation(a: number, b: number): IncarnationOrder {
  const ahead = (a - b + INCARNATION_MODULUS) % INCARNATION_MODULUS;
  if (ahead === 0) return 'same';
  if (ahead <= MAX_INCARNATION_STEP) return 'newer';
  if (ahead > INCARNATION_MODULUS / 2) return 'older';
  return 'implausible';
}

/** The incarnation after `a` (wraps from 0xFFFFFFFF to 0, which is newer). */
export function nextIncarnation(a: number): number {
  return (a + 1) % INCARNATION_MODULUS;
}
