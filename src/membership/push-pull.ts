/** Pure helpers for the periodic full-state exchange (push-pull) and for seed addresses. */
import { splitHostPort } from '../util/host-port.js';
import { isIP } from 'node:net';
import type { NodeState } from './codec.js';
import type { NodeRecord } from './rules.js';

/** Beyond 32 members the push-pull interval grows with log2(n) so total TCP load stays flat. */
export function pushPullInterval(baseMs: number, n: number): number {
  const threshold = 32;
  if (n <= threshold) return baseMs;
  const mult = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return baseMs * mult;
}

export function toNodeState(r: NodeRecord): NodeState {
  return {
    name: r.name,
    addr: r.addr,
    port: r.port,
    meta: r.meta,
    incarnation: r.incarnation,
    state: r.state,
    protocolMin: r.protocolMin,
    protocolMax: r.protocolMax,
  };
}

/**
 * Parses a gossip address (a seed, or the agent's bind): `IP:port` or `[v6]:port`, port ≥ minPort (0
 * allowed when minPort is 0); throws with the text. Listen flags use util/host-port's parseHostPort.
 */
export function parseGossipAddress(
  text: string,
  defaultPort = 7946,
  minPort = 1,
): { host: string; port: number } {
  const parts = splitHostPort(text);
  const host = parts?.host;
  const port = parts?.port === undefined ? defaultPort : Number(parts.port);
  if (!host || isIP(host) === 0 || !Number.isInteger(port) || port < minPort || port > 65535)
    throw new Error(`membership: bad address ${JSON.stringify(text)} (want IP:port or [IPv6]:port)`);
  return { host, port };
}
