import { readFileSync } from 'node:fs';
import { waitFor } from '../util/wait.js';
import type { LabCluster, LabHost, LabNode } from './cluster.js';
import { createFlowLab, holdConnections, linkBytes, runRequests, type FlowLab } from './flow-lab.js';
import { answeringNodes, readDataplane } from './observe.js';

/**
 * The seed's scenario, single mode beside flow mode (`herald lab`, bench/flow): one client host with 10
 * parallel request loops, and clients behind the lab's router; per node the requests it answered and the
 * bytes its LAN interface transmitted. Then the flow VIP's owner dies with long-lived connections open.
 */

export interface WorkloadRow {
  workload: string;
  mode: 'single' | 'flows';
  /** Requests each node answered (from the backends' answers). */
  requests: Record<string, number>;
  /** Bytes each node's LAN interface transmitted during the run (interface counters). */
  txBytes: Record<string, number>;
  failed: number;
  /** Busiest node's TX bytes ÷ the mean over nodes (1 = even, N = one node of N carries all). */
  maxMeanTx: number;
}

export interface SurvivalRow {
  mode: 'single' | 'flows';
  victim: string;
  connections: number;
  onSurvivors: number;
  /** Connections on surviving nodes that never broke and answered again 5 s after the death. */
  survivorsKeptWorking: number;
  onVictim: number;
}

export const SEED_WORKLOAD = 'seed: one client host, 10 loops';
export const ROUTER_WORKLOAD = 'router: clients behind the router, 10 loops each';

/** Nodes whose XDP map answers for `ip`, ignoring nodes whose speaker has exited. */
export function answeringLive(cluster: LabCluster, ip: string): string[] {
  const running = (n: LabNode) => n.speaker?.exitCode === null && n.speaker.signalCode === null;
  const live = cluster.nodes.filter(running);
  const planes = new Map(live.map((n) => [n.name, readDataplane(n)]));
  return [...answeringNodes(live, planes, ip).keys()];
}

/** `requests` new connections from `from` (10 loops per host) for `size`-byte answers. */
export async function workload(
  lab: FlowLab,
  name: string,
  mode: 'single' | 'flows',
  from: readonly LabHost[],
  requests: number,
  size: number,
): Promise<WorkloadRow> {
  const { cluster } = lab;
  const vip = mode === 'flows' ? lab.flow4 : lab.single4;
  const tx = async () => Promise.all(cluster.nodes.map(async (n) => (await linkBytes(cluster, n)).tx));
  const before = await tx();
  const results = await Promise.all(
    from.map((h) => runRequests(cluster, h, vip, 10, Math.round(requests / from.length), size)),
  );
  const after = await tx();
  const answered: Record<string, number> = {};
  let failed = 0;
  for (const r of results) {
    failed += r.failed;
    for (const [n, c] of Object.entries(r.nodes)) answered[n] = (answered[n] ?? 0) + c;
  }
  const sent: Record<string, number> = {};
  cluster.nodes.forEach((n, i) => (sent[n.name] = (after[i] ?? 0) - (before[i] ?? 0)));
  const values = Object.values(sent);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    workload: name,
    mode,
    requests: answered,
    txBytes: sent,
    failed,
    maxMeanTx: Math.max(...values) / mean,
  };
}

/** Kills the owner of `vip` (SIGKILL, link down) with 24 long-lived connections open from `from`. */
export async function survival(
  cluster: LabCluster,
  from: LabHost,
  vip: string,
  mode: 'single' | 'flows',
): Promise<SurvivalRow> {
  const victim = cluster.nodes.find((n) => n.name === answeringLive(cluster, vip)[0]) as LabNode | undefined;
  if (!victim) throw new Error(`no owner for ${vip}`);
  const held = holdConnections(cluster, from, vip, 24, 200, 15_000, 8_000);
  await waitFor('24 connections answered', 10_000, () => held.conns.size === 24);
  await new Promise((r) => setTimeout(r, 1000));
  await cluster.failNode(victim);
  const diedAt = Date.now();
  await held.done;
  const all = [...held.conns.values()];
  const onSurvivors = all.filter((c) => c.node !== victim.name);
  return {
    mode,
    victim: victim.name,
    connections: all.length,
    onSurvivors: onSurvivors.length,
    survivorsKeptWorking: onSurvivors.filter((c) => c.error === undefined && (c.lastAt ?? 0) > diedAt + 5000)
      .length,
    onVictim: all.length - onSurvivors.length,
  };
}

/**
 * Waits until both lab VIPs are answered and new flows reach every node. A timeout says what was last
 * seen (who answered, where the requests went, which speakers had exited), so a rare one can be told apart.
 */
export async function flowLabReady(lab: FlowLab, timeoutMs = 120_000): Promise<void> {
  const { cluster } = lab;
  const client = cluster.routedClients[0];
  if (!client) throw new Error('the flow lab has no client behind its router');
  let last = 'nothing checked';
  try {
    await waitFor('both VIPs answered and flows on every node', timeoutMs, async () => {
      const flow = answeringLive(cluster, lab.flow4);
      const single = answeringLive(cluster, lab.single4);
      last = `${lab.flow4} answered by ${flow.join(',') || 'nobody'}, ${lab.single4} by ${single.join(',') || 'nobody'}`;
      if (flow.length === 0 || single.length === 0) return false;
      const r = await runRequests(cluster, client, lab.flow4, 4, 30, 0);
      const reached = Object.keys(r.nodes).sort();
      last += `; 30 requests reached ${reached.join(',') || 'no node'}, ${r.failed} failed`;
      return reached.length === cluster.nodes.length;
    });
  } catch (error) {
    const exited = cluster.nodes
      .filter((n) => n.speaker && (n.speaker.exitCode !== null || n.speaker.signalCode !== null))
      .map((n) => `${n.name} (${n.speaker?.exitCode ?? n.speaker?.signalCode})`);
    const why = error instanceof Error ? error.message : String(error);
    const warnings = cluster.nodes.map((n) => `${n.name}: ${lastWarnings(n.logFile).join(' | ') || '-'}`);
    throw new Error(
      `${why}; last seen: ${last}; speakers exited: ${exited.join(', ') || 'none'}; ` +
        `their last warnings (the LAN and its logs are removed next): ${warnings.join('; ')}`,
    );
  }
}

/** The last `max` warning-or-worse messages of a speaker's JSON log (the lab removes the file at teardown). */
export function lastWarnings(logFile: string, max = 4): string[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as { level?: number; msg?: string; time?: number };
      if ((e.level ?? 0) >= 40)
        out.push(`${e.msg ?? ''}${e.time ? ` @${new Date(e.time).toISOString()}` : ''}`);
    } catch {
      // not a log record
    }
  }
  return out.slice(-max);
}

export interface FlowScenarioReport {
  nodes: string[];
  requests: number;
  responseBytes: number;
  workloads: WorkloadRow[];
  /** The flow VIP's owner killed with long-lived connections open. */
  survival: SurvivalRow;
}

export interface FlowScenarioOptions {
  tag: string;
  /** New connections per workload run. */
  requests: number;
  responseBytes: number;
  xdpMode?: 'auto' | 'native' | 'generic';
  progress: (step: string) => void;
}

/** The whole flow-mode part of `herald lab`, on a LAN of its own (3 nodes); always tears down. */
export async function runFlowScenario(opts: FlowScenarioOptions): Promise<FlowScenarioReport> {
  opts.progress(
    `flow mode: building 3 nodes, a client host and 2 clients behind a router (hrl-${opts.tag}-*)`,
  );
  const lab = await createFlowLab(opts.tag, { nodes: 3, ...(opts.xdpMode ? { xdpMode: opts.xdpMode } : {}) });
  try {
    await flowLabReady(lab);
    const { cluster } = lab;
    const seed = cluster.clients.slice(0, 1);
    const routed = cluster.routedClients;
    const workloads: WorkloadRow[] = [];
    for (const mode of ['single', 'flows'] as const) {
      opts.progress(`flow mode: ${opts.requests} requests per workload to the ${mode}-mode VIP`);
      workloads.push(await workload(lab, SEED_WORKLOAD, mode, seed, opts.requests, opts.responseBytes));
      workloads.push(await workload(lab, ROUTER_WORKLOAD, mode, routed, opts.requests, opts.responseBytes));
    }
    opts.progress('flow mode: killing the owner of the flow VIP with 24 long-lived connections open');
    const client = routed[0] ?? seed[0];
    if (!client) throw new Error('the flow lab has no client');
    return {
      nodes: cluster.nodes.map((n) => n.name),
      requests: opts.requests,
      responseBytes: opts.responseBytes,
      workloads,
      survival: await survival(cluster, client, lab.flow4, 'flows'),
    };
  } finally {
    opts.progress('flow mode: tearing its LAN down');
    await lab.cluster.destroy();
  }
}
