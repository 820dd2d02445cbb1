import { connect, type Socket } from 'node:net';
import { connectTcp } from './native-sockets.js';
import type { PeerConfig } from './peer-config.js';

/** Plain outbound TCP (no MD5, kernel default TTL); resolves once connected. */
export function plainDial(cfg: PeerConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: cfg.peerAddress,
      port: cfg.peerPort,
      ...(cfg.sourceAddress ? { localAddress: cfg.sourceAddress } : {}),
    });
    const fail = (e: Error) => {
      s.destroy();
      reject(e);
    };
    s.once('error', fail);
    s.once('connect', () => {
      s.off('error', fail);
      resolve(s);
    });
  });
}

/** True when the peer needs socket options Node lacks (MD5 key, TTL for multihop, GTSM). */
export const needsNative = (cfg: PeerConfig): boolean =>
  cfg.password !== undefined || cfg.ebgpMultihop || cfg.minTtl !== undefined;

/**
 * Outbound TCP through the native addon: MD5 key, TTL 255 for multihop/GTSM and the minimum TTL are
 * set before the SYN; the connected fd becomes a `net.Socket`.
 */
export function nativeDial(cfg: PeerConfig): Promise<Socket> {
  const gtsm = cfg.minTtl !== undefined;
  return connectTcp(cfg.peerAddress, cfg.peerPort, {
    ...(cfg.password !== undefined ? { md5Key: cfg.password } : {}),
    ...(cfg.ebgpMultihop || gtsm ? { ttl: 255 } : {}),
    ...(gtsm ? { minTtl: cfg.minTtl } : {}),
    ...(cfg.sourceAddress ? { localAddress: cfg.sourceAddress } : {}),
  });
}

/** Per peer: native when needed, plain `net` otherwise (so hosts without the addon still peer). */
export function defaultDial(cfg: PeerConfig): Promise<Socket> {
  return needsNative(cfg) ? nativeDial(cfg) : plainDial(cfg);
}
