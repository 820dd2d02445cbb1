import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type LinkSpeedSource = 'override' | 'sysfs' | 'ethtool';

export interface LinkSpeed {
  bits: number;
  source: LinkSpeedSource;
}

/** Parses `/sys/class/net/<if>/speed` (Mb/s). Virtual NICs report -1 or fail to read: undefined. */
export function parseSysfsSpeed(text: string): number | undefined {
  const mbps = Number(text.trim());
  return Number.isInteger(mbps) && mbps > 0 ? mbps * 1e6 : undefined;
}

/** Parses the `Speed:` line of `ethtool IFACE` ("Speed: 10000Mb/s"; "Unknown!" → undefined). */
export function parseEthtoolSpeed(text: string): number | undefined {
  const m = /^\s*Speed:\s*(\d+)\s*([MG])b\/s\s*$/m.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  if (!(value > 0)) return undefined;
  return value * (m[2] === 'G' ? 1e9 : 1e6);
}

/**
 * Parses a capacity override such as "10G", "2.5Gbit", "100M", "1e9" (bits per second). Throws with the
 * offending text when it is not a positive number with an optional k/M/G/T suffix.
 */
export function parseBitsPerSecond(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kMGT]?)(?:bit|bps|b)?(?:\/s)?\s*$/i.exec(text);
  const scale: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
  const factor = m ? scale[m[2]!.toLowerCase()] : undefined;
  const value = m && factor !== undefined ? Number(m[1]) * factor : NaN;
  if (!(value > 0))
    throw new Error(`link capacity "${text}": expected a positive rate like 10G, 100M or 1e9`);
  return value;
}

export interface LinkSpeedProbe {
  /** Capacity per interface in bits/s, for virtual NICs (veth, VMs) that report no speed. */
  overrides?: Readonly<Record<string, number>>;
  readFile?: (path: string) => Promise<string>;
  ethtool?: (ifname: string) => Promise<string>;
  /** Whether /sys/class/net shows this process' network namespace (sysfs is bound to its mounter's). */
  sysfsMatchesNetns?: () => Promise<boolean>;
}

async function sameNetnsAsInit(): Promise<boolean> {
  try {
    const [self, init] = await Promise.all([readlink('/proc/self/ns/net'), readlink('/proc/1/ns/net')]);
    return self === init;
  } catch {
    return false;
  }
}

/**
 * The link capacity of an interface: the override when configured, else the kernel's speed. sysfs is
 * read only when it belongs to this network namespace (a process moved with `nsenter --net` still sees
 * the host's /sys/class/net); otherwise, or when sysfs has no speed, `ethtool` asks the kernel through
 * an ioctl in the current namespace. Undefined when nothing knows (virtual NIC without an override).
 */
export async function probeLinkSpeed(
  ifname: string,
  probe: LinkSpeedProbe = {},
): Promise<LinkSpeed | undefined> {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(ifname)) throw new Error(`invalid interface name "${ifname}"`);
  const override = probe.overrides?.[ifname];
  if (override !== undefined) return { bits: override, source: 'override' };
  const read = probe.readFile ?? ((p: string) => readFile(p, 'utf8'));
  const ethtool =
    probe.ethtool ??
    (async (name: string) => (await execFileAsync('ethtool', [name], { timeout: 5000 })).stdout);
  if (await (probe.sysfsMatchesNetns ?? sameNetnsAsInit)()) {
    const bits = await read(`/sys/class/net/${ifname}/speed`).then(parseSysfsSpeed, () => undefined);
    if (bits !== undefined) return { bits, source: 'sysfs' };
  }
  const bits = await ethtool(ifname).then(parseEthtoolSpeed, () => undefined);
  return bits !== undefined ? { bits, source: 'ethtool' } : undefined;
}

/** VIP ingress ÷ capacity; undefined when no capacity is known. */
export function utilizationRatio(bitsPerSecond: number, capacityBits: number): number | undefined {
  return capacityBits > 0 ? bitsPerSecond / capacityBits : undefined;
}
