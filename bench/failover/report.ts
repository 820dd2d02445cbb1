import type { SoakPhase, SoakResult } from './soak.js';
import type { Series } from './stats.js';

export interface RunInfo {
  at: string;
  finishedAt: string;
  node: string;
  loadBefore: string;
  loadAfter: string;
  argv: string;
}

export interface FailoverResult {
  /** Every part of the run that contributed a row (the machine is shared: parts of a few minutes). */
  runs: RunInfo[];
  series: Series[];
  soak: SoakResult[];
  /** What a reader must know to read the numbers (kept across parts; set with run.ts --note). */
  notes?: string[];
}

const seriesKey = (s: Series) => `${s.system}|${s.mode}|${s.family}|${s.nodes}`;

/** A row measured again replaces the old one; soak runs add up; runs are listed in order. */
export function mergeResults(previous: FailoverResult, part: FailoverResult): FailoverResult {
  const fresh = new Set(part.series.map(seriesKey));
  return {
    runs: [...previous.runs, ...part.runs],
    series: [...previous.series.filter((s) => !fresh.has(seriesKey(s))), ...part.series],
    soak: [...previous.soak, ...part.soak],
    notes: [...(previous.notes ?? []), ...(part.notes ?? [])],
  };
}

const fmt = (x: number | undefined) => (x === undefined ? '-' : `${x}`);

function order(a: Series, b: Series): number {
  const rank = (s: Series) => (s.system.startsWith('herald') ? 0 : 1);
  return a.nodes - b.nodes || a.family - b.family || rank(a) - rank(b) || a.system.localeCompare(b.system);
}

interface PhaseTotal {
  what: string;
  runs: number;
  seconds: number;
  herald: SoakPhase['herald'];
  keepalived: SoakPhase['keepalived'];
}

/** Soak phases of the same kind summed over runs (the longest silence is the maximum). */
export function soakTotals(soak: readonly SoakResult[]): PhaseTotal[] {
  const byWhat = new Map<string, PhaseTotal>();
  for (const run of soak)
    for (const p of run.phases) {
      const t = byWhat.get(p.what);
      if (!t) {
        byWhat.set(p.what, {
          what: p.what,
          runs: 1,
          seconds: p.seconds,
          herald: { ...p.herald },
          keepalived: { ...p.keepalived },
        });
        continue;
      }
      t.runs++;
      t.seconds += p.seconds;
      for (const k of ['takeovers', 'dualRounds', 'silentRounds', 'rounds'] as const)
        t.herald[k] += p.herald[k];
      for (const k of ['masterEntries', 'dualRounds', 'silentRounds', 'rounds'] as const)
        t.keepalived[k] += p.keepalived[k];
      t.herald.longestSilentMs = Math.max(t.herald.longestSilentMs, p.herald.longestSilentMs);
      t.keepalived.longestSilentMs = Math.max(t.keepalived.longestSilentMs, p.keepalived.longestSilentMs);
    }
  return [...byWhat.values()];
}

export function renderMarkdown(r: FailoverResult): string {
  const series = [...r.series].sort(order);
  const nodeVersions = [...new Set(r.runs.map((x) => x.node))].join(', ');
  const lines = [
    '# Failover: owner killed (SIGKILL + link down) → first client request answered by the new owner',
    '',
    `Measured on this machine (2 vCPU shared with other work), Node ${nodeVersions}, in ${r.runs.length}`,
    'part(s) listed at the end (each part a few minutes; the machine is shared). Per row: IPv4 and IPv6',
    'trials interleaved in one cluster per system and size; from a client namespace an HTTP request every',
    '10 ms, each on a fresh connection, overlapping (1 s timeout each); the time from the start of the kill',
    "(the owner's link set down, then its processes SIGKILLed) to the first answer, through another node, to",
    'a request sent after the link went down (until 2026-11-28 01:55 UTC: after the processes were reaped,',
    "which at load 16 took 0.1-0.7 s and bounded every row from below). Right before each kill every node's",
    "backend answers 3 requests to its own address (from 2026-11-28 04:30 UTC; before, the new owner's idle",
    'backend added its slow first answers in single mode and keepalived: notes). Herald with the fast-lan gossip profile,',
    'the owner watch on its pulse thread (20 ms × 9 from 2026-11-28 04:50 UTC, × 10 before) and XDP in generic mode, single mode (lab/web, lab/api)',
    'and flow mode (lab/flow-web, spread by flows); keepalived VRRPv3 with the advert_int shown (1 s is its',
    'default), VIP on eth0 of the master, kernel answering.',
    'Rerun: `npm run build && node dist/bench/failover/run.js` with the arguments of each part below (options in bench/failover/run.ts).',
    '',
    '| system | mode | IP | nodes | trials | median ms | p95 ms | max ms | no failover | load (1 min) start → end | measured |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...series.map(
      (s) =>
        `| ${s.system} | ${s.mode} | IPv${s.family} | ${s.nodes} | ${s.trials.length} | ${fmt(s.medianMs)} | ${fmt(s.p95Ms)} | ${fmt(s.maxMs)} | ${s.failed} | ${s.load[0]} → ${s.load[1]} | ${s.at ?? '-'} |`,
    ),
    '',
    'Goal (issue 16): Herald median ≤ 250 ms and p95 ≤ 350 ms at 3 and 10 nodes.',
    '',
  ];
  const totals = soakTotals(r.soak);
  if (totals.length > 0) {
    const nodes = [...new Set(r.soak.map((s) => s.nodes))].join(', ');
    const vrrp = [...new Set(r.soak.map((s) => s.vrrpAdvertInt))].join(', ');
    lines.push(
      `## Flapping: ${nodes} idle nodes, Herald and keepalived VRRPv3 advert_int ${vrrp} s side by side`,
      '',
      'Nothing fails, so every takeover is a false one. A watcher in each cluster asks for the IPv4 and the',
      'IPv6 VIP every 20 ms (ARP / NS) and counts VIP-rounds answered by two MACs (dual) or by none (silent).',
      'Both clusters run at the same time on the same CPUs, under the same loss rule or the same stress.',
      '',
      '| phase | seconds (runs) | Herald false takeovers | Herald dual / silent VIP-rounds (longest silence) | keepalived false takeovers | keepalived dual / silent VIP-rounds (longest silence) |',
      '|---|---|---|---|---|---|',
      ...totals.map(
        (p) =>
          `| ${p.what} | ${p.seconds} (${p.runs}) | ${p.herald.takeovers} | ${p.herald.dualRounds} / ${p.herald.silentRounds} of ${p.herald.rounds} (${p.herald.longestSilentMs} ms) | ${p.keepalived.masterEntries} | ${p.keepalived.dualRounds} / ${p.keepalived.silentRounds} of ${p.keepalived.rounds} (${p.keepalived.longestSilentMs} ms) |`,
      ),
      '',
      'Goal (issue 16): Herald 0 false takeovers in 10 minutes at 5 % loss; ≤ 1 with 0 dual rounds during',
      '180 s of full CPU stress.',
      '',
      'Per run:',
      '',
      '| started | phase | seconds | load start → end | Herald takeovers / dual / silent | keepalived takeovers / dual / silent |',
      '|---|---|---|---|---|---|',
      ...r.soak.flatMap((s) =>
        s.phases.map(
          (p) =>
            `| ${s.at ?? '-'} | ${p.what} | ${p.seconds} | ${p.load[0]} → ${p.load[1]} | ${p.herald.takeovers} / ${p.herald.dualRounds} / ${p.herald.silentRounds} | ${p.keepalived.masterEntries} / ${p.keepalived.dualRounds} / ${p.keepalived.silentRounds} |`,
        ),
      ),
      '',
    );
  }
  if ((r.notes ?? []).length > 0) lines.push('## Notes', '', ...(r.notes ?? []).map((n) => `- ${n}`), '');
  lines.push(
    '## Parts of this run',
    '',
    '| started | finished | Node | arguments | load before | load after |',
    '|---|---|---|---|---|---|',
    ...r.runs.map(
      (x) => `| ${x.at} | ${x.finishedAt} | ${x.node} | \`${x.argv}\` | ${x.loadBefore} | ${x.loadAfter} |`,
    ),
    '',
  );
  return lines.join('\n');
}
