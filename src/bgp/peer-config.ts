import { parseDuration } from '../config/index.js';
import type { BFDProfile, BGPPeer } from '../config/index.js';

export interface BfdSettings {
  /** Desired min TX interval (ms). */
  transmitIntervalMs: number;
  /** Required min RX interval (ms). */
  receiveIntervalMs: number;
  detectMultiplier: number;
  passive: boolean;
}

/** Everything one BGP session needs, independent of where the configuration came from. */
export interface PeerConfig {
  name: string;
  localAsn: number;
  /** undefined with dynamicAsn: accept the ASN from the peer's OPEN. */
  peerAsn?: number;
  dynamicAsn?: 'internal' | 'external';
  peerAddress: string;
  peerPort: number;
  sourceAddress?: string;
  routerId: string;
  holdTimeSec: number;
  connectRetrySec: number;
  /** Only accept connections (the speaker must listen). */
  passive: boolean;
  /** TCP MD5 key (RFC 2385), needs the native addon. */
  password?: string;
  /** eBGP multihop: TTL 255 instead of 1 on eBGP sessions. */
  ebgpMultihop: boolean;
  /**
   * GTSM (RFC 5082): require this minimum TTL on received segments (and send with TTL 255). Not derived
   * from BFDProfile.minimumTtl, which is about multihop BFD packets, not the BGP TCP session.
   */
  minTtl?: number;
  gracefulRestart: boolean;
  /** Restart time announced in the graceful restart capability (s). */
  restartTimeSec: number;
  bfd?: BfdSettings;
}

export const PEER_DEFAULTS = {
  peerPort: 179,
  holdTimeSec: 90,
  connectRetrySec: 5,
  restartTimeSec: 120,
} as const;

/** BFDProfile → BFD settings with MetalLB's defaults (300 ms, ×3). */
export function bfdSettings(profile: BFDProfile | undefined): BfdSettings | undefined {
  if (!profile) return undefined;
  return {
    transmitIntervalMs: profile.spec.transmitInterval ?? 300,
    receiveIntervalMs: profile.spec.receiveInterval ?? 300,
    detectMultiplier: profile.spec.detectMultiplier ?? 3,
    passive: profile.spec.passiveMode ?? false,
  };
}

/** BGPPeer (+ its BFDProfile) → PeerConfig. `routerId` is the node's default when the peer sets none. */
export function peerConfigFromBgpPeer(
  peer: BGPPeer,
  profiles: readonly BFDProfile[],
  routerId: string,
): PeerConfig {
  const s = peer.spec;
  const seconds = (d: string | undefined, dflt: number) =>
    d === undefined ? dflt : (parseDuration(d) ?? dflt * 1000) / 1000;
  const bfd = bfdSettings(profiles.find((p) => p.metadata.name === s.bfdProfile));
  return {
    name: peer.metadata.name,
    localAsn: s.myASN,
    ...(s.peerASN !== undefined ? { peerAsn: s.peerASN } : {}),
    ...(s.dynamicASN !== undefined ? { dynamicAsn: s.dynamicASN } : {}),
    peerAddress: s.peerAddress,
    peerPort: s.peerPort ?? PEER_DEFAULTS.peerPort,
    ...(s.sourceAddress !== undefined ? { sourceAddress: s.sourceAddress } : {}),
    routerId: s.routerID ?? routerId,
    holdTimeSec: Math.round(seconds(s.holdTime, PEER_DEFAULTS.holdTimeSec)),
    connectRetrySec: Math.max(1, Math.round(seconds(s.connectTime, PEER_DEFAULTS.connectRetrySec))),
    passive: false,
    ...(s.password !== undefined ? { password: s.password } : {}),
    ebgpMultihop: s.ebgpMultiHop ?? false,
    gracefulRestart: s.enableGracefulRestart ?? false,
    restartTimeSec: PEER_DEFAULTS.restartTimeSec,
    ...(bfd ? { bfd } : {}),
  };
}
