/**
 * Byte layouts of the XDP program's maps (mirror of bpf/lib/types.h); the bucket model is l2/buckets.
 * Pure functions only: no kernel access here, so every encoder is unit-testable.
 */
import ipaddr from 'ipaddr.js';
import { ALL_BUCKETS } from '../l2/buckets.js';
import { addressBytes } from '../util/ip-bytes.js';

export const PROGRAM_NAME = 'herald_xdp';
/** Trivial XDP_PASS program in the same object (benchmark baseline, veth peer for native XDP_TX). */
export const PASS_PROGRAM_NAME = 'herald_pass';

export const MAP_NAMES = {
  vips: 'herald_vips',
  counters: 'herald_counters',
  clients: 'herald_clients',
  config: 'herald_config',
  vipIfs: 'herald_vip_ifs',
} as const;

export const ADDR_KEY_SIZE = 16;
export const VIP_VALUE_SIZE = 24;
export const COUNTERS_VALUE_SIZE = 40;
export const CLIENT_VALUE_SIZE = 24;
export const CONFIG_VALUE_SIZE = 16;
export const VIP_IF_KEY_SIZE = 20;
export const VIP_IF_VALUE_SIZE = 8;

export const ACTION_ANSWER = 1;
export const ACTION_SUPPRESS = 2;

export type VipAction = 'answer' | 'suppress';

export interface VipEntry {
  action: VipAction;
  /** MAC put into replies (answer entries); zeros for suppress entries. */
  mac: Buffer;
  /** 0 = any interface. */
  ifindex: number;
  /** 0 = any; otherwise the innermost 802.1Q VLAN ID the request must carry. */
  vlan: number;
  /** Spread bitmap: bit clientBucket(requester) must be set to answer. */
  buckets: bigint;
}

export interface VipCounters {
  rxPackets: bigint;
  rxBytes: bigint;
  arpRequests: bigint;
  ndpRequests: bigint;
  replies: bigint;
}

export interface LearnedClient {
  ip: string;
  mac: Buffer;
  lastSeenNs: bigint;
  ifindex: number;
}

export interface DatapathConfig {
  heartbeatNs: bigint;
  livenessBoundNs: bigint;
}

/** Map key for an address: IPv4 as v4-mapped IPv6 (::ffff:a.b.c.d), IPv6 as is. */
export function addrKey(ip: string): Buffer {
  const bytes = addressBytes(ip);
  if (bytes.length === 16) return bytes;
  const key = Buffer.alloc(ADDR_KEY_SIZE);
  key[10] = 0xff;
  key[11] = 0xff;
  bytes.copy(key, 12);
  return key;
}

/** Inverse of addrKey: dotted quad for v4-mapped keys, RFC 5952 text for IPv6. */
export function addrFromKey(key: Buffer): string {
  if (key.length !== ADDR_KEY_SIZE) throw new Error(`address key must be 16 bytes, got ${key.length}`);
  // IPv4-mapped (::ffff:a.b.c.d), the common case, without a parse: map dumps decode every key each second.
  if (key.readBigUInt64BE(0) === 0n && key.readUInt32BE(8) === 0xffff)
    return `${key[12]}.${key[13]}.${key[14]}.${key[15]}`;
  const v6 = ipaddr.IPv6.parse(ipaddr.fromByteArray([...key]).toString());
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString();
}

export function encodeVip(e: VipEntry): Buffer {
  if (e.mac.length !== 6) throw new Error(`VIP MAC must be 6 bytes, got ${e.mac.length}`);
  if (!Number.isInteger(e.ifindex) || e.ifindex < 0 || e.ifindex > 0xffffffff)
    throw new Error(`VIP ifindex out of range: ${e.ifindex}`);
  if (!Number.isInteger(e.vlan) || e.vlan < 0 || e.vlan > 4094)
    throw new Error(`VIP vlan out of range: ${e.vlan}`);
  if (e.buckets < 0n || e.buckets > ALL_BUCKETS) throw new Error(`VIP buckets must fit in 64 bits`);
  const buf = Buffer.alloc(VIP_VALUE_SIZE);
  buf.writeBigUInt64LE(e.buckets, 0);
  buf.writeUInt32LE(e.ifindex, 8);
  buf.writeUInt16LE(e.vlan, 12);
  e.mac.copy(buf, 14);
  buf[20] = e.action === 'answer' ? ACTION_ANSWER : ACTION_SUPPRESS;
  return buf;
}

/** A further interface a VIP is answered on, with that interface's MAC (herald_vip_ifs). */
export interface VipInterface {
  ifindex: number;
  mac: Buffer;
}

export function encodeVipIfKey(ip: string, ifindex: number): Buffer {
  const key = Buffer.alloc(VIP_IF_KEY_SIZE);
  addrKey(ip).copy(key, 0);
  key.writeUInt32LE(ifindex, ADDR_KEY_SIZE);
  return key;
}

export function decodeVipIfKey(key: Buffer): { ip: string; ifindex: number } {
  return { ip: addrFromKey(key.subarray(0, ADDR_KEY_SIZE)), ifindex: key.readUInt32LE(ADDR_KEY_SIZE) };
}

export function encodeVipIf(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error(`MAC must be 6 bytes, got ${mac.length}`);
  const buf = Buffer.alloc(VIP_IF_VALUE_SIZE);
  mac.copy(buf, 0);
  return buf;
}

export function decodeVip(buf: Buffer): VipEntry {
  if (buf.length < VIP_VALUE_SIZE) throw new Error(`VIP value too short: ${buf.length} bytes`);
  return {
    buckets: buf.readBigUInt64LE(0),
    ifindex: buf.readUInt32LE(8),
    vlan: buf.readUInt16LE(12),
    mac: Buffer.from(buf.subarray(14, 20)),
    action: buf[20] === ACTION_ANSWER ? 'answer' : 'suppress',
  };
}

export function zeroCounters(): VipCounters {
  return { rxPackets: 0n, rxBytes: 0n, arpRequests: 0n, ndpRequests: 0n, replies: 0n };
}

/**
 * Sums a per-CPU counters value: `buf` holds one 40-byte slot per possible CPU (the kernel's layout for
 * per-CPU maps: num_possible_cpus × roundup(40, 8)).
 */
export function sumPerCpuCounters(buf: Buffer): VipCounters {
  if (buf.length % COUNTERS_VALUE_SIZE !== 0)
    throw new Error(
      `per-CPU counters value of ${buf.length} bytes is not a multiple of ${COUNTERS_VALUE_SIZE}`,
    );
  const sum = zeroCounters();
  for (let off = 0; off < buf.length; off += COUNTERS_VALUE_SIZE) {
    sum.rxPackets += buf.readBigUInt64LE(off);
    sum.rxBytes += buf.readBigUInt64LE(off + 8);
    sum.arpRequests += buf.readBigUInt64LE(off + 16);
    sum.ndpRequests += buf.readBigUInt64LE(off + 24);
    sum.replies += buf.readBigUInt64LE(off + 32);
  }
  return sum;
}

export function decodeClient(key: Buffer, value: Buffer): LearnedClient {
  if (value.length < CLIENT_VALUE_SIZE) throw new Error(`client value too short: ${value.length} bytes`);
  return {
    ip: addrFromKey(key),
    lastSeenNs: value.readBigUInt64LE(0),
    ifindex: value.readUInt32LE(8),
    mac: Buffer.from(value.subarray(12, 18)),
  };
}

export function encodeConfig(c: DatapathConfig): Buffer {
  const buf = Buffer.alloc(CONFIG_VALUE_SIZE);
  buf.writeBigUInt64LE(c.heartbeatNs, 0);
  buf.writeBigUInt64LE(c.livenessBoundNs, 8);
  return buf;
}

export function decodeConfig(buf: Buffer): DatapathConfig {
  if (buf.length < CONFIG_VALUE_SIZE) throw new Error(`config value too short: ${buf.length} bytes`);
  return { heartbeatNs: buf.readBigUInt64LE(0), livenessBoundNs: buf.readBigUInt64LE(8) };
}

/** Parses "aa:bb:cc:dd:ee:ff" (or '-' separated) into 6 bytes. */
export function parseMac(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new Error(`malformed MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** 6 bytes → "aa:bb:cc:dd:ee:ff". */
export function formatMac(mac: Buffer): string {
  if (mac.length !== 6) throw new Error(`a MAC address has 6 bytes, got ${mac.length}`);
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * Monotonic offset of the caller's time namespace, from /proc/self/timens_offsets text (a line
 * "monotonic <secs> <nsecs>"). bpf_ktime_get_ns() reads the init namespace's CLOCK_MONOTONIC, while
 * clock_gettime(CLOCK_MONOTONIC) (and so process.hrtime) in a time namespace adds this offset.
 */
export function parseTimensMonotonicOffsetNs(text: string): bigint {
  const m = /^monotonic\s+(-?\d+)\s+(\d+)\s*$/m.exec(text);
  if (!m) return 0n;
  return BigInt(m[1] ?? '0') * 1_000_000_000n + BigInt(m[2] ?? '0');
}

/**
 * The Ethernet multicast address NS for `ip` are sent to: 33:33:ff + the last 3 bytes of the address
 * (the solicited-node group ff02::1:ffXX:XXXX, RFC 4291 / RFC 2464). undefined for IPv4.
 */
export function solicitedNodeMac(ip: string): Buffer | undefined {
  const bytes = addressBytes(ip);
  if (bytes.length !== 16) return undefined;
  return Buffer.from([0x33, 0x33, 0xff, bytes[13] ?? 0, bytes[14] ?? 0, bytes[15] ?? 0]);
}
