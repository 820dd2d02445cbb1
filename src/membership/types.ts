/** Public data shapes of the membership layer (the contract the speaker builds on). */

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  name: string;
  address: string;
  port: number;
  state: MemberState;
  incarnation: number;
  /** Application metadata (small; versioned by `incarnation`: every change bumps it). */
  meta: Buffer;
}

/** Events emitted by `Memberlist` and the payload each carries. */
export interface MemberlistEvents {
  join: [Member];
  suspect: [Member];
  alive: [Member];
  dead: [Member];
  leave: [Member];
  update: [Member];
  message: [{ from: string; payload: Buffer; key: string }];
  /** Another process claims a member name that is up at another address (see rules.ts). */
  conflict: [NameConflict];
  /** Dropped input, rate-limited: the first drop of a reason at once, then one summary per interval. */
  dropped: [DropReport];
}

export interface NameConflict {
  node: string;
  /** True when the name is ours: someone else speaks for this member. */
  self: boolean;
  /** Where the member is known to live (`addr:port`). */
  known: string;
  /** Where the other claimant says it lives. */
  claimed: string;
}

export interface DropReport {
  reason: DropReason;
  /** Drops of this reason since the previous report. */
  count: number;
  /** Up to a few distinct source addresses (`addr:port`) seen since the previous report. */
  sources: string[];
}

/** Why an input was dropped; each has a counter. */
export type DropReason =
  | 'truncated'
  | 'malformed'
  | 'unauthenticated'
  | 'plaintext'
  | 'version'
  | 'cluster'
  | 'invalid'
  | 'oversize'
  | 'misdirected'
  | 'busy'
  /** An incarnation too far ahead to be real (see incarnation.ts). */
  | 'implausible'
  /** An encrypted frame seen before (captured and sent again). */
  | 'replayed'
  /** An encrypted frame sent outside the freshness window (an old capture, or a clock far off). */
  | 'expired';
