import { readFileSync } from 'node:fs';
import { rendezvousOrder } from '../l2/rendezvous.js';
import { LAB_NET4, LabCluster } from './cluster.js';
import { labService, linkBytes } from './flow-lab.js';
import { labAllocations } from './scenario.js';

/**
 * The bandwidth-placement lab: N nodes whose links are declared at a fixed capacity (--link-capacity), a
 * client on the LAN and one behind the router, and K flow-mode VIPs under `placement: { by: bandwidth }`.
 * Used by the namespace test and the benchmark (bench/placement/netns.ts).
 */
export const PLACEMENT_THRESHOLD = 0.7;

export function placementLabConfig(nodes: number, vips: number): string {
  const services = Array.from({ length: vips }, (_, i) => labService(`p${i + 1}`, 'placed', nodes)).join('');
  return `# herald lab: bandwidth placement of flow-mode VIPs
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: placed }
spec: { addresses: [${LAB_NET4}.150-${LAB_NET4}.${149 + vips}], autoAssign: false }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: placed }
spec:
  ipAddressPools: [placed]
  spread: { enabled: true, by: flows }
  placement: { by: bandwidth, utilizationThreshold: ${PLACEMENT_THRESHOLD}, sustain: 5s }
${services}`;
}

export interface PlacementLab {
  cluster: LabCluster;
  /** The VIPs, in address order. */
  vips: string[];
  capacityBits: number;
}

/** Builds the lab and starts every speaker with `--link-capacity eth0=<capacityBits>`. */
export async function createPlacementLab(
  tag: string,
  opts: { nodes?: number; vips?: number; capacityBits: number },
): Promise<PlacementLab> {
  const nodes = opts.nodes ?? 3;
  const config = placementLabConfig(nodes, opts.vips ?? 6);
  const vips = [...new Set([...labAllocations(config).values()].flat())].sort(
    (a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()),
  );
  const cluster = await LabCluster.create({
    tag,
    nodes,
    clients: 1,
    routedClients: 1,
    config,
    vips,
    extraSpeakerArgs: ['--link-capacity', `eth0=${opts.capacityBits}`],
  });
  await cluster.startAll();
  return { cluster, vips, capacityBits: opts.capacityBits };
}

export interface SkewedLoad {
  /** The node the rendezvous hash gives both heavy VIPs. */
  hot: string;
  heavy: [string, string];
  /** Ingress per VIP in bits per second. */
  rates: Map<string, number>;
}

/**
 * Traffic the hash places badly: the first two VIPs that hash to the same node get `heavy` × capacity
 * each, every other VIP `light` × capacity (defaults 40 % and 2.5 %: the hot node starts above 80 %, and
 * after one heavy VIP moves no node is above 70 % even if every light VIP sat on the hot node).
 */
export function skewedLoad(
  vips: readonly string[],
  nodes: readonly string[],
  capacityBits: number,
  opts: { heavy?: number; light?: number } = {},
): SkewedLoad {
  const byOwner = new Map<string, string[]>();
  for (const ip of vips) {
    const owner = rendezvousOrder(ip, nodes)[0] as string;
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), ip]);
  }
  const hot = [...byOwner].find(([, ips]) => ips.length >= 2);
  if (!hot) throw new Error(`no two of ${vips.length} VIPs hash to one of ${nodes.length} nodes`);
  const [hotNode, [a, b]] = hot as [string, [string, string]];
  const rates = new Map(
    vips.map((ip) => [
      ip,
      capacityBits * (ip === a || ip === b ? (opts.heavy ?? 0.4) : (opts.light ?? 0.025)),
    ]),
  );
  return { hot: hotNode, heavy: [a, b], rates };
}

export interface LinkUse {
  rxBits: number;
  txBits: number;
  /** max(rx, tx) ÷ capacity: the busier direction of a full-duplex link, as the placement decision counts. */
  utilization: number;
}

/** Every node's measured link use over `windowMs`, from its interface counters. */
export async function linkUse(lab: PlacementLab, windowMs: number): Promise<Map<string, LinkUse>> {
  const { cluster } = lab;
  const read = () => Promise.all(cluster.nodes.map((n) => linkBytes(cluster, n)));
  const t0 = performance.now();
  const before = await read();
  await new Promise((r) => setTimeout(r, windowMs));
  const after = await read();
  const seconds = (performance.now() - t0) / 1000;
  const out = new Map<string, LinkUse>();
  cluster.nodes.forEach((node, i) => {
    const rxBits = (((after[i]?.rx ?? 0) - (before[i]?.rx ?? 0)) * 8) / seconds;
    const txBits = (((after[i]?.tx ?? 0) - (before[i]?.tx ?? 0)) * 8) / seconds;
    out.set(node.name, { rxBits, txBits, utilization: Math.max(rxBits, txBits) / lab.capacityBits });
  });
  return out;
}

export function maxUtilization(use: ReadonlyMap<string, LinkUse>): number {
  return Math.max(...[...use.values()].map((u) => u.utilization));
}

export interface LoggedMove {
  /** The coordinator that logged it. */
  node: string;
  at: number;
  ip: string;
  from: string;
  to: string;
  reason: string;
}

/** The moves the coordinators logged so far ("moved IP A → B: ..."), oldest first. */
export function loggedMoves(cluster: LabCluster): LoggedMove[] {
  const moves: LoggedMove[] = [];
  for (const node of cluster.nodes) {
    let text = '';
    try {
      text = readFileSync(node.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"msg":"moved ')) continue;
      try {
        const e = JSON.parse(line) as { time: number; ip: string; from: string; to: string; msg: string };
        moves.push({ node: node.name, at: e.time, ip: e.ip, from: e.from, to: e.to, reason: e.msg });
      } catch {
        // a line cut by a concurrent write: the next read has it whole
      }
    }
  }
  return moves.sort((a, b) => a.at - b.at);
}
