/**
 * Typed view of the socket functions of the native addon (`native/sockets*.cc`): TCP sockets with MD5
 * keys and TTL control handed to Node as `net.Socket`, and a UDP socket that reports received TTLs.
 */
import { Socket } from 'node:net';
import { nativeView } from '../util/native-addon.js';

export interface UdpTtlSocketHandle {
  /** Bytes sent, 0 when the socket buffer was full. */
  send(data: Buffer, address: string, port: number): number;
  localPort(): number;
  close(): void;
}

type UdpTtlSocketCtor = new (
  family: 4 | 6,
  bindAddress: string,
  port: number,
  ttl: number,
  onMessage?: (data: Buffer, address: string, port: number, ttl: number) => void,
) => UdpTtlSocketHandle;

export interface SocketsNative {
  tcpSocket(family: 4 | 6): number;
  tcpBind(fd: number, address: string, port: number): void;
  tcpSetMd5(fd: number, peerAddress: string, key: string, prefixLength?: number): void;
  tcpListen(fd: number, backlog: number): void;
  tcpConnect(fd: number, address: string, port: number, timeoutMs: number): Promise<void>;
  setTtl(fd: number, ttl: number): void;
  setMinTtl(fd: number, minTtl: number): void;
  /** bpf_map.cc's closeFd: one close for every fd the addon hands out. */
  closeFd(fd: number): void;
  UdpTtlSocket: UdpTtlSocketCtor;
}

const names: ReadonlyArray<keyof SocketsNative> = [
  'tcpSocket',
  'tcpBind',
  'tcpSetMd5',
  'tcpListen',
  'tcpConnect',
  'setTtl',
  'setMinTtl',
  'closeFd',
  'UdpTtlSocket',
];

/** The addon's socket functions; throws a clear error when the addon is missing or too old. */
export const socketsNative = nativeView<SocketsNative>(names);

export interface TcpOptions {
  /** TCP MD5 key (RFC 2385) for the peer. */
  md5Key?: string;
  /** Outgoing TTL / hop limit. */
  ttl?: number;
  /** GTSM: minimum TTL of received segments. */
  minTtl?: number;
  localAddress?: string;
}

const familyOf = (addr: string): 4 | 6 => (addr.includes(':') ? 6 : 4);

/**
 * Connects to `address:port` with the options set before the SYN, and returns a connected `net.Socket`
 * adopting the fd. Rejects with the connect errno (ECONNREFUSED, ETIMEDOUT...).
 */
export async function connectTcp(
  address: string,
  port: number,
  opts: TcpOptions,
  timeoutMs = 5000,
): Promise<Socket> {
  const n = socketsNative();
  const fd = n.tcpSocket(familyOf(address));
  try {
    if (opts.localAddress) n.tcpBind(fd, opts.localAddress, 0);
    if (opts.md5Key) n.tcpSetMd5(fd, address, opts.md5Key);
    if (opts.ttl !== undefined) n.setTtl(fd, opts.ttl);
    if (opts.minTtl !== undefined) n.setMinTtl(fd, opts.minTtl);
    await n.tcpConnect(fd, address, port, timeoutMs);
  } catch (e) {
    n.closeFd(fd);
    throw e;
  }
  return new Socket({ fd, readable: true, writable: true });
}

/**
 * A listening TCP socket (fd) for `server.listen({ fd })`, with MD5 keys for the given peers set on it
 * (the kernel then verifies every inbound SYN from those peers) and optional GTSM.
 */
export function listenTcp(
  address: string,
  port: number,
  opts: { md5: Array<{ peer: string; key: string; prefixLength?: number }>; minTtl?: number; ttl?: number },
): number {
  const n = socketsNative();
  const fd = n.tcpSocket(familyOf(address));
  try {
    n.tcpBind(fd, address, port);
    for (const k of opts.md5) n.tcpSetMd5(fd, k.peer, k.key, k.prefixLength);
    if (opts.ttl !== undefined) n.setTtl(fd, opts.ttl);
    if (opts.minTtl !== undefined) n.setMinTtl(fd, opts.minTtl);
    n.tcpListen(fd, 64);
  } catch (e) {
    n.closeFd(fd);
    throw e;
  }
  return fd;
}
