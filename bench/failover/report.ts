import type { SoakResult } from './soak.js';
import type { Series } from './stats.js';

export interface FailoverResult {
  at: string;
  finishedAt: string;
  node: string;
  loadBefore: string;
  loadAfter: string;
  trials: number;
  series: Series[];
  soak: SoakResult | undefined;
}

const fmt = (x: number | undefined) => (x === undefined ? '-' : `${x}`);

export function renderMarkdown(r: FailoverResult): string {
  const lines = [
    '# Failover: owner killed (SIGKILL + link down) → first client request answered by the new owner',
    '',
    `Measured ${r.at} – ${r.finishedAt} on this machine (2 vCPU shared with other work), Node ${r.node},`,
    `${r.trials} trials per row, IPv4 and IPv6 trials interleaved in one cluster per system and size. An HTTP`,
    'probe every 10 ms from a client namespace; Herald with the fast-lan gossip profile, the direct owner',
    'watch and XDP in generic mode; keepalived VRRPv3 with the advert_int shown (1 s is its default).',
    'Rerun: `npm run build && node dist/bench/failover/run.js`.',
    '',
    `Load before: \`${r.loadBefore}\`; after: \`${r.loadAfter}\`.`,
    '',
    '| system | mode | IP | nodes | median ms | p95 ms | max ms | no failover | load (1 min) start → end |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.series.map(
      (s) =>
        `| ${s.system} | ${s.mode} | IPv${s.family} | ${s.nodes} | ${fmt(s.medianMs)} | ${fmt(s.p95Ms)} | ${fmt(s.maxMs)} | ${s.failed} | ${s.load[0]} → ${s.load[1]} |`,
    ),
    '',
    'Goal (issue 16): Herald median ≤ 250 ms and p95 ≤ 350 ms at 3 and 10 nodes.',
    '',
  ];
  if (r.soak) {
    lines.push(
      `## Flapping: ${r.soak.nodes} idle nodes, Herald and keepalived VRRPv3 advert_int ${r.soak.vrrpAdvertInt} s side by side`,
      '',
      'Nothing fails, so every takeover is a false one. A watcher in each cluster asks for the IPv4 and the',
      'IPv6 VIP every 20 ms (ARP / NS) and counts rounds answered by two MACs (dual) or by none (silent).',
      '',
      '| phase | seconds | load start → end | Herald false takeovers | Herald dual / silent rounds (longest silence) | keepalived false takeovers | keepalived dual / silent rounds (longest silence) |',
      '|---|---|---|---|---|---|---|',
      ...r.soak.phases.map(
        (p) =>
          `| ${p.what} | ${p.seconds} | ${p.load[0]} → ${p.load[1]} | ${p.herald.takeovers} | ${p.herald.dualRounds} / ${p.herald.silentRounds} of ${p.herald.rounds} (${p.herald.longestSilentMs} ms) | ${p.keepalived.masterEntries} | ${p.keepalived.dualRounds} / ${p.keepalived.silentRounds} of ${p.keepalived.rounds} (${p.keepalived.longestSilentMs} ms) |`,
      ),
      '',
      'Goal (issue 16): Herald 0 false takeovers in 10 minutes at 5 % loss; ≤ 1 with 0 dual rounds during',
      '180 s of full CPU stress.',
      '',
    );
  }
  return lines.join('\n');
}
