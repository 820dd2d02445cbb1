/**
 * Cluster concentration over real gossip: three in-process Memberlist nodes (H4's SWIM implementation)
 * on loopback exchange their rate reports as user broadcasts; every node's metrics then report the same
 * concentration and busiest node.
 */
import t from 'tap';
import { Memberlist } from '../../../src/membership/memberlist.js';
import {
  ClusterRateView,
  isRateReport,
  RATE_REPORT_GOSSIP_KEY,
  RateReportPublisher,
} from '../../../src/metrics/gossip.js';
import { TrafficMonitor } from '../../../src/metrics/monitor.js';
import { createHeraldMetrics } from '../../../src/metrics/registry.js';
import { trafficOnly } from '../../../src/metrics/traffic.js';

const KEY = Buffer.alloc(32, 0xab);

t.test('concentration from gossiped rate reports', { timeout: 60_000 }, async (t) => {
  // Ingress per node, bytes/s: a 75 MB/s, b 25 MB/s, c 12.5 MB/s → 600, 200, 100 Mb/s; mean 300 → ratio 2.
  const bytesPerSecond: Record<string, number> = { a: 75e6, b: 25e6, c: 12.5e6 };
  const nodes: Array<{
    name: string;
    ml: Memberlist;
    view: ClusterRateView;
    metrics: ReturnType<typeof createHeraldMetrics>;
    monitor: TrafficMonitor;
  }> = [];
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.ml.shutdown()));
  });
  let clock = 0;
  for (const name of ['a', 'b', 'c']) {
    const seed = nodes[0] ? [`127.0.0.1:${nodes[0].ml.localMember().port}`] : [];
    const ml = await Memberlist.create({
      name,
      profile: 'local',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      keys: [KEY],
      seeds: seed,
    });
    const view = new ClusterRateView();
    ml.on('message', ({ payload }: { payload: Buffer }) => {
      if (isRateReport(payload)) view.ingest(payload, performance.now());
    });
    const metrics = createHeraldMetrics();
    const monitor = new TrafficMonitor(
      () =>
        new Map([
          [`10.0.0.${name.charCodeAt(0)}`, trafficOnly(0n, BigInt((bytesPerSecond[name]! * clock) / 1000))],
        ]),
      { windowMs: 2000, now: () => clock },
    );
    metrics.attachTraffic(monitor);
    metrics.attachCluster({
      view,
      localNode: name,
      members: () =>
        ml
          .members()
          .filter((m) => m.state === 'alive')
          .map((m) => m.name),
    });
    nodes.push({ name, ml, view, metrics, monitor });
    monitor.sample();
  }
  clock = 1000;
  for (const n of nodes) {
    const publisher = new RateReportPublisher(n.name, { windowMs: 2000 });
    await n.metrics.render(); // samples the monitor at clock 1000: rates known
    const buf = publisher.next(0, n.monitor.rates(), 0)!;
    t.ok(buf.length <= 1024, `${n.name}'s report is ${buf.length} bytes`);
    n.ml.broadcast(buf, { key: RATE_REPORT_GOSSIP_KEY });
  }
  const deadline = Date.now() + 30_000;
  const settled = (n: (typeof nodes)[number]) =>
    n.view.nodeRates().length === 2 && n.ml.members().filter((m) => m.state === 'alive').length === 3;
  while (!nodes.every(settled) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const n of nodes) {
    t.equal(n.view.nodeRates().length, 2, `${n.name} heard both others`);
    const traffic = n.metrics.nodeTraffic();
    t.equal(traffic.busiestNode, 'a', `${n.name} sees a as busiest`);
    t.ok(
      Math.abs(traffic.clusterConcentration - 2) < 1e-9,
      `${n.name}: concentration ${traffic.clusterConcentration}`,
    );
    t.match(await n.metrics.render(), /^herald_cluster_node_rx_bytes_per_second\{node="c"\} 12500000$/m);
  }
});
