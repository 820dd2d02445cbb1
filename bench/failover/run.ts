/**
 * Failover benchmark (issues 5 and 16): SIGKILL + link down of the node that owns a VIP → time until a
 * client's HTTP request is answered through the new owner, for Herald and for keepalived VRRPv3 (tuned
 * advert_int 0.1 s and its default 1 s) on the same kind of namespaces; IPv4 and IPv6 VIPs, 3 and 10
 * nodes. Then a soak of Herald and keepalived 0.1 s side by side: false takeovers and dual answers (20 ms
 * ARP/NDP watcher) under 5 % random loss (nftables) and under full CPU stress (stress-ng).
 *
 *   node dist/bench/failover/run.js [--trials 20] [--nodes 3,10] [--systems herald,herald-flows,0.1,1]
 *     [--soak-nodes 3] [--loss-seconds 600] [--loss-percent 5] [--stress-seconds 180] [--fresh]
 *     [--note TEXT]... [--keep-logs DIR] [--watch-detect-mult N]
 *
 * --watch-detect-mult runs every Herald speaker of the part with that detect multiplier (D = N × 20 ms,
 * the gate's bound and fence follow from l2/gate.ts) instead of the default; its rows and soak phases
 * are named after it, so they sit beside the default's.
 * The machine is shared, so a full run is split into parts of a few minutes each (for example one size
 * and system at a time, the loss soak in two halves): each part merges its rows into
 * bench/results/failover.json (a row measured again replaces the old one, soak phases add up) and
 * rewrites bench/results/failover.md from it. --fresh starts from an empty result.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/util/paths.js';
import { heraldSeries, keepalivedSeries } from './series.js';
import { runSoak, type SoakResult } from './soak.js';
import { heraldWatch, type Series, uptime } from './stats.js';
import { type FailoverResult, mergeResults, renderMarkdown } from './report.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '20' },
      nodes: { type: 'string', default: '3,10' },
      systems: { type: 'string', default: 'herald,herald-flows,0.1,1' },
      'soak-nodes': { type: 'string', default: '3' },
      'soak-vrrp': { type: 'string', default: '0.1' },
      'loss-seconds': { type: 'string', default: '600' },
      'loss-percent': { type: 'string', default: '5' },
      'stress-seconds': { type: 'string', default: '180' },
      fresh: { type: 'boolean', default: false },
      note: { type: 'string', multiple: true, default: [] },
      /** Copy the Herald speakers' logs here (one directory per cluster) before they are removed. */
      'keep-logs': { type: 'string' },
      'watch-detect-mult': { type: 'string' },
    },
  });
  const trials = Number(values.trials);
  const sizes = (values.nodes ?? '').split(',').filter(Boolean).map(Number);
  const systems = (values.systems ?? '').split(',').filter(Boolean);
  const lossSeconds = Number(values['loss-seconds']);
  const stressSeconds = Number(values['stress-seconds']);
  const watch = heraldWatch(values['watch-detect-mult']);
  const at = new Date().toISOString();
  const loadBefore = uptime();
  const series: Series[] = [];
  for (const n of sizes) {
    for (const system of systems) {
      const keep = values['keep-logs'];
      if (system === 'herald') series.push(...(await heraldSeries(n, trials, 'single', keep, watch)));
      else if (system === 'herald-flows')
        series.push(...(await heraldSeries(n, trials, 'flows', keep, watch)));
      else series.push(...(await keepalivedSeries(n, trials, Number(system))));
    }
  }
  let soak: SoakResult | undefined;
  if (lossSeconds > 0 || stressSeconds > 0) {
    soak = await runSoak({
      nodes: Number(values['soak-nodes']),
      lossSeconds,
      lossPercent: Number(values['loss-percent']),
      stressSeconds,
      vrrpAdvertInt: Number(values['soak-vrrp']),
      ...(values['keep-logs'] ? { keepLogs: values['keep-logs'] } : {}),
      ...(watch ? { watch } : {}),
      stress: (seconds) =>
        spawn('stress-ng', ['--cpu', '0', '--timeout', `${seconds}s`, '--quiet'], { stdio: 'ignore' }),
    });
  }
  // A part that measured nothing (only --note) adds no run to the list.
  const measured = series.length > 0 || soak !== undefined;
  const part: FailoverResult = {
    runs: measured
      ? [
          {
            at,
            finishedAt: new Date().toISOString(),
            node: process.version,
            loadBefore,
            loadAfter: uptime(),
            argv: process.argv.slice(2).join(' '),
          },
        ]
      : [],
    series,
    soak: soak ? [soak] : [],
    notes: values.note ?? [],
  };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'failover.json');
  const previous = !values.fresh && existsSync(file) ? readPrevious(file) : undefined;
  const result = previous ? mergeResults(previous, part) : part;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const md = renderMarkdown(result);
  writeFileSync(join(dir, 'failover.md'), md);
  process.stdout.write(md);
}

/** The previous result, if it has this format (an older one is replaced). */
function readPrevious(file: string): FailoverResult | undefined {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<FailoverResult>;
  return Array.isArray(data.runs) && Array.isArray(data.series) && Array.isArray(data.soak)
    ? (data as FailoverResult)
    : undefined;
}

await main();
