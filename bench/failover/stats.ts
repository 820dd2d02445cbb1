import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { FailoverMeasurement } from '../../src/lab/failover.js';

export interface Trial {
  family: 4 | 6;
  killed: string;
  newOwner: string | undefined;
  failoverMs: number | undefined;
  /**
   * Epoch ms of the trial's steps as the bench saw them (kill started, link down, kill done, first answer and its
   * request's send time), to line up with the speakers' logs (--keep-logs). Absent in older results.
   */
  at?: { kill: number; cut?: number; killed: number; answer?: number; sent?: number };
  /** Answers of each node's backend in the warm-up right before the kill (absent in older results). */
  warmed?: Record<string, number>;
}

export interface Series {
  system: string;
  mode: string;
  family: 4 | 6;
  nodes: number;
  trials: Trial[];
  medianMs: number | undefined;
  p95Ms: number | undefined;
  maxMs: number | undefined;
  failed: number;
  /** 1-minute load average at the start and end of the series. */
  load: [number, number];
  /** When the series started (ISO). */
  at?: string;
}

export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function toTrial(family: 4 | 6, m: FailoverMeasurement): Trial {
  return {
    family,
    killed: m.killed,
    newOwner: m.newOwner,
    failoverMs: m.failoverMs,
    at: {
      kill: m.killedAt,
      cut: m.cutAt,
      killed: m.failedAt,
      ...(m.answeredAt !== undefined ? { answer: m.answeredAt } : {}),
      ...(m.answerSentAt !== undefined ? { sent: m.answerSentAt } : {}),
    },
    warmed: m.warmed,
  };
}

export const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

export function summarize(
  head: Pick<Series, 'system' | 'mode' | 'family' | 'nodes' | 'at'>,
  trials: Trial[],
  loadAtStart: number,
): Series {
  const mine = trials.filter((t) => t.family === head.family);
  const ok = mine
    .map((t) => t.failoverMs)
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  return {
    ...head,
    trials: mine,
    medianMs: quantile(ok, 0.5),
    p95Ms: quantile(ok, 0.95),
    maxMs: ok.at(-1),
    failed: mine.length - ok.length,
    load: [loadAtStart, load1()],
  };
}

/** The loss rule of the soak: every packet entering a node is dropped with probability percent/100. */
export function lossRuleset(percent: number): string {
  return `table inet hrl_loss {
  chain in { type filter hook input priority -300; policy accept; numgen random mod 100 < ${percent} drop; }
}
`;
}

export function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${loadavg().join(', ')}`;
  }
}

/** A Herald watch setting other than the default: the speakers' extra arguments and the name it shows. */
export interface HeraldWatch {
  args: string[];
  label: string;
}

/** From --watch-detect-mult (undefined: the default). */
export function heraldWatch(detectMult: string | undefined): HeraldWatch | undefined {
  if (detectMult === undefined) return undefined;
  const n = Number(detectMult);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--watch-detect-mult: an integer ≥ 1, got ${detectMult}`);
  return { args: ['--watch-detect-mult', String(n)], label: `watch 20 ms × ${n}` };
}
