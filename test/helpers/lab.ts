import { readFileSync } from 'node:fs';
import { LabCluster, type LabNode } from '../../src/lab/cluster.js';
import { answeringNodes, gateOpen, readDataplane } from '../../src/lab/observe.js';
import { LAB_BGP_NET4, labAllocations, labConfig } from '../../src/lab/scenario.js';
import { arping, type ArpingResult, ndisc, waitUntil } from './probes.js';

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
    const gates = cluster.nodes.every(gateOpen);
    return gates && expectAnswered.every((ip) => answering(cluster, ip).size > 0);
  }).catch(async (error: unknown) => {
    const closed = cluster.nodes.filter((n) => !gateOpen(n)).map((n) => n.name);
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

/** What an owner's XDP program did with requests for `ip`: seen, answered, and whether its entry answers. */
function ownerSide(owner: LabNode, ip: string) {
  const plane = readDataplane(owner);
  const c = plane.counters.get(ip);
  return {
    requests: (c?.arpRequests ?? 0n) + (c?.ndpRequests ?? 0n),
    replies: c?.replies ?? 0n,
    answers: plane.vips.get(ip)?.action === 'answer',
  };
}

/**
 * Runs `probe` against `owner`'s VIP, again (at most `attempts` times in all) only while the owner's XDP
 * program counted requests it left unanswered with its entry answering: its liveness gate was shut. A host
 * loaded beyond its CPUs shuts it for a moment on purpose (the pulse thread not scheduled for the liveness
 * bound, or every peer's watch packets late at once: l2/gate.ts), silence being the price of never having
 * two answerers. Any other shortfall (a request that never reached the owner, an answer that never
 * reached the client, the entry no longer answering) is returned as it is, for the caller to fail on.
 */
async function whileGateOpen<R>(
  owner: LabNode,
  ip: string,
  probe: () => Promise<R>,
  complete: (r: R) => boolean,
  attempts: number,
): Promise<{ result: R; gateShut: string[] }> {
  const gateShut: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const before = ownerSide(owner, ip);
    const result = await probe();
    const after = ownerSide(owner, ip);
    const unanswered = after.requests - before.requests - (after.replies - before.replies);
    if (complete(result) || unanswered <= 0n || !before.answers || !after.answers || attempt >= attempts)
      return { result, gateShut };
    gateShut.push(`${owner.name} left ${unanswered} request(s) for ${ip} unanswered with its gate shut`);
  }
}

/** arping (broadcast) from `ns` to `owner`'s VIP `ip`, repeated only for a shut gate (see whileGateOpen). */
export async function arpingOwner(
  cluster: LabCluster,
  ns: string,
  ip: string,
  owner: LabNode,
  opts: { count?: number; attempts?: number } = {},
): Promise<ArpingResult & { gateShut: string[] }> {
  const count = opts.count ?? 2;
  const { result, gateShut } = await whileGateOpen(
    owner,
    ip,
    () => arping(cluster.lan, ns, ip, { count }),
    (r) => r.received >= count,
    opts.attempts ?? 5,
  );
  return { ...result, gateShut };
}

/** ndisc6 from `ns` to `owner`'s IPv6 VIP, repeated only for a shut gate (see whileGateOpen). */
export async function ndiscOwner(
  cluster: LabCluster,
  ns: string,
  ip: string,
  owner: LabNode,
  attempts = 5,
): Promise<{ macs: string[]; gateShut: string[] }> {
  const { result, gateShut } = await whileGateOpen(
    owner,
    ip,
    () => ndisc(cluster.lan, ns, ip),
    (macs) => macs.length > 0,
    attempts,
  );
  return { macs: result, gateShut };
}

function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
