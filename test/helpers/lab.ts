import { readFileSync } from 'node:fs';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { answeringNodes, readDataplane } from '../../src/lab/observe.js';
import { LAB_BGP_NET4, labAllocations, labConfig } from '../../src/lab/scenario.js';
import { waitUntil } from './probes.js';

export interface StartedLab {
  cluster: LabCluster;
  /** service key → IPs, computed with the speakers' own allocator. */
  allocations: Map<string, string[]>;
  vip(service: string, family?: 4 | 6): string;
}

/** A lab cluster with speakers running and every VIP answered by some node. */
export async function startLab(
  tag: string,
  opts: { nodes?: number; clients?: number; config?: string } = {},
) {
  const nodes = opts.nodes ?? 3;
  const config = opts.config ?? labConfig(nodes);
  const allocations = labAllocations(config);
  const vips = [...new Set([...allocations.values()].flat())];
  const cluster = await LabCluster.create({ tag, nodes, clients: opts.clients ?? 1, config, vips });
  await cluster.startAll();
  const started: StartedLab = {
    cluster,
    allocations,
    vip(service, family = 4) {
      const ip = (allocations.get(service) ?? []).find((a) => a.includes(':') === (family === 6));
      if (!ip) throw new Error(`no IPv${family} VIP for ${service}`);
      return ip;
    },
  };
  // BGP-mode VIPs have no L2 owner (and startLab runs no router).
  const expectAnswered = vips.filter((ip) => !ip.startsWith(`${LAB_BGP_NET4}.`));
  // The entries alone are not enough: each gate opens only once the node's watchers report it up.
  await waitUntil('every VIP answered', 60_000, () => {
    const gates = cluster.nodes.every((n) => readDataplane(n).gateOpen);
    return gates && expectAnswered.every((ip) => answering(cluster, ip).size > 0);
  }).catch(async (error: unknown) => {
    const closed = cluster.nodes.filter((n) => !readDataplane(n).gateOpen).map((n) => n.name);
    const silent = expectAnswered.filter((ip) => answering(cluster, ip).size === 0);
    const logs = cluster.nodes.map((n) => `--- ${n.name}\n${logTail(n.logFile, 15)}`).join('\n');
    await cluster.destroy();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}: gates closed on [${closed.join(', ')}], ` +
        `unanswered [${silent.join(', ')}]\n${logs}`,
    );
  });
  return started;
}

/** Nodes whose XDP map answers for `ip` (optionally ignoring some nodes, e.g. a dead one). */
export function answering(
  cluster: LabCluster,
  ip: string,
  ignore: readonly LabNode[] = [],
): Map<string, bigint> {
  const live = cluster.nodes.filter((n) => !ignore.includes(n));
  const planes = new Map(live.map((n) => [n.name, readDataplane(n)]));
  return answeringNodes(live, planes, ip);
}

export function nodeByName(cluster: LabCluster, name: string | undefined): LabNode {
  const node = cluster.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
}

function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
