import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import t from 'tap';
import { requirePrerequisites } from '../../helpers/prereq.js';
import { selfSignedCert } from './tls-fixture.js';
import { ClusterRateView, encodeRateReport } from '../../../src/metrics/gossip.js';
import { escapeLabelValue, formatValue } from '../../../src/metrics/exposition.js';
import { TrafficMonitor } from '../../../src/metrics/monitor.js';
import { createHeraldMetrics } from '../../../src/metrics/registry.js';
import { startMetricsServer } from '../../../src/metrics/server.js';
import type { TrafficCounters } from '../../../src/metrics/traffic.js';

requirePrerequisites({ commands: ['promtool'] });
requirePrerequisites({ commands: ['openssl'] });

/**
 * promtool's lint findings that follow from names fixed in DESIGN.md (MetalLB compatibility: gauges named
 * *_total) and from prom-client's own process metrics. Anything else fails the test (rates are in bytes).
 */
const ACCEPTED_LINT = new Set([
  'herald_allocator_addresses_in_use_total non-counter metrics should not have "_total" suffix',
  'herald_allocator_addresses_total non-counter metrics should not have "_total" suffix',
  'herald_bgp_announced_prefixes_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
]);

async function promtoolCheck(text: string): Promise<{ code: number; findings: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, findings: out.split('\n').filter(Boolean) }));
    child.stdin.end(text);
  });
}

function sampleMetrics() {
  let bytes = 0n;
  const counters = (): Map<string, TrafficCounters> => {
    bytes += 1500n;
    return new Map([
      [
        '10.0.0.1',
        { rxPackets: bytes / 1500n, rxBytes: bytes, arpRequests: 3n, ndpRequests: 0n, replies: 2n },
      ],
      ['2001:db8::1', { rxPackets: 1n, rxBytes: 90n, arpRequests: 0n, ndpRequests: 4n, replies: 4n }],
    ]);
  };
  let now = 0;
  const metrics = createHeraldMetrics();
  const monitor = new TrafficMonitor(counters, { windowMs: 10_000, now: () => (now += 1000) });
  metrics.attachTraffic(monitor);
  metrics.setLinkCapacity('eth0', 1e6);
  const view = new ClusterRateView();
  view.ingest(
    encodeRateReport({
      node: 'b',
      seq: 1,
      epochUnixMs: 1,
      atUnixMs: 1,
      windowMs: 10_000,
      totalBitsPerSecond: 0,
      totalPacketsPerSecond: 0,
      capacityBits: 0,
      vips: [],
      omittedVips: 0,
    }),
    0,
  );
  metrics.attachCluster({ view, localNode: 'a', now: () => 1000 });
  metrics.gratuitousSent('10.0.0.1', 3);
  metrics.setAnnounced([{ service: 'web/"quoted"', protocol: 'layer2', node: 'a', ip: '10.0.0.1' }]);
  metrics.setMembers([{ state: 'alive' }, { state: 'alive' }, { state: 'suspect' }]);
  metrics.bgpSessionUp.set({ peer: '10.250.0.1' }, 1);
  metrics.bfdSessionUp.set({ peer: '10.250.0.1' }, 0);
  metrics.bgpUpdatesTotal.inc({ peer: '10.250.0.1' }, 2);
  metrics.bgpAnnouncedPrefixes.set({ peer: '10.250.0.1' }, 2);
  metrics.allocatorAddressesTotal.set({ pool: 'default' }, 256);
  metrics.allocatorAddressesInUse.set({ pool: 'default' }, 2);
  metrics.failoverSeconds.observe(0.42);
  metrics.attachFlows(
    () => [
      {
        ip: '10.0.0.230',
        role: 'owner',
        targets: [
          { node: 'a', local: true, slots: 2000, packets: 10n, bytes: 1500n },
          { node: 'b', local: false, slots: 2096, packets: 12n, bytes: 1800n },
        ],
        steeredIn: { packets: 0n, bytes: 0n },
      },
      {
        ip: '10.0.0.231',
        role: 'member',
        targets: [{ node: 'c', local: false, slots: 4096, packets: 0n, bytes: 0n }],
        steeredIn: { packets: 7n, bytes: 700n },
      },
    ],
    () => ({
      not_owner: { packets: 3n, bytes: 300n },
      gate_closed: { packets: 4n, bytes: 400n },
      loop_guard: { packets: 5n, bytes: 500n },
    }),
  );
  return metrics;
}

t.test('every DESIGN.md metric is exported with the right values', async (t) => {
  const metrics = sampleMetrics();
  await metrics.render();
  const text = await metrics.render();
  const has = (line: string) => t.ok(text.split('\n').includes(line), line);
  has('herald_vip_rx_packets_total{ip="10.0.0.1"} 2');
  has('herald_vip_rx_bytes_total{ip="10.0.0.1"} 3000');
  has('herald_vip_rx_bytes_per_second{ip="10.0.0.1"} 1500');
  has('herald_vip_rx_bytes_per_second{ip="2001:db8::1"} 0');
  has('herald_layer2_requests_received_total{ip="2001:db8::1"} 4');
  has('herald_layer2_responses_sent_total{ip="10.0.0.1"} 2');
  has('herald_layer2_gratuitous_sent_total{ip="10.0.0.1"} 3');
  has('herald_announced{service="web/\\"quoted\\"",protocol="layer2",node="a",ip="10.0.0.1"} 1');
  has('herald_node_link_speed_bytes{interface="eth0"} 125000');
  has('herald_node_lb_utilization_ratio 0.012');
  has('herald_cluster_lb_concentration_ratio 2');
  has('herald_cluster_busiest_node{node="a"} 1');
  has('herald_members{state="alive"} 2');
  has('herald_members{state="dead"} 0');
  has('herald_bgp_session_up{peer="10.250.0.1"} 1');
  has('herald_bfd_session_up{peer="10.250.0.1"} 0');
  has('herald_bgp_updates_total{peer="10.250.0.1"} 2');
  has('herald_bgp_announced_prefixes_total{peer="10.250.0.1"} 2');
  has('herald_allocator_addresses_total{pool="default"} 256');
  has('herald_allocator_addresses_in_use_total{pool="default"} 2');
  has('herald_failover_seconds_count 1');
  has('herald_flow_slots{ip="10.0.0.230",node="b"} 2096');
  has('herald_flow_steered_packets_total{ip="10.0.0.230",node="a"} 10');
  has('herald_flow_steered_bytes_total{ip="10.0.0.230",node="b"} 1800');
  has('herald_flow_steered_in_packets_total{ip="10.0.0.231"} 7');
  has('herald_flow_steered_in_bytes_total{ip="10.0.0.230"} 0');
  t.notMatch(text, /herald_flow_slots\{ip="10.0.0.231"/, 'a member exports no per-target series');
  has('herald_flow_dropped_packets_total{reason="not_owner"} 3');
  has('herald_flow_dropped_bytes_total{reason="gate_closed"} 400');
  has('herald_flow_loop_guard_packets_total 5');
  has('herald_flow_loop_guard_bytes_total 500');
  t.match(text, /^process_cpu_seconds_total \d/m, 'process metrics');
  t.same(metrics.vipTraffic('10.0.0.1'), {
    rxBitsPerSecond: 12000,
    rxPacketsPerSecond: 1,
    utilization: 0.012,
  });
  t.same(metrics.vipTraffic('192.0.2.99'), { rxBitsPerSecond: 0, rxPacketsPerSecond: 0, utilization: 0 });
  t.same(metrics.nodeTraffic(), { nodeUtilization: 0.012, clusterConcentration: 2, busiestNode: 'a' });
  const probed = await metrics.probeLinks(['eth1', 'lo'], { overrides: { eth1: 25e9 } });
  t.same(probed.get('eth1'), { bits: 25e9, source: 'override' });
  t.equal(probed.get('lo'), undefined);
  const rendered = await metrics.render();
  t.match(rendered, /^herald_node_link_speed_bytes\{interface="eth1"\} 3125000000$/m);
  t.notMatch(
    rendered,
    /herald_node_link_speed_bytes\{interface="eth0"/,
    'an interface gone loses its series',
  );
  metrics.setLinkCapacity('eth1', undefined);
  metrics.setLinkCapacity('eth0', undefined);
  t.notMatch(
    await metrics.render(),
    /^herald_node_lb_utilization_ratio /m,
    'no utilization without capacity',
  );
});

t.test('promtool check metrics accepts the exposition', async (t) => {
  const { code, findings } = await promtoolCheck(await sampleMetrics().render());
  t.ok(code === 0 || code === 3, `promtool exit ${code} (3 = lint findings only)`);
  t.same(
    findings.filter((f) => !ACCEPTED_LINT.has(f)),
    [],
    'no findings beyond the accepted, name-mandated ones',
  );
  const broken = await promtoolCheck(
    '# TYPE herald_vip_rx_bytes_total counter\nherald_vip_rx_bytes_total{ip="x"} nope\n',
  );
  t.equal(broken.code, 1, 'promtool does reject broken output (the check can fail)');
});

t.test('a failing counter read is counted and the last good values are served', async (t) => {
  let fail = false;
  const metrics = createHeraldMetrics();
  metrics.attachTraffic(
    new TrafficMonitor(() => {
      if (fail) throw new Error('EPERM');
      return new Map([
        ['10.0.0.9', { rxPackets: 1n, rxBytes: 64n, arpRequests: 0n, ndpRequests: 0n, replies: 0n }],
      ]);
    }),
  );
  t.match(await metrics.render(), /^herald_vip_counters_read_errors_total 0$/m);
  fail = true;
  const text = await metrics.render();
  t.match(text, /^herald_vip_counters_read_errors_total 1$/m);
  t.match(text, /^herald_vip_rx_bytes_total\{ip="10\.0\.0\.9"\} 64$/m);
});

t.test('text format helpers', async (t) => {
  t.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  t.equal(formatValue(NaN), 'NaN');
  t.equal(formatValue(Infinity), '+Inf');
  t.equal(formatValue(-Infinity), '-Inf');
});

t.test('HTTP server: /metrics, /healthz, 404, 500 on a failing render, loopback by default', async (t) => {
  let fail = false;
  const server = await startMetricsServer(
    {
      render: async () => {
        if (fail) throw new Error('boom');
        return 'herald_up 1\n';
      },
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
    },
    { address: '127.0.0.1:0' },
  );
  t.teardown(() => server.close());
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(server.url);
  t.equal(res.status, 200);
  t.equal(await res.text(), 'herald_up 1\n');
  t.equal((await fetch(server.url.replace('/metrics', '/healthz'))).status, 200);
  t.equal((await fetch(server.url.replace('/metrics', '/nope'))).status, 404);
  fail = true;
  const bad = await fetch(server.url);
  t.equal(bad.status, 500);
  t.match(await bad.text(), /boom/);
  await t.rejects(
    startMetricsServer(sampleMetrics(), { address: `127.0.0.1:${server.port}` }),
    /cannot listen/,
  );
});

t.test('/readyz: 200 when ready, 503 with the reason when not', async (t) => {
  let state = { ready: false, detail: 'the XDP program is not attached' };
  const server = await startMetricsServer(sampleMetrics(), {
    address: '127.0.0.1:0',
    readiness: () => state,
  });
  t.teardown(() => server.close());
  const readyz = server.url.replace('/metrics', '/readyz');
  const notReady = await fetch(readyz);
  t.equal(notReady.status, 503);
  t.equal(await notReady.text(), 'the XDP program is not attached\n');
  state = { ready: true, detail: 'ready: XDP on eth0 (native)' };
  const ready = await fetch(readyz);
  t.equal(ready.status, 200);
  t.match(await ready.text(), /eth0/);
});

t.test('HTTPS with a certificate', async (t) => {
  const { certFile, keyFile, remove } = selfSignedCert();
  t.teardown(remove);
  const server = await startMetricsServer(sampleMetrics(), {
    address: '127.0.0.1:0',
    tls: { certFile, keyFile },
  });
  t.teardown(() => server.close());
  t.match(server.url, /^https:/);
  const get = (ca?: Buffer) =>
    new Promise<string>((resolve, reject) => {
      httpsGet(server.url, { ca }, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve(data));
      }).on('error', reject);
    });
  t.match(await get(readFileSync(certFile)), /herald_vip_rx_bytes_total\{ip="10.0.0.1"\}/);
  await t.rejects(get(), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'a client without the CA refuses it');
});
