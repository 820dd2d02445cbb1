import { connect, type Socket } from 'node:net';
import type { PeerConfig } from './peer-config.js';

/** Plain outbound TCP (no MD5, kernel default TTL). */
export function plainDial(cfg: PeerConfig): Socket {
  return connect({
    host: cfg.peerAddress,
    port: cfg.peerPort,
    ...(cfg.sourceAddress ? { localAddress: cfg.sourceAddress } : {}),
  });
}

/** The dialer for a peer set: plain `net` unless a peer needs MD5 or TTL control (native addon). */
export function dialerFor(_peers: readonly PeerConfig[]): (cfg: PeerConfig) => Socket {
  return plainDial;
}
