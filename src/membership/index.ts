export {
  JoinError,
  Memberlist,
  type MembershipStats,
  type SeedOutcome,
  type SeedResult,
} from './memberlist.js';
export {
  FAST_LAN_PROFILE,
  LAN_PROFILE,
  LOCAL_PROFILE,
  PROFILES,
  type MemberlistConfig,
  type MemberlistOptions,
  type ProfileName,
  type Timing,
  resolveConfig,
} from './config.js';
export { Keyring, parseKey } from './keyring.js';
export { suspicionBounds, suspicionTimeout } from './suspicion.js';
export { retransmitLimit } from './broadcast-queue.js';
export { PROTOCOL_VERSION, MIN_PROTOCOL_VERSION } from './codec.js';
export type { DropReason, DropReport, Member, MemberState, MemberlistEvents, NameConflict } from './types.js';
export { compareIncarnation, nextIncarnation } from './incarnation.js';
