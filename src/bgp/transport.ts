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
