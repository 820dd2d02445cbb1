/**
 * Failover benchmark (issues 5 and 16): SIGKILL + link down of the node that owns a VIP → time until a
 * client's HTTP request is answered through the new owner, for Herald and for keepalived VRRPv3 (tuned
 * advert_int 0.1 s and its default 1 s) on the same kind of namespaces, in the same run; IPv4 and IPv6
 * VIPs, 3 and 10 nodes. Then a soak of Herald and keepalived 0.1 s side by side: false takeovers and dual
 * answers (20 ms ARP/NDP watcher) under 5 % random loss (nftables) and under full CPU stress (stress-ng).
 *
 *   node dist/bench/failover/run.js [--trials 20] [--nodes 3,10] [--vrrp 0.1,1]
 *     [--soak-nodes 3] [--loss-seconds 600] [--loss-percent 5] [--stress-seconds 180]
 *
 * Writes bench/results/failover.json and bench/results/failover.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/util/paths.js';
import { heraldSeries, keepalivedSeries } from './series.js';
import { runSoak, type SoakResult } from './soak.js';
import { type Series, uptime } from './stats.js';
import { renderMarkdown } from './report.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '20' },
      nodes: { type: 'string', default: '3,10' },
      vrrp: { type: 'string', default: '0.1,1' },
      'soak-nodes': { type: 'string', default: '3' },
      'loss-seconds': { type: 'string', default: '600' },
      'loss-percent': { type: 'string', default: '5' },
      'stress-seconds': { type: 'string', default: '180' },
    },
  });
  const trials = Number(values.trials);
  const sizes = (values.nodes ?? '3,10').split(',').filter(Boolean).map(Number);
  const vrrp = (values.vrrp ?? '0.1,1').split(',').filter(Boolean).map(Number);
  const soakNodes = Number(values['soak-nodes']);
  const lossSeconds = Number(values['loss-seconds']);
  const lossPercent = Number(values['loss-percent']);
  const stressSeconds = Number(values['stress-seconds']);
  const startedAt = new Date().toISOString();
  const loadBefore = uptime();
  const series: Series[] = [];
  for (const n of sizes) {
    series.push(...(await heraldSeries(n, trials)));
    for (const advertInt of vrrp) series.push(...(await keepalivedSeries(n, trials, advertInt)));
  }
  let soak: SoakResult | undefined;
  if (lossSeconds > 0 || stressSeconds > 0) {
    soak = await runSoak({
      nodes: soakNodes,
      lossSeconds,
      lossPercent,
      stressSeconds,
      vrrpAdvertInt: Math.min(...vrrp, 1),
      stress: (seconds) =>
        spawn('stress-ng', ['--cpu', '0', '--timeout', `${seconds}s`, '--quiet'], { stdio: 'ignore' }),
    });
  }
  const result = {
    at: startedAt,
    finishedAt: new Date().toISOString(),
    node: process.version,
    loadBefore,
    loadAfter: uptime(),
    trials,
    series,
    soak,
  };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'failover.json'), `${JSON.stringify(result, null, 2)}\n`);
  const md = renderMarkdown(result);
  writeFileSync(join(dir, 'failover.md'), md);
  process.stdout.write(md);
}

await main();
