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
  | 'busy';
