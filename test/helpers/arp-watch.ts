/**
 * A client-side watcher of the one-answer invariant: from a client namespace it asks for every sampled
 * VIP once per round (one ARP request, or one NS for IPv6, every 20 ms by default) and records, per round
 * and VIP, which MACs answered. A dual round (≥ 2 MACs) is the failure Herald must never show; silent
 * rounds (no answer) measure outages. The probing runs in its own process (arp-watch-agent.ts) with one
 * AF_PACKET socket, bounded by maxDurationMs.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { VirtualLan } from '../../src/lab/netns.js';
import { projectRoot } from '../../src/util/paths.js';
import type { ArpAgentConfig } from './arp-watch-agent.js';

export interface ArpWatchOptions {
  /** Client interface (default eth0). */
  ifname?: string;
  /** The client's addresses: ARP sender / NS source (IPv6 VIPs need source6). */
  source4: string;
  source6?: string;
  vips: readonly string[];
  /** At most this many VIPs are probed, spread evenly over the list (default 100). */
  sample?: number;
  intervalMs?: number;
  /** Hard bound of the probing (the agent stops by itself). */
  maxDurationMs: number;
  /** Speakers' pin directories: each round also samples their heartbeat age. */
  heartbeatPins?: string[];
}

export interface WatchRound {
  /** Round number and the time its requests were sent (ms since the epoch). */
  r: number;
  t: number;
  /** Indexes into ArpWatch.vips of the VIPs nobody answered. */
  silent: number[];
  /** VIPs answered by several MACs, with the MACs (hex, no separators). */
  dual: Array<[number, string[]]>;
  /** VIPs whose single answering MAC changed (or appeared) in this round. */
  moved: Array<[number, string]>;
  /** Heartbeat age (ms) of each heartbeatPins speaker when the round was read; -1 unreadable. */
  hb?: number[];
}

export interface WatchSummary {
  rounds: number;
  from: number;
  to: number;
  /** VIP-rounds with two or more answering MACs, and the first few of them. */
  dualRounds: number;
  dualSamples: Array<{ at: number; ip: string; macs: string[] }>;
  /** VIP-rounds without an answer. */
  silentRounds: number;
  /** Longest run of consecutive silent rounds of any one VIP, in ms (rounds × interval). */
  longestSilentMs: number;
  /** The same per VIP (only VIPs with a silent round). */
  silentMsByVip: Map<string, number>;
  /** Time of the first round in which every sampled VIP was answered by exactly one MAC. */
  firstAllAnsweredAt: number | undefined;
  /** Highest heartbeat age sampled, per heartbeatPins entry (-1: never readable). */
  maxHeartbeatAgeMs: number[];
}

/** Evenly spaced sample of at most n items, first and last included. */
export function sampleEvenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  if (n <= 1) return items.slice(0, Math.max(0, n));
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))] as T);
}

/** Summary of rounds (pure, so it is unit-tested apart from the probing). */
export function summarize(
  rounds: readonly WatchRound[],
  vips: readonly string[],
  intervalMs: number,
): WatchSummary {
  const summary: WatchSummary = {
    rounds: rounds.length,
    from: rounds[0]?.t ?? 0,
    to: rounds.at(-1)?.t ?? 0,
    dualRounds: 0,
    dualSamples: [],
    silentRounds: 0,
    longestSilentMs: 0,
    silentMsByVip: new Map(),
    firstAllAnsweredAt: undefined,
    maxHeartbeatAgeMs: [],
  };
  const streak = new Map<number, number>();
  for (const round of rounds) {
    summary.dualRounds += round.dual.length;
    for (const [i, macs] of round.dual) {
      if (summary.dualSamples.length < 20)
        summary.dualSamples.push({ at: round.t, ip: vips[i] ?? '?', macs });
    }
    summary.silentRounds += round.silent.length;
    if (summary.firstAllAnsweredAt === undefined && round.silent.length === 0 && round.dual.length === 0)
      summary.firstAllAnsweredAt = round.t;
    const silentNow = new Set(round.silent);
    for (const i of silentNow) {
      const n = (streak.get(i) ?? 0) + 1;
      streak.set(i, n);
      const ms = n * intervalMs;
      const ip = vips[i] ?? '?';
      if (ms > (summary.silentMsByVip.get(ip) ?? 0)) summary.silentMsByVip.set(ip, ms);
      if (ms > summary.longestSilentMs) summary.longestSilentMs = ms;
    }
    for (const i of streak.keys()) if (!silentNow.has(i)) streak.delete(i);
    (round.hb ?? []).forEach((age, i) => {
      summary.maxHeartbeatAgeMs[i] = Math.max(summary.maxHeartbeatAgeMs[i] ?? -1, age);
    });
  }
  return summary;
}

export class ArpWatch {
  readonly rounds: WatchRound[] = [];
  private ended = false;
  private readonly done: Promise<void>;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly vips: readonly string[],
    readonly intervalMs: number,
  ) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as WatchRound | { end: true };
      if ('end' in msg) this.ended = true;
      else this.rounds.push(msg);
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.done = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts probing; resolves once the first round has been evaluated. */
  static async start(lan: VirtualLan, ns: string, opts: ArpWatchOptions): Promise<ArpWatch> {
    const vips = sampleEvenly(opts.vips, opts.sample ?? 100);
    const config: ArpAgentConfig = {
      ifname: opts.ifname ?? 'eth0',
      source4: opts.source4,
      ...(opts.source6 ? { source6: opts.source6 } : {}),
      vips,
      intervalMs: opts.intervalMs ?? 20,
      durationMs: opts.maxDurationMs,
      ...(opts.heartbeatPins ? { heartbeatPins: opts.heartbeatPins } : {}),
    };
    const script = join(projectRoot(), 'dist', 'test', 'helpers', 'arp-watch-agent.js');
    const child = lan.spawn(ns, process.execPath, [script, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const watch = new ArpWatch(child, vips, config.intervalMs);
    const deadline = Date.now() + 10_000;
    while (watch.rounds.length === 0) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`arp watcher did not start: ${watch.stderr || 'no output'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return watch;
  }

  /** Summary of the rounds sent in [from, to] (ms since the epoch; default everything so far). */
  summary(from = 0, to = Number.POSITIVE_INFINITY): WatchSummary {
    return summarize(
      this.rounds.filter((r) => r.t >= from && r.t <= to),
      this.vips,
      this.intervalMs,
    );
  }

  /** The MAC that alone answered `ip` in the latest round that had an answer for it. */
  ownerOf(ip: string): string | undefined {
    const i = this.vips.indexOf(ip);
    for (let k = this.rounds.length - 1; k >= 0; k--) {
      const moved = this.rounds[k]?.moved.find(([j]) => j === i);
      if (moved) return moved[1];
    }
    return undefined;
  }

  /** Stops probing (waits for the last round) and returns the summary of every round. */
  async stop(): Promise<WatchSummary> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.done;
    clearTimeout(timer);
    if (!this.ended) throw new Error(`arp watcher ended abnormally: ${this.stderr || 'no output'}`);
    return this.summary();
  }
}

/** MAC text as `ip link` prints it (aa:bb:...), from the watcher's hex form. */
export function macText(hex: string): string {
  return hex.replace(/(..)(?!$)/g, '$1:');
}
