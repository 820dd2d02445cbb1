import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.js';
import { ECHO_PORT, LAB_NET4, LAB_NET6, LabCluster, type LabHost, type LabNode } from './cluster.js';
import { labAllocations } from './scenario.js';

/** A lab Service in `pool` with an EndpointSlice naming every node (each node runs the HTTP backend). */
export function labService(name: string, pool: string, nodes: number, dual = false): string {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: lab, annotations: { herald.dev/address-pool: ${pool} } }
spec: { type: LoadBalancer, ports: [{ port: ${ECHO_PORT} }]${dual ? ', ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]' : ''} }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, namespace: lab, labels: { kubernetes.io/service-name: ${name} } }
endpoints: [${names.map((n) => `{ nodeName: ${n} }`).join(', ')}]
`;
}

/**
 * The flow-mode lab: N nodes with HTTP backends, clients behind a router, one VIP per family in flow mode
 * and one in single mode (for side-by-side runs). Used by the namespace tests, the benchmark and `herald lab`.
 */
export function flowLabConfig(nodes: number): string {
  return `# herald lab: flow mode vs single mode
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: single }
spec: { addresses: [${LAB_NET4}.200-${LAB_NET4}.209], autoAssign: false }
---
apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: flows }
spec: { addresses: [${LAB_NET4}.230-${LAB_NET4}.239, "${LAB_NET6}230-${LAB_NET6}239"], autoAssign: false }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: single }
spec: { ipAddressPools: [single] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: flows }
spec: { ipAddressPools: [flows], spread: { enabled: true, by: flows } }
${labService('single-web', 'single', nodes)}${labService('flow-web', 'flows', nodes, true)}`;
}

export interface FlowLab {
  cluster: LabCluster;
  single4: string;
  flow4: string;
  flow6: string;
}

/** Builds the lab; speakers run on the first `start` nodes (default all). */
export async function createFlowLab(
  tag: string,
  opts: {
    nodes?: number;
    start?: number;
    routedClients?: number;
    xdpMode?: 'auto' | 'native' | 'generic';
  } = {},
): Promise<FlowLab> {
  const nodes = opts.nodes ?? 3;
  const config = flowLabConfig(nodes);
  const alloc = labAllocations(config);
  const ips = (key: string) => alloc.get(key) ?? [];
  const vips = [...new Set([...alloc.values()].flat())];
  const cluster = await LabCluster.create({
    tag,
    nodes,
    clients: 1,
    routedClients: opts.routedClients ?? 2,
    config,
    vips,
    ...(opts.xdpMode ? { xdpMode: opts.xdpMode } : {}),
  });
  for (const node of cluster.nodes.slice(0, opts.start ?? nodes)) cluster.startSpeaker(node);
  const first = (key: string, v6: boolean) => {
    const ip = ips(key).find((a) => a.includes(':') === v6);
    if (!ip) throw new Error(`flow lab: no IPv${v6 ? 6 : 4} address for ${key}`);
    return ip;
  };
  return {
    cluster,
    single4: first('lab/single-web', false),
    flow4: first('lab/flow-web', false),
    flow6: first('lab/flow-web', true),
  };
}

const LOAD = () => join(projectRoot(), 'dist', 'src', 'lab', 'flow-load.js');

export interface RequestsResult {
  nodes: Record<string, number>;
  bytes: Record<string, number>;
  failed: number;
}

/** LOOPS parallel request loops from a host, COUNT new connections in all, SIZE-byte answers. */
export async function runRequests(
  cluster: LabCluster,
  from: LabHost,
  vip: string,
  loops: number,
  count: number,
  size: number,
): Promise<RequestsResult> {
  const { stdout } = await cluster.lan.exec(
    from.ns,
    process.execPath,
    [LOAD(), 'requests', vip, String(ECHO_PORT), String(loops), String(count), String(size)],
    120_000,
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as RequestsResult;
}

export interface HeldConnection {
  node?: string;
  answers: number;
  error?: string;
  errorAt?: number;
  lastAt?: number;
}

/** Long-lived connections from a host; the returned map fills in as answers arrive. */
export function holdConnections(
  cluster: LabCluster,
  from: LabHost,
  vip: string,
  conns: number,
  intervalMs: number,
  maxMs: number,
  timeoutMs = 2000,
): { conns: Map<number, HeldConnection>; child: ChildProcess; done: Promise<void> } {
  const out = new Map<number, HeldConnection>();
  const child = cluster.lan.spawn(from.ns, process.execPath, [
    LOAD(),
    'hold',
    vip,
    String(ECHO_PORT),
    String(conns),
    String(intervalMs),
    String(maxMs),
    String(timeoutMs),
  ]);
  let buf = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const e = JSON.parse(line) as { c: number; t: number; node?: string; error?: string };
      const c = out.get(e.c) ?? { answers: 0 };
      if (e.node !== undefined) {
        c.node ??= e.node;
        c.answers++;
        c.lastAt = e.t;
      }
      if (e.error !== undefined && c.error === undefined) {
        c.error = e.error;
        c.errorAt = e.t;
      }
      out.set(e.c, c);
    }
  });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { conns: out, child, done };
}

/** What a host received and transmitted on its LAN interface (interface counters). */
export async function linkBytes(
  cluster: LabCluster,
  host: LabHost,
): Promise<{ rx: number; tx: number; rxPackets: number; txPackets: number }> {
  const out = await cluster.lan.ip(host.ns, '-s', '-j', 'link', 'show', 'eth0');
  type Dir = { bytes?: number; packets?: number };
  const parsed = JSON.parse(out) as Array<{ stats64?: { rx?: Dir; tx?: Dir } }>;
  const stats = parsed[0]?.stats64;
  return {
    rx: stats?.rx?.bytes ?? 0,
    tx: stats?.tx?.bytes ?? 0,
    rxPackets: stats?.rx?.packets ?? 0,
    txPackets: stats?.tx?.packets ?? 0,
  };
}

/** Bytes a node transmitted on its LAN interface (interface counters). */
export async function txBytes(cluster: LabCluster, node: LabNode): Promise<number> {
  return (await linkBytes(cluster, node)).tx;
}
