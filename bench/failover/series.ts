import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { type FailoverMeasurement, measureFailover } from '../../src/lab/failover.js';
import { answeringNodes, readDataplane } from '../../src/lab/observe.js';
import { flowLabConfig } from '../../src/lab/flow-lab.js';
import { labAllocations, labConfig } from '../../src/lab/scenario.js';
import { pollUntil, sleep } from '../../src/util/wait.js';
import { KeepalivedCluster } from './keepalived.js';
import { type HeraldWatch, load1, type Series, summarize, toTrial, type Trial } from './stats.js';

/** The lab's single-mode VIPs: lab/web (IPv4) and the IPv6 address of lab/api. */
export function labVips(nodes: number): { config: string; v4: string; v6: string } {
  const config = labConfig(nodes);
  const allocations = labAllocations(config);
  const v4 = (allocations.get('lab/web') ?? [])[0];
  const v6 = (allocations.get('lab/api') ?? []).find((ip) => ip.includes(':'));
  if (!v4 || !v6) throw new Error('lab config: lab/web or the IPv6 address of lab/api missing');
  return { config, v4, v6 };
}

/** The flow-mode lab's VIP (lab/flow-web, dual-stack, spread by flows). */
export function flowVips(nodes: number): { config: string; v4: string; v6: string } {
  const config = flowLabConfig(nodes);
  const ips = labAllocations(config).get('lab/flow-web') ?? [];
  const v4 = ips.find((ip) => !ip.includes(':'));
  const v6 = ips.find((ip) => ip.includes(':'));
  if (!v4 || !v6) throw new Error('flow lab config: lab/flow-web lacks an IPv4 or IPv6 address');
  return { config, v4, v6 };
}

export function heraldOwner(cluster: LabCluster, vip: string): string[] {
  const live = cluster.nodes.filter(
    (n) => n.speaker && n.speaker.exitCode === null && n.speaker.signalCode === null,
  );
  const planes = new Map(live.map((n) => [n.name, readDataplane(n)]));
  return [...answeringNodes(live, planes, vip).keys()];
}

/**
 * Each VIP has exactly one answering node, the same one for `stableMs`: while the speakers of a start
 * still join, one of them can hold a VIP for a moment and hand it on (a trial begun then measures nothing).
 */
async function settled(
  cluster: LabCluster,
  vips: readonly string[],
  timeoutMs: number,
  stableMs = 2000,
): Promise<boolean> {
  let last = '';
  let since = Date.now();
  const check = () => {
    const owners = vips.map((vip) => heraldOwner(cluster, vip));
    const now = owners.every((o) => o.length === 1) ? owners.join() : '';
    if (now !== last) [last, since] = [now, Date.now()];
    return now !== '' && Date.now() - since >= stableMs;
  };
  return (await pollUntil(timeoutMs, check, 100)) !== undefined;
}

/** Waits until each VIP has one settled answering node; on timeout the speakers' logs say why. */
export async function waitForOwners(cluster: LabCluster, vips: readonly string[]): Promise<void> {
  // Ten speakers starting at once on two shared vCPUs take far longer than three.
  if (await settled(cluster, vips, Math.max(60_000, 12_000 * cluster.nodes.length))) return;
  for (const n of cluster.nodes) {
    const text = existsSync(n.logFile) ? readFileSync(n.logFile, 'utf8') : '(no log)';
    process.stderr.write(`--- ${n.name}\n${text.split('\n').slice(-15).join('\n')}\n`);
  }
  const owners = vips.map((vip) => `${vip}: ${heraldOwner(cluster, vip).join(',') || 'none'}`);
  throw new Error(`herald: no single settled owner (${owners.join('; ')})`);
}

/** One trial; a trial that cannot be measured counts as "no failover" with its reason, the run goes on. */
async function attempt(
  family: 4 | 6,
  node: LabNode,
  run: () => Promise<FailoverMeasurement>,
): Promise<Trial> {
  try {
    return toTrial(family, await run());
  } catch (error) {
    log(
      `trial failed: ${error instanceof Error ? error.message : String(error)} (${new Date().toISOString()})`,
    );
    return { family, killed: node.name, newOwner: undefined, failoverMs: undefined };
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function heraldSeries(
  nodes: number,
  trials: number,
  mode: 'single' | 'flows' = 'single',
  keepLogs?: string,
  watch?: HeraldWatch,
): Promise<Series[]> {
  const { config, v4, v6 } = mode === 'single' ? labVips(nodes) : flowVips(nodes);
  const allVips = [...new Set([...labAllocations(config).values()].flat())];
  const tag = `${mode === 'single' ? 'fo' : 'ff'}${nodes}`;
  const cluster = await LabCluster.create({
    tag,
    nodes,
    clients: 1,
    config,
    vips: allVips,
    ...(watch ? { extraSpeakerArgs: watch.args } : {}),
  });
  const results: Trial[] = [];
  const load = load1();
  const at = new Date().toISOString();
  try {
    await cluster.startAll();
    await waitForOwners(cluster, [v4, v6]);
    await sleep(1000);
    for (let i = 0; i < 2 * trials; i++) {
      const family = i % 2 === 0 ? 4 : 6;
      const vip = family === 4 ? v4 : v6;
      const current = cluster.nodes.find((n) => n.name === heraldOwner(cluster, vip)[0]);
      if (!current) throw new Error(`herald: no owner of ${vip} before a trial`);
      const trial = await attempt(family, current, () =>
        measureFailover(cluster, vip, current, (cut) => cluster.failNode(current, cut)),
      );
      results.push(trial);
      log(
        `herald ${mode} n=${nodes} IPv${family} trial ${(i >> 1) + 1}: ${trial.failoverMs ?? 'none'} ms → ${trial.newOwner}`,
      );
      // A trial that failed before its kill leaves the owner running: a second speaker on its pin dir
      // would only be refused (the pin-dir lock), so the old one goes first.
      await cluster.killSpeaker(current, 'SIGKILL');
      await cluster.restoreNode(current);
      cluster.startSpeaker(current);
      if (!(await settled(cluster, [v4, v6], 30_000)))
        log(
          `after the restore: owners ${[v4, v6].map((ip) => heraldOwner(cluster, ip).join(',') || 'none').join(' / ')}`,
        );
      await forgetNeighbors(cluster);
      await sleep(1500);
    }
  } finally {
    if (keepLogs) cluster.copyLogs(join(keepLogs, tag));
    await cluster.destroy();
  }
  const system = watch ? `herald (${watch.label})` : 'herald';
  return ([4, 6] as const).map((family) => summarize({ system, mode, family, nodes, at }, results, load));
}

export async function keepalivedSeries(nodes: number, trials: number, advertInt: number): Promise<Series[]> {
  const { config, v4, v6 } = labVips(nodes);
  const cluster = await LabCluster.create({
    tag: `ka${nodes}${String(advertInt).replace('.', '')}`,
    nodes,
    clients: 1,
    config,
    vips: [v4, v6],
  });
  const ka = new KeepalivedCluster(cluster, { v4, v6 }, { advertInt });
  const system = `keepalived VRRPv3 advert_int ${advertInt} s`;
  const results: Trial[] = [];
  const load = load1();
  const at = new Date().toISOString();
  try {
    ka.startAll();
    for (const vip of [v4, v6])
      if ((await pollUntil(20_000, async () => (await ka.holders(vip)).length === 1)) === undefined)
        throw new Error(`keepalived: no master for ${vip}`);
    await sleep(2000);
    for (let i = 0; i < 2 * trials; i++) {
      const family = i % 2 === 0 ? 4 : 6;
      const vip = family === 4 ? v4 : v6;
      const name = (await ka.holders(vip))[0];
      const master = cluster.nodes.find((n) => n.name === name);
      if (!master) throw new Error(`keepalived: no master of ${vip} before a trial`);
      const trial = await attempt(family, master, () =>
        measureFailover(cluster, vip, master, async (cut) => {
          await cluster.failNode(master, cut);
          ka.kill(master);
        }),
      );
      results.push(trial);
      log(
        `${system} n=${nodes} IPv${family} trial ${(i >> 1) + 1}: ${trial.failoverMs ?? 'none'} ms → ${trial.newOwner}`,
      );
      await restoreKeepalived(cluster, ka, master, [v4, v6]);
    }
  } finally {
    ka.stopAll();
    await cluster.destroy();
  }
  return ([4, 6] as const).map((family) =>
    summarize({ system, mode: 'VRRP', family, nodes, at }, results, load),
  );
}

/**
 * The killed master back: its addresses released (a crash leaves them on eth0), link up, keepalived
 * started; it preempts (highest priority). The next trial must start from it, so a restore that does not
 * end with it the only holder of both VIPs stops the series with keepalived's log.
 */
async function restoreKeepalived(cluster: LabCluster, ka: KeepalivedCluster, node: LabNode, vips: string[]) {
  await ka.waitGone(node);
  await ka.release(node);
  await cluster.restoreNode(node);
  ka.start(node);
  const restored = await pollUntil(15_000, async () => {
    if (!ka.running(node)) return false;
    for (const vip of vips) if ((await ka.holders(vip)).join() !== node.name) return false;
    return true;
  });
  if (restored === undefined) {
    const tail = existsSync(ka.logFile)
      ? readFileSync(ka.logFile, 'utf8').split('\n').slice(-40).join('\n')
      : '';
    throw new Error(`keepalived: ${node.name} did not take its VIPs back after a restart\n${tail}`);
  }
  await forgetNeighbors(cluster);
  await sleep(2000);
}

/**
 * The client forgets its neighbor entries between trials: a node that takes a VIP back after a restart
 * does not announce it yet (issue 14, restart burst), and the next trial must start from the owner.
 */
async function forgetNeighbors(cluster: LabCluster): Promise<void> {
  for (const c of cluster.clients)
    await cluster.lan.ip(c.ns, 'neigh', 'flush', 'dev', 'eth0').catch(() => undefined);
}
