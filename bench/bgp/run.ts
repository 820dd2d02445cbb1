/**
 * BGP benchmark against a real BIRD 2 ToR in network namespaces (needs root, bird, birdc).
 *
 *   node dist/bench/bgp/run.js [--prefixes 10000] [--runs 3]
 *
 * 1. Convergence: one Herald speaker advertises N /32 prefixes; time from Established (the speaker's
 *    own event) until BIRD's table holds all N, and the resulting UPDATE and prefix rates.
 * 2. Withdraw time at the router when a speaker dies, two ways:
 *    - SIGKILL: the kernel closes the TCP connection (FIN), the router withdraws at once;
 *    - freeze (SIGSTOP: a hung node or a cut link, no FIN): only BFD (300 ms × 3) or the hold timer
 *      (9 s) can tell; measured with and without BFD.
 * Writes bench/results/bgp.json and bench/results/bgp.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/util/paths.js';
import { BgpLab, birdTorConfig, ROUTER4, speaker4, waitFor } from '../../test/netns/bgp-fixture.js';

const { values: args } = parseArgs({
  options: { prefixes: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } },
});
const N = Number(args.prefixes);
const RUNS = Number(args.runs);

/** One eBGP speaker (AS 64513) towards the BIRD ToR (AS 64512). */
const SPEAKER_ARGS = ['--asn', '64513', '--peer-asn', '64512', '--router-id', speaker4(1), '--peer', ROUTER4];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function routeCount(birdc: (...a: string[]) => Promise<string>): Promise<number> {
  const out = await birdc('show', 'route', 'count');
  const m = /(\d+) of \d+ routes/.exec(out);
  return m ? Number(m[1]) : 0;
}

async function convergence(run: number): Promise<{ ms: number; updates: number }> {
  const lab = await BgpLab.create(`h5c${run}`, 1);
  try {
    const birdc = await lab.startBird(birdTorConfig());
    const sp = lab.startSpeaker(1, [
      ...SPEAKER_ARGS,
      '--prefix-count',
      String(N),
      '--prefix-base',
      '10.100.0.0',
      '--community',
      '64513:1',
    ]);
    const est = await waitFor('Established', () => sp.lines.find((l) => l.event === 'established'), 30000);
    await waitFor(
      `${N} routes in BIRD`,
      async () => ((await routeCount(birdc)) >= N ? true : undefined),
      60000,
    );
    const done = Date.now();
    const last = [...sp.lines].reverse().find((l) => l.event === 'session');
    return { ms: done - Number(est.time), updates: Number(last?.updatesSent ?? 0) };
  } finally {
    await lab.destroy();
  }
}

async function withdraw(run: number, how: 'kill' | 'freeze', bfd: boolean): Promise<number> {
  const lab = await BgpLab.create(`h5w${run}${how[0]}${bfd ? 'b' : 'h'}`, 1);
  try {
    await lab.startBird(birdTorConfig({ bfd }));
    const sp = lab.startSpeaker(1, [
      ...SPEAKER_ARGS,
      '--prefix',
      '10.99.0.1',
      ...(bfd ? ['--bfd', '300:300:3'] : []),
    ]);
    await waitFor(
      'route at the router',
      async () => ((await lab.nexthops('10.99.0.1')) === 1 ? true : undefined),
      30000,
    );
    if (bfd) await waitFor('BFD up', () => sp.lines.some((l) => l.bfd === 'up') || undefined, 10000);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    sp.child.kill(how === 'kill' ? 'SIGKILL' : 'SIGSTOP');
    await waitFor(
      'withdrawal',
      async () => ((await lab.nexthops('10.99.0.1')) === 0 ? true : undefined),
      30000,
    );
    return Date.now() - t0;
  } finally {
    await lab.destroy();
  }
}

const conv: Array<{ ms: number; updates: number }> = [];
for (let i = 0; i < RUNS; i++) conv.push(await convergence(i));
const wd: Record<string, number[]> = {
  'kill, BFD': [],
  'kill, hold timer only': [],
  'freeze, BFD': [],
  'freeze, hold timer only': [],
};
for (let i = 0; i < RUNS; i++) {
  wd['kill, BFD']!.push(await withdraw(i, 'kill', true));
  wd['kill, hold timer only']!.push(await withdraw(i, 'kill', false));
  wd['freeze, BFD']!.push(await withdraw(i, 'freeze', true));
  if (i === 0) wd['freeze, hold timer only']!.push(await withdraw(i, 'freeze', false));
}

const convMs = median(conv.map((c) => c.ms));
const result = {
  benchmark: 'bgp',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadavg: loadavg(), node: process.version },
  peer: 'BIRD 2 (Debian bird2), hold 9 s / keepalive 3 s, in a network namespace on a veth bridge',
  convergence: {
    prefixes: N,
    runsMs: conv.map((c) => c.ms),
    medianMs: convMs,
    updatesSent: conv[0]?.updates ?? 0,
    prefixesPerSecond: Math.round(N / (convMs / 1000)),
    updatesPerSecond: Math.round((conv[0]?.updates ?? 0) / (convMs / 1000)),
    targetMs: 2000,
  },
  withdrawMs: Object.fromEntries(Object.entries(wd).map(([k, v]) => [k, { runs: v, median: median(v) }])),
  withdrawTargetWithBfdMs: 1200,
};
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'bgp.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = `# BGP benchmark

Measured ${result.date} on ${result.machine.cpus} CPUs (${result.machine.model}), Node ${result.machine.node}, load average ${result.machine.loadavg.map((l) => l.toFixed(1)).join(' ')}.
Peer: ${result.peer}. Rerun: \`node dist/bench/bgp/run.js [--prefixes ${N}] [--runs ${RUNS}]\` (root).

| What | Result | Target |
| --- | --- | --- |
| ${N} /32 prefixes: Established → all in BIRD's table (median of ${RUNS}) | ${convMs} ms (runs: ${conv.map((c) => c.ms).join(', ')}) | ≤ 2000 ms |
| Prefix rate | ${result.convergence.prefixesPerSecond}/s in ${result.convergence.updatesSent} UPDATEs (${result.convergence.updatesPerSecond} UPDATE/s) | |
${Object.entries(result.withdrawMs)
  .map(
    ([k, v]) =>
      `| Withdraw at the router after ${k} | ${v.median} ms (runs: ${v.runs.join(', ')}) | ${k === 'freeze, BFD' ? '≤ 1200 ms' : ''} |`,
  )
  .join('\n')}

"kill" is SIGKILL of the speaker: the kernel sends FIN, so the router withdraws at once with or without BFD.
"freeze" is SIGSTOP (a hung node, or a link that stops passing traffic without FIN): only BFD (300 ms × 3)
or the hold timer (9 s) notices.
`;
writeFileSync(join(dir, 'bgp.md'), md);
process.stdout.write(md);
process.exit(0);
