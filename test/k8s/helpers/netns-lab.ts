import { createConnection, createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeraldController } from '../../../src/k8s/controller.js';
import { LabCluster, type LabClusterOptions } from '../../../src/lab/cluster.js';
import { projectRoot } from '../../../src/util/paths.js';
import { waitUntil } from '../../helpers/probes.js';
import { TestApiServer } from '../apiserver/server.js';
import { ingressOf } from './cluster.js';
import { kubeConfigFor } from './kube.js';

const API_PORT_IN_NS = 16443;

export interface KubeLabOptions {
  /** The LAN, its nodes (n1..nN, also the Node objects) and clients. */
  lab: Omit<LabClusterOptions, 'config' | 'vips' | 'kubernetes'>;
  /** The namespace Herald runs in: its configuration objects and ServiceL2Statuses. */
  namespace: string;
  /** Fills the API server (CRDs, configuration, Services, EndpointSlices); Nodes n1..nN are there. */
  setup: (server: TestApiServer) => Promise<void> | void;
  /** Services (namespace default) that must have addresses before the speakers start. */
  services: string[];
}

export interface KubeLab {
  server: TestApiServer;
  cluster: LabCluster;
  /** Service name → the addresses the controller wrote into its status. */
  ingress: Map<string, string[]>;
  /** The tail of every speaker's log, for a failure's diagnosis. */
  logs(): string;
  destroy(): Promise<void>;
}

export interface ApiRelay {
  /** A kubeconfig for speakers in the lab's namespaces (the API at 127.0.0.1 in their namespace). */
  kubeconfig: string;
  /** The unix socket that relays to the API server. */
  socketPath: string;
  close(): Promise<void>;
}

/** The API server made reachable from network namespaces: a unix-socket relay and a kubeconfig for it. */
export async function relayApi(server: TestApiServer, namespace: string, tag: string): Promise<ApiRelay> {
  const dir = mkdtempSync(join(tmpdir(), `herald-${tag}-api-`));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    server.kubeconfig(namespace).replace(server.url, `http://127.0.0.1:${API_PORT_IN_NS}`),
  );
  const socketPath = join(dir, 'api.sock');
  const relay: Server = createServer((c) => {
    const upstream = createConnection(Number(new URL(server.url).port), '127.0.0.1');
    c.pipe(upstream).pipe(c);
    c.on('error', () => upstream.destroy());
    upstream.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => relay.listen(socketPath, r));
  return {
    kubeconfig,
    socketPath,
    close: async () => {
      await new Promise<void>((r) => relay.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts, in every node's namespace, the forwarder from the kubeconfig's port to the relay. */
export async function forwardApi(cluster: LabCluster, api: ApiRelay): Promise<void> {
  const forwarder = join(projectRoot(), 'dist', 'test', 'helpers', 'tcp-to-unix.js');
  for (const node of cluster.nodes) {
    cluster.lan.spawn(node.ns, process.execPath, [forwarder, String(API_PORT_IN_NS), api.socketPath], {
      stdio: 'ignore',
    });
  }
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * A cluster on one machine: the test API server, a real `HeraldController` allocating against it, and
 * real speakers in Kubernetes mode in network namespaces n1..nN reading it through a unix-socket relay
 * (nothing leaves loopback). The nodes hold every allocated address on lo, as kube-proxy would.
 */
export async function startKubeLab(opts: KubeLabOptions): Promise<KubeLab> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const destroy = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // the rest is removed all the same
      }
    }
  };
  try {
    const server = await TestApiServer.start();
    cleanups.push(() => server.stop());
    for (let i = 1; i <= opts.lab.nodes; i++)
      server.createObject({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: `n${i}`, labels: {} },
        spec: {},
      });
    await opts.setup(server);

    const controller = new HeraldController({
      kubeConfig: kubeConfigFor(server),
      namespace: opts.namespace,
      leaderElection: false,
    });
    await controller.start();
    cleanups.push(() => controller.stop());
    await waitUntil(`the controller to allocate ${opts.services.join(', ')}`, 20_000, () =>
      opts.services.every((s) => ingressOf(server, s).length > 0),
    );
    const ingress = new Map(opts.services.map((s) => [s, ingressOf(server, s)]));

    const api = await relayApi(server, opts.namespace, opts.lab.tag);
    cleanups.push(() => api.close());
    const cluster = await LabCluster.create({
      ...opts.lab,
      config: '',
      vips: [...new Set([...ingress.values()].flat())],
      kubernetes: { kubeconfig: api.kubeconfig, namespace: opts.namespace },
    });
    cleanups.push(() => cluster.destroy());
    await forwardApi(cluster, api);
    await cluster.startAll();
    const logs = () =>
      cluster.nodes.map((n) => `--- ${n.name}\n${readFileSync(n.logFile, 'utf8').slice(-3000)}`).join('\n');
    return { server, cluster, ingress, logs, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
