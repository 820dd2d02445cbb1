export { BgpSpeaker, type BgpSpeakerOptions, type BgpSpeakerEvents } from './speaker.js';
export {
  bgpAdvertisements,
  type AdvertisementInput,
  type AdvertisementResult,
  type BgpRoute,
} from './advertisements.js';
export {
  peerConfigFromBgpPeer,
  bfdSettings,
  type PeerConfig,
  type BfdSettings,
  PEER_DEFAULTS,
} from './peer-config.js';
export type { SessionInfo, BfdState, Dialer } from './session.js';
export type { FsmState } from './fsm.js';
