/**
 * The safety soak's fault schedule and its per-event accounting (pure: unit-tested apart from the lab).
 */
import type { WatchSummary } from '../../test/helpers/arp-watch.js';

export type FaultKind = 'crash' | 'freeze' | 'partition' | 'bad-config';
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'freeze', 'partition', 'bad-config'];

/** `--kinds crash,partition`: the kinds named, each checked. */
export function faultKinds(list: string): FaultKind[] {
  const kinds = list.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0)
    throw new Error(
      `--kinds: unknown fault kind(s) ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`,
    );
  return kinds as FaultKind[];
}
export const FREEZE_MS = [300, 800, 1500, 3000] as const;
export const BAD_CONFIGS = ['empty', 'junk-2MB', 'no-pools', 'truncated'] as const;
export type BadConfig = (typeof BAD_CONFIGS)[number];

export interface Fault {
  kind: FaultKind;
  /** Index of the node hit (crash, freeze, partition); bad configs reach every node (one shared file). */
  node: number;
  /** Freeze length or partition length (ms); for crashes, how long the speaker stays down. */
  ms: number;
  config?: BadConfig;
}

/** mulberry32: a small seeded PRNG, so a part can be rerun with the same schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

/** `count` faults at random (kind among `kinds`, node, length) from `seed`. */
export function faultSchedule(
  seed: number,
  count: number,
  nodes: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): Fault[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const kind = pick(rand, kinds);
    const node = Math.floor(rand() * nodes);
    switch (kind) {
      case 'freeze':
        return { kind, node, ms: pick(rand, FREEZE_MS) };
      case 'partition':
        return { kind, node, ms: 2000 + Math.floor(rand() * 3000) };
      case 'crash':
        return { kind, node, ms: 2000 };
      case 'bad-config':
        return { kind, node, ms: 3000, config: pick(rand, BAD_CONFIGS) };
    }
  });
}

export interface FaultResult extends Fault {
  /** When the fault began, ms since the part's start. */
  atMs: number;
  nodeName: string;
  /** ARP watcher over [fault start, next fault start): VIP-rounds with two answers / none. */
  dualRounds: number;
  silentRounds: number;
  longestSilentMs: number;
  rounds: number;
  /** The first dual rounds of the window: ms after its first round (the fault's start), the VIP, who answered. */
  duals: Array<{ afterMs: number; ip: string; nodes: string[] }>;
  /** Highest heartbeat age the watcher read per node in the window (-1: unreadable). */
  maxHeartbeatAgeMs: number[];
}

/** The watcher's view of one fault's window; `nodeOfMac` names an answering MAC. */
export function faultResult(
  fault: Fault,
  nodeName: string,
  atMs: number,
  window: WatchSummary,
  nodeOfMac: (mac: string) => string = (mac) => mac,
): FaultResult {
  return {
    ...fault,
    nodeName,
    atMs,
    dualRounds: window.dualRounds,
    silentRounds: window.silentRounds,
    longestSilentMs: window.longestSilentMs,
    rounds: window.rounds,
    duals: window.dualSamples.map((d) => ({
      afterMs: d.at - window.from,
      ip: d.ip,
      nodes: d.macs.map(nodeOfMac),
    })),
    maxHeartbeatAgeMs: window.maxHeartbeatAgeMs,
  };
}

/** Totals by kind: faults, dual rounds, silent rounds and the longest silence of any VIP. */
export function byKind(
  results: readonly FaultResult[],
): Map<FaultKind, { faults: number; dualRounds: number; silentRounds: number; longestSilentMs: number }> {
  const out = new Map<
    FaultKind,
    { faults: number; dualRounds: number; silentRounds: number; longestSilentMs: number }
  >();
  for (const r of results) {
    const k = out.get(r.kind) ?? { faults: 0, dualRounds: 0, silentRounds: 0, longestSilentMs: 0 };
    k.faults++;
    k.dualRounds += r.dualRounds;
    k.silentRounds += r.silentRounds;
    k.longestSilentMs = Math.max(k.longestSilentMs, r.longestSilentMs);
    out.set(r.kind, k);
  }
  return out;
}

/** The packet counts of `ping -q`'s summary line. */
export function pingCounts(output: string): { sent: number; received: number } | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : undefined;
}
