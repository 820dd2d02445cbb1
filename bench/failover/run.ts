/**
 * Failover benchmark (issue 5): SIGKILL + link down of the node that owns a VIP → time until a client's
 * HTTP request is answered through the new owner. Herald (gossip + XDP) and keepalived (VRRP, default
 * timers) do the same job on the same namespaces, in the same run.
 *
 *   node dist/bench/failover/run.js [--trials 20] [--nodes 3,10]
 *
 * Writes bench/results/failover.json and bench/results/failover.md.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { type FailoverMeasurement, measureFailover } from '../../src/lab/failover.js';
import { answeringNodes, readDataplane } from '../../src/lab/observe.js';
import { labAllocations, labConfig } from '../../src/lab/scenario.js';
import { projectRoot } from '../../src/util/paths.js';
import { pollUntil, sleep } from '../../src/util/wait.js';

interface Trial {
  killed: string;
  newOwner: string | undefined;
  failoverMs: number | undefined;
}

interface Series {
  system: 'herald' | 'keepalived';
  nodes: number;
  trials: Trial[];
  medianMs: number | undefined;
  p95Ms: number | undefined;
  maxMs: number | undefined;
  failed: number;
}

function quantile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function toTrial(m: FailoverMeasurement): Trial {
  return { killed: m.killed, newOwner: m.newOwner, failoverMs: m.failoverMs };
}

function summarize(system: Series['system'], nodes: number, trials: Trial[]): Series {
  const ok = trials
    .map((t) => t.failoverMs)
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  return {
    system,
    nodes,
    trials,
    medianMs: quantile(ok, 0.5),
    p95Ms: quantile(ok, 0.95),
    maxMs: ok.at(-1),
    failed: trials.length - ok.length,
  };
}

async function heraldSeries(nodes: number, trials: number): Promise<Series> {
  const config = labConfig(nodes);
  const allocations = labAllocations(config);
  const vips = [...new Set([...allocations.values()].flat())];
  const vip = (allocations.get('lab/web') ?? [])[0] as string;
  const cluster = await LabCluster.create({ tag: `fo${nodes}`, nodes, clients: 1, config, vips });
  const owner = () => {
    const planes = new Map(cluster.nodes.map((n) => [n.name, readDataplane(n)]));
    const live = cluster.nodes.filter(
      (n) => n.speaker && n.speaker.exitCode === null && n.speaker.signalCode === null,
    );
    return [...answeringNodes(live, planes, vip).keys()];
  };
  const results: Trial[] = [];
  try {
    await cluster.startAll();
    if ((await pollUntil(20_000, () => owner().length === 1)) === undefined)
      throw new Error('herald: VIP never got an owner');
    await sleep(1000);
    for (let i = 0; i < trials; i++) {
      const current = cluster.nodes.find((n) => n.name === owner()[0]);
      if (!current) throw new Error('herald: no owner before a trial');
      const trial = toTrial(await measureFailover(cluster, vip, current, () => cluster.failNode(current)));
      results.push(trial);
      process.stderr.write(
        `herald n=${nodes} trial ${i + 1}: ${trial.failoverMs ?? 'none'} ms → ${trial.newOwner}\n`,
      );
      await cluster.restoreNode(current);
      cluster.startSpeaker(current);
      await pollUntil(10_000, () => owner().length === 1 && owner()[0] === current.name);
      await sleep(1500);
    }
  } finally {
    await cluster.destroy();
  }
  return summarize('herald', nodes, results);
}

function keepalivedConf(node: LabNode, index: number, vip: string): string {
  return `global_defs {
  router_id ${node.name}
  vrrp_garp_master_delay 5
}
vrrp_instance lab {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority ${200 - index}
  advert_int 1
  virtual_ipaddress {
    ${vip}/24 dev eth0
  }
}
`;
}

async function keepalivedSeries(nodes: number, trials: number): Promise<Series> {
  const config = labConfig(nodes);
  const allocations = labAllocations(config);
  const vip = (allocations.get('lab/web') ?? [])[0] as string;
  // Backends accept the VIP on lo (as with Herald); keepalived puts it on eth0 of the master, which is
  // the only interface the kernel answers ARP for it on (arp_ignore=1).
  const cluster = await LabCluster.create({ tag: `ka${nodes}`, nodes, clients: 1, config, vips: [vip] });
  const procs = new Map<string, ChildProcess>();
  const start = (node: LabNode, index: number) => {
    const conf = join(cluster.workDir, `${node.name}-keepalived.conf`);
    writeFileSync(conf, keepalivedConf(node, index, vip));
    const pid = (s: string) => join(cluster.workDir, `${node.name}-${s}.pid`);
    procs.set(
      node.name,
      cluster.lan.spawn(
        node.ns,
        'keepalived',
        ['-n', '-P', '-l', '-f', conf, '-p', pid('main'), '-r', pid('vrrp'), '-c', pid('chk')],
        {
          stdio: 'ignore',
        },
      ),
    );
  };
  const master = async (): Promise<string[]> => {
    const holders: string[] = [];
    for (const n of cluster.nodes) {
      const out = await cluster.lan.ip(n.ns, '-o', 'addr', 'show', 'dev', 'eth0').catch(() => '');
      if (out.includes(` ${vip}/`)) holders.push(n.name);
    }
    return holders;
  };
  const results: Trial[] = [];
  try {
    cluster.nodes.forEach((n, i) => start(n, i));
    if ((await pollUntil(20_000, async () => (await master()).length === 1)) === undefined)
      throw new Error('keepalived: no master');
    await sleep(2000);
    for (let i = 0; i < trials; i++) {
      const name = (await master())[0];
      const node = cluster.nodes.find((n) => n.name === name);
      if (!node) throw new Error('keepalived: no master before a trial');
      const trial = toTrial(
        await measureFailover(cluster, vip, node, async () => {
          await cluster.failNode(node);
          procs.get(node.name)?.kill('SIGKILL');
        }),
      );
      results.push(trial);
      process.stderr.write(
        `keepalived n=${nodes} trial ${i + 1}: ${trial.failoverMs ?? 'none'} ms → ${trial.newOwner}\n`,
      );
      await cluster.restoreNode(node);
      await cluster.lan.ip(node.ns, 'addr', 'del', `${vip}/24`, 'dev', 'eth0').catch(() => undefined);
      start(node, cluster.nodes.indexOf(node));
      await pollUntil(15_000, async () => (await master()).join() === node.name);
      await sleep(2000);
    }
  } finally {
    for (const p of procs.values()) p.kill('SIGKILL');
    await cluster.destroy();
  }
  return summarize('keepalived', nodes, results);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { trials: { type: 'string', default: '20' }, nodes: { type: 'string', default: '3,10' } },
  });
  const trials = Number(values.trials);
  const sizes = (values.nodes ?? '3,10').split(',').map(Number);
  const series: Series[] = [];
  for (const n of sizes) {
    series.push(await heraldSeries(n, trials));
    series.push(await keepalivedSeries(n, trials));
  }
  const at = new Date().toISOString();
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'failover.json'), `${JSON.stringify({ at, trials, series }, null, 2)}\n`);
  const fmt = (x: number | undefined) => (x === undefined ? '-' : `${x}`);
  const md = [
    '# Failover: owner killed (SIGKILL + link down) → first client request answered by the new owner',
    '',
    `Measured ${at} on this machine (2 vCPU), ${trials} trials per row; HTTP probe every 10 ms from a client`,
    'namespace; Herald with the fast-lan gossip profile and XDP in generic mode; keepalived VRRP with',
    'default timers (advert_int 1 s). Rerun: `npm run build && node dist/bench/failover/run.js`.',
    '',
    '| system | nodes | median ms | p95 ms | max ms | no failover |',
    '|---|---|---|---|---|---|',
    ...series.map(
      (s) =>
        `| ${s.system} | ${s.nodes} | ${fmt(s.medianMs)} | ${fmt(s.p95Ms)} | ${fmt(s.maxMs)} | ${s.failed} |`,
    ),
    '',
    'Targets (issue 5): Herald median ≤ 1000 ms, p95 ≤ 1500 ms.',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'failover.md'), md);
  process.stdout.write(md);
}

await main();
