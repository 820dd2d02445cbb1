import { join } from 'node:path';
import { allocateAll, isAllocated } from '../allocator/index.js';
import { StatusClient } from '../api/client.js';
import { fetchStatus, formatStatus } from '../api/status-view.js';
import { parseConfigTexts } from '../config/index.js';
import { bucketCount } from '../l2/buckets.js';
import { projectRoot } from '../util/paths.js';
import { waitFor } from '../util/wait.js';
import { ECHO_PORT, LAB_NET4, LAB_NET6, LAB_ROUTER_IP4, LabCluster, type LabNode } from './cluster.js';

export const LAB_BGP_NET4 = '10.78.0';
export const LAB_ROUTER_ASN = 64512;
export const LAB_NODE_ASN = 64513;
import { type FailoverMeasurement, measureFailover } from './failover.js';
import { answeringNodes, gateOpen, type NodeDataplane, readDataplane } from './observe.js';

export interface LabOptions {
  nodes: number;
  clients: number;
  requestsPerClient: number;
  xdpMode: 'auto' | 'native' | 'generic';
  tag: string;
  progress: (step: string) => void;
  /** Called with the cluster once everything runs, before teardown (the --keep pause). */
  beforeTeardown?: (cluster: LabCluster) => Promise<void>;
}

export interface VipRow {
  service: string;
  ip: string;
  mode: 'single' | 'spread' | 'none' | 'bgp';
  /** node → share of the 64 client buckets (1 for a single owner). */
  answering: Record<string, number>;
}

export interface LabReport {
  nodes: string[];
  clients: string[];
  vips: VipRow[];
  /** Which node each client's requests reached, per VIP (from the backends' answers). */
  traffic: Array<{ ip: string; client: string; nodes: Record<string, number>; failed: number }>;
  /** What each node's XDP program counted for each VIP. */
  counters: Array<{
    ip: string;
    node: string;
    rxPackets: number;
    rxBytes: number;
    arpRequests: number;
    replies: number;
  }>;
  failover?: FailoverMeasurement;
  /** `herald status` of one node, as its CLI prints it, taken after the traffic and before the failover. */
  status?: { node: string; socket: string; text: string };
  vipsAfterFailover: VipRow[];
  /** BGP mode: the router's ECMP nexthops for each BGP VIP, before and after the failover. */
  bgp: Array<{
    ip: string;
    nexthopsBefore: string[];
    nexthopsAfter: string[];
    withdrawnAfterMs: number | undefined;
  }>;
}

/** The standalone configuration the lab speakers share. */
export function labConfig(nodes: number): string {
  const nodeNames = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const slice = (svc: string, ready: string[]) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${svc}, namespace: lab, labels: { kubernetes.io/service-name: ${svc} } }
endpoints: [${ready.map((n) => `{ nodeName: ${n} }`).join(', ')}]
`;
  const service = (name: string, spec: string, annotations = '') => `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: lab${annotations ? `, annotations: { ${annotations} }` : ''} }
spec: { type: LoadBalancer, ports: [{ port: ${ECHO_PORT} }]${spec ? `, ${spec}` : ''} }
`;
  return `# herald lab: ${nodes} nodes on one LAN, L2 mode
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lab }
spec: { addresses: [${LAB_NET4}.200-${LAB_NET4}.219, "${LAB_NET6}200-${LAB_NET6}219"] }
---
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lab-spread }
spec: { addresses: [${LAB_NET4}.240-${LAB_NET4}.249], autoAssign: false }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lab }
spec: { ipAddressPools: [lab] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: lab-spread }
spec: { ipAddressPools: [lab-spread], spread: { enabled: true } }
---
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: lab-bgp }
spec: { addresses: [${LAB_BGP_NET4}.10-${LAB_BGP_NET4}.19], autoAssign: false }
---
apiVersion: herald.dev/v1beta1
kind: BGPAdvertisement
metadata: { name: lab-bgp }
spec: { ipAddressPools: [lab-bgp], communities: ["64513:100"] }
---
apiVersion: herald.dev/v1beta1
kind: BFDProfile
metadata: { name: lab }
spec: { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }
---
apiVersion: herald.dev/v1beta1
kind: BGPPeer
metadata: { name: router }
spec: { myASN: ${LAB_NODE_ASN}, peerASN: ${LAB_ROUTER_ASN}, peerAddress: ${LAB_ROUTER_IP4}, holdTime: 9s, keepaliveTime: 3s, bfdProfile: lab }
${service('web', '')}${service('api', 'ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]')}${service(
    'local-app',
    'externalTrafficPolicy: Local',
  )}${service('spread-web', '', 'herald.dev/address-pool: lab-spread')}${service('bgp-web', '', 'herald.dev/address-pool: lab-bgp')}${slice('bgp-web', nodeNames)}${slice('web', nodeNames)}${slice(
    'api',
    nodeNames,
  )}${slice('local-app', nodeNames.slice(-1))}${slice('spread-web', nodeNames)}`;
}

/** Service → IPs, computed with the same pure allocator the speakers run. */
export function labAllocations(config: string): Map<string, string[]> {
  const { model, problems } = parseConfigTexts([{ text: config, fileName: 'lab.yaml' }]);
  if (problems.length > 0)
    throw new Error(`lab configuration invalid: ${problems.map((p) => p.message).join('; ')}`);
  const out = new Map<string, string[]>();
  for (const [key, alloc] of allocateAll(model)) if (isAllocated(alloc)) out.set(key, alloc.ips);
  return out;
}

/** Ownership as the XDP maps of the live nodes say (a failed node's map is frozen where it died). */
function vipRows(
  cluster: LabCluster,
  allocations: Map<string, string[]>,
  dead: ReadonlySet<string> = new Set(),
): VipRow[] {
  const live = cluster.nodes.filter((n) => !dead.has(n.name));
  const planes = new Map<string, NodeDataplane>(live.map((n) => [n.name, readDataplane(n)]));
  const rows: VipRow[] = [];
  for (const [service, ips] of allocations) {
    for (const ip of ips) {
      if (ip.startsWith(`${LAB_BGP_NET4}.`)) {
        rows.push({ service, ip, mode: 'bgp', answering: {} });
        continue;
      }
      const answering = answeringNodes(live, planes, ip);
      const spread = [...answering.values()].some((b) => b !== (1n << 64n) - 1n);
      rows.push({
        service,
        ip,
        mode: answering.size === 0 ? 'none' : spread ? 'spread' : 'single',
        answering: Object.fromEntries([...answering].map(([n, b]) => [n, bucketCount(b) / 64])),
      });
    }
  }
  return rows;
}

const probeScript = () => join(projectRoot(), 'dist', 'src', 'lab', 'http-probe.js');

/** Runs the whole lab: LAN, speakers, traffic, failover; always tears down. */
export async function runLab(opts: LabOptions): Promise<LabReport> {
  const config = labConfig(opts.nodes);
  const allocations = labAllocations(config);
  const vips = [...new Set([...allocations.values()].flat())];
  opts.progress(
    `building a LAN of ${opts.nodes} nodes and ${opts.clients} clients (namespaces hrl-${opts.tag}-*)`,
  );
  const cluster = await LabCluster.create({
    tag: opts.tag,
    nodes: opts.nodes,
    clients: opts.clients,
    config,
    vips,
    xdpMode: opts.xdpMode,
    router: { asn: LAB_ROUTER_ASN, nodeAsn: LAB_NODE_ASN, routedPrefixes: [`${LAB_BGP_NET4}.0/24`] },
  });
  try {
    opts.progress(`starting ${opts.nodes} speakers`);
    await cluster.startAll();
    const bgpVips = (allocations.get('lab/bgp-web') ?? []).filter((ip) => !ip.includes(':'));
    const expected = (rows: VipRow[]) => rows.every((r) => r.mode !== 'none');
    await waitFor('every VIP to have an answering node', 20_000, () =>
      expected(vipRows(cluster, allocations)),
    );
    // An entry is written before its node's gate opens: a client's first ARP/NS in between waits for the
    // kernel's retransmit (1 s), longer than a request's timeout.
    await waitFor("every node's liveness gate to open", 20_000, () => cluster.nodes.every(gateOpen));
    opts.progress('waiting for the BGP sessions and the ECMP routes on the router');
    const nexthopsBefore = new Map<string, string[]>();
    for (const ip of bgpVips) {
      await waitFor(`${opts.nodes} ECMP nexthops for ${ip}`, 30_000, async () => {
        nexthopsBefore.set(ip, await cluster.routerNexthops(ip));
        return (nexthopsBefore.get(ip)?.length ?? 0) === opts.nodes;
      }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 500)); // let the spread shares settle after the last join
    const vipsBefore = vipRows(cluster, allocations);

    opts.progress(`sending ${opts.requestsPerClient} HTTP requests per VIP from each client`);
    const traffic: LabReport['traffic'] = [];
    await Promise.all(
      cluster.clients.map(async (client) => {
        const r = await cluster.lan.exec(
          client.ns,
          process.execPath,
          [probeScript(), 'count', vips.join(','), String(ECHO_PORT), String(opts.requestsPerClient)],
          120_000,
        );
        for (const line of r.stdout.trim().split('\n')) {
          const parsed = JSON.parse(line) as { vip: string; nodes: Record<string, number>; failed: number };
          traffic.push({ ip: parsed.vip, client: client.name, nodes: parsed.nodes, failed: parsed.failed });
        }
      }),
    );
    const counters: LabReport['counters'] = [];
    for (const node of cluster.nodes) {
      for (const [ip, c] of readDataplane(node).counters) {
        counters.push({
          ip,
          node: node.name,
          rxPackets: Number(c.rxPackets),
          rxBytes: Number(c.rxBytes),
          arpRequests: Number(c.arpRequests + c.ndpRequests),
          replies: Number(c.replies),
        });
      }
    }

    // The speakers sample their traffic counters every second: let one sample follow the requests.
    await new Promise((r) => setTimeout(r, 1500));
    const status = await statusOf(cluster.nodes[0]);

    opts.progress('killing the owner of lab/web and timing the failover');
    const failover = await failoverOfWeb(cluster, vipsBefore);
    const killed = cluster.nodes.find((n) => n.name === failover?.killed);
    const bgp: LabReport['bgp'] = [];
    for (const ip of bgpVips) {
      let after = await cluster.routerNexthops(ip);
      const gone = await waitFor('the router to withdraw the dead node', 5_000, async () => {
        after = await cluster.routerNexthops(ip);
        return killed !== undefined && !after.includes(killed.ip4);
      }).then(
        () => true,
        () => false,
      );
      bgp.push({
        ip,
        nexthopsBefore: nexthopsBefore.get(ip) ?? [],
        nexthopsAfter: after,
        withdrawnAfterMs:
          gone && failover?.killedAt !== undefined ? Date.now() - failover.killedAt : undefined,
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    const vipsAfterFailover = vipRows(cluster, allocations, new Set(failover ? [failover.killed] : []));
    await opts.beforeTeardown?.(cluster);
    return {
      nodes: cluster.nodes.map((n) => n.name),
      clients: cluster.clients.map((c) => c.name),
      vips: vipsBefore,
      traffic,
      counters,
      failover,
      ...(status ? { status } : {}),
      vipsAfterFailover,
      bgp,
    };
  } finally {
    opts.progress('tearing the lab down');
    await cluster.destroy();
  }
}

/** `herald status --socket SOCKET` of a node (the lab runs in this mount namespace: its socket is a file). */
async function statusOf(node: LabNode | undefined): Promise<LabReport['status']> {
  if (!node) return undefined;
  const client = new StatusClient({ socketPath: node.apiSocket });
  try {
    return { node: node.name, socket: node.apiSocket, text: formatStatus(await fetchStatus(client)) };
  } catch (error) {
    return { node: node.name, socket: node.apiSocket, text: `(no answer: ${String(error)})\n` };
  } finally {
    client.close();
  }
}

/** Kills the owner of lab/web (speaker, backend, link) and times the failover as a client sees it. */
async function failoverOfWeb(cluster: LabCluster, rows: VipRow[]): Promise<FailoverMeasurement | undefined> {
  const web = rows.find((r) => r.service === 'lab/web' && !r.ip.includes(':'));
  const owner = cluster.nodes.find((n) => n.name === Object.keys(web?.answering ?? {})[0]);
  if (!web || !owner) return undefined;
  return measureFailover(cluster, web.ip, owner, (cut) => cluster.failNode(owner, cut));
}

export type { LabNode };
