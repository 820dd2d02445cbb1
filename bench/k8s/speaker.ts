/**
 * The whole speaker in Kubernetes mode at N services: one real `herald speaker` (XDP generic on a veth in
 * a network namespace, gossip, metrics, status API) reading the in-process test API server through a
 * relay, with N LoadBalancer Services (addresses already in their status, as the controller writes them)
 * each with an EndpointSlice whose endpoint is on this node, so the speaker answers for every one.
 *
 *   node dist/bench/k8s/speaker.js [--services 5000] [--settle-s 10]
 *
 * Measures start → every VIP in the XDP answer map, then RSS (and peak) and the anonymous part of it after
 * --settle-s. Writes bench/results/k8s-speaker.{json,md}. Needs root (namespaces, XDP).
 */
import { openSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LabCluster } from '../../src/lab/cluster.js';
import { hasVipEntry, readDataplane } from '../../src/lab/observe.js';
import { sleep, waitFor } from '../../src/util/wait.js';
import { TestApiServer } from '../../test/k8s/apiserver/server.js';
import {
  HERALD_NS,
  installHerald,
  l2Advertisement,
  lbService,
  pool,
} from '../../test/k8s/helpers/cluster.js';
import { forwardApi, relayApi } from '../../test/k8s/helpers/netns-lab.js';
import { footprintVip } from '../footprint/scenario.js';
import { processSample, writeResults } from '../footprint/measure.js';

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    'settle-s': { type: 'string', default: '10' },
  },
});
const N = Number(args.services);
const settleMs = Number(args['settle-s']) * 1000;
const NODE = 'n1';

const loadAtStart = Number(loadavg()[0]!.toFixed(1));
const server = await TestApiServer.start({ historyLimit: 4 * N + 1000 });
installHerald(server);
server.createObject(pool('fp', ['10.90.0.0/18']));
server.createObject(l2Advertisement('fp', ['fp']));
server.createObject({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: {} }, spec: {} });
for (let i = 0; i < N; i++) {
  const name = `s${i}`;
  const ip = footprintVip(i);
  server.createObject(lbService(name, { annotations: { 'herald.dev/loadBalancerIPs': ip } }));
  server.patchObject(
    'v1',
    'Service',
    name,
    'default',
    { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } },
    'status',
  );
  server.createObject({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-x7k2p`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: [
      {
        addresses: [`10.244.0.${(i % 250) + 1}`],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: NODE,
        targetRef: { kind: 'Pod', name: `${name}-pod`, namespace: 'default', uid: `pod-${i}` },
      },
    ],
  });
}

const api = await relayApi(server, HERALD_NS, 'k8sfp');
const cluster = await LabCluster.create({
  tag: 'k8sfp',
  nodes: 1,
  clients: 0,
  config: '',
  vips: [],
  kubernetes: { kubeconfig: api.kubeconfig, namespace: HERALD_NS },
});
let result: Record<string, unknown>;
try {
  await forwardApi(cluster, api);
  const node = cluster.nodes[0]!;
  const started = performance.now();
  const child = cluster.lan.spawn(node.ns, process.execPath, cluster.speakerArgs(node), {
    stdio: ['ignore', 'ignore', openSync(node.logFile, 'a')],
  });
  node.speaker = child;
  const alive = () => {
    if (child.exitCode !== null) throw new Error(`speaker exited with ${child.exitCode}`);
    return true;
  };
  await waitFor(
    'every VIP programmed',
    240_000,
    () => alive() && hasVipEntry(node, footprintVip(N - 1)),
    50,
  ).catch((error: unknown) => {
    process.stderr.write(readFileSync(node.logFile, 'utf8').slice(-5000));
    throw error;
  });
  await waitFor('every VIP programmed', 240_000, () => readDataplane(node).vips.size >= N, 100);
  const startToProgrammedMs = Math.round(performance.now() - started);
  await sleep(settleMs);
  const sample = processSample(child.pid!);
  const rollup = readFileSync(`/proc/${child.pid!}/smaps_rollup`, 'utf8');
  const anonKb = Number(/^Anonymous:\s+(\d+)/m.exec(rollup)?.[1] ?? NaN);
  result = {
    date: new Date().toISOString(),
    load1: { start: loadAtStart, end: Number(loadavg()[0]!.toFixed(1)) },
    node: process.version,
    cpus: cpus().length,
    services: N,
    endpointSlices: N,
    startToProgrammedMs,
    rssMb: Math.round(sample.rssKb / 1024),
    peakRssMb: Math.round(sample.hwmKb / 1024),
    anonymousMb: Math.round(anonKb / 1024),
  };
} finally {
  await cluster.destroy();
  await api.close();
  await server.stop();
}

const r = result as { rssMb: number; peakRssMb: number; anonymousMb: number; startToProgrammedMs: number };
const md = `# The whole speaker in Kubernetes mode (bench/k8s/speaker.ts)

One \`herald speaker\` in Kubernetes mode (XDP generic on a veth in a namespace, alone in its gossip group),
${N} LoadBalancer Services with their addresses in status and an EndpointSlice each (the endpoint on this
node), in-process test API server; ${cpus().length} CPUs, Node ${process.version}.
Run ${String(result.date)}, 1-minute load ${loadAtStart} at the start, ${String((result.load1 as { end: number }).end)} at the end.
Rerun: \`node dist/bench/k8s/speaker.js --services ${N}\` (root).

| figure | measured | target |
|---|---|---|
| start → every VIP in the XDP answer map | ${r.startToProgrammedMs} ms | |
| RSS ${settleMs / 1000} s later / peak | ${r.rssMb} / ${r.peakRssMb} MB | ≤ 120 MB (issue 16) |
| of which anonymous (not the Node binary's pages) | ${r.anonymousMb} MB | |
`;
writeResults('k8s-speaker', result, md);
process.stdout.write(md);
process.exit(0);
