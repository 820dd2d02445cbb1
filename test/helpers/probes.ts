import type { VirtualLan } from '../../src/lab/netns.js';

export interface ArpingResult {
  sent: number;
  received: number;
  /** MAC (lower case) of every reply, in order. */
  macs: string[];
}

/**
 * Runs iputils arping in `ns` (always broadcast, so every responder is heard). Its interval is whole
 * seconds; for a faster stream use arpingStream.
 */
export async function arping(
  lan: VirtualLan,
  ns: string,
  ip: string,
  opts: { count?: number; intervalS?: number; source?: string; waitS?: number } = {},
): Promise<ArpingResult> {
  const count = opts.count ?? 2;
  const intervalS = Math.max(1, Math.round(opts.intervalS ?? 1));
  const args = ['-b', '-c', String(count), '-I', 'eth0', '-i', String(intervalS)];
  if (opts.source) args.push('-s', opts.source);
  args.push('-w', String(opts.waitS ?? count * intervalS + 1), ip);
  const r = await lan.run(ns, 'arping', args, 120_000);
  const macs = [...r.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]+)\]/g)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
  const sent = Number(/Sent (\d+) probe/.exec(r.stdout)?.[1] ?? 0);
  const received = Number(/Received (\d+) response/.exec(r.stdout)?.[1] ?? 0);
  return { sent, received, macs };
}

/** One broadcast request after another (each waits up to 1 s for its reply) for `durationMs`. */
export async function arpingStream(
  lan: VirtualLan,
  ns: string,
  ip: string,
  durationMs: number,
): Promise<ArpingResult> {
  const total: ArpingResult = { sent: 0, received: 0, macs: [] };
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const r = await arping(lan, ns, ip, { count: 1, waitS: 1 });
    total.sent += r.sent;
    total.received += r.received;
    total.macs.push(...r.macs);
  }
  return total;
}

/** ndisc6 in `ns`: the target link-layer addresses of every advertisement heard. */
export async function ndisc(lan: VirtualLan, ns: string, ip: string, tries = 2): Promise<string[]> {
  const r = await lan.run(ns, 'ndisc6', ['-m', '-r', String(tries), '-w', '500', ip, 'eth0'], 30_000);
  return [...r.stdout.matchAll(/Target link-layer address: ([0-9A-Fa-f:]+)/g)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
}

/** The MAC a namespace's neighbor table holds for `ip`, if any. */
export async function neighborMac(lan: VirtualLan, ns: string, ip: string): Promise<string | undefined> {
  const out = await lan.ip(ns, 'neigh', 'show', ip, 'dev', 'eth0');
  return /lladdr ([0-9a-f:]+)/.exec(out)?.[1];
}

export async function interfaceMacIn(lan: VirtualLan, ns: string, ifname = 'eth0'): Promise<string> {
  const out = await lan.ip(ns, '-j', 'link', 'show', ifname);
  const parsed = JSON.parse(out) as Array<{ address: string }>;
  return parsed[0]?.address ?? '';
}

/** Waits for `check` (polling every 50 ms); resolves with the ms it took, throws on timeout. */
export { waitFor as waitUntil } from '../../src/util/wait.js';
