/**
 * Per-VIP traffic metrics end to end: real frames through a veth pair, counted by Herald's XDP program
 * (H2's responder, generic mode) in namespace `node`, read by this process through the pinned maps with
 * one batch dump per scrape, served on loopback, scraped by a real Prometheus started here, and queried
 * with PromQL. Layout (tag h7):   client (10.97.0.1) --veth-- node (10.97.0.2, XDP on eth0)
 * The client reaches the VIPs through static neighbor entries, so no ARP/NDP frame hits the counters and
 * the expected byte counts are exact: a paced UDP sender's 972-byte (IPv4) / 952-byte (IPv6) payloads
 * are 1000-byte IP packets = 1014-byte frames. The node does not own the VIPs, so nothing answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { XdpResponder } from '../../src/datapath/responder.js';
import { TrafficMonitor } from '../../src/metrics/monitor.js';
import { createHeraldMetrics } from '../../src/metrics/registry.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { nativeBuildDir, projectRoot } from '../../src/util/paths.js';
import { TestLan } from '../helpers/netns.js';
import { requirePrerequisites } from '../helpers/prereq.js';

requirePrerequisites({ root: true, commands: ['prometheus', 'nsenter', 'ip'] });
if (!existsSync(join(nativeBuildDir(), 'herald_xdp.bpf.o'))) {
  throw new Error('test prerequisite missing: herald_xdp.bpf.o not built (npx node-gyp build)');
}

const VIP4 = '10.97.0.100';
const VIP6 = 'fd00:97::100';
const FRAME = 1014; // Ethernet 14 + IP packet 1000
const COUNT4 = 1000; // at 200/s
const COUNT6 = 500; // at 100/s
const responderModule = fileURLToPath(new URL('../../src/datapath/responder.js', import.meta.url));

/** Runs in the node namespace: opens the pinned responder and attaches it (attachments outlive it). */
const attachAgent = `
const { XdpResponder } = await import(process.argv[1]);
const r = XdpResponder.open({ pinDir: process.argv[2] });
console.log(JSON.stringify({ mode: r.attach('eth0', 'generic') }));
r.close();
`;

/** Sends COUNT datagrams of SIZE bytes to IP:9 at a steady PPS (paced on the clock), prints { ms }. */
const pacedSender = `
const dgram = require('node:dgram');
const [ip, count, pps, size] = [process.argv[1], ...process.argv.slice(2).map(Number)];
const sock = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
const buf = Buffer.alloc(size);
const t0 = Date.now();
let sent = 0;
let done = 0;
const finish = () => sock.close(() => console.log(JSON.stringify({ sent, start: t0, ms: Date.now() - t0 })));
const tick = () => {
  const due = Math.min(count, Math.floor(((Date.now() - t0) / 1000) * pps) + 1);
  for (; sent < due; sent++) sock.send(buf, 9, ip, () => ++done === count && finish());
  if (sent < count) setTimeout(tick, 5);
};
tick();
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(base: string, query: string, time?: number): Promise<PromResult[]> {
  const params = new URLSearchParams({ query });
  if (time !== undefined) params.set('time', String(time));
  const res = await fetch(`${base}/api/v1/query?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`PromQL ${query}: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const scalar = (r: PromResult[]) => (r[0] ? Number(r[0].value[1]) : undefined);

t.test('XDP counters → /metrics → Prometheus → PromQL per-VIP rate', { timeout: 90_000 }, async (t) => {
  const lan = new TestLan('h7');
  const pinDir = `/sys/fs/bpf/hrl-h7-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'hrl-h7-prom-'));
  const held: { prometheus?: ChildProcess; responder?: XdpResponder } = {};
  const killPrometheus = () => held.prometheus?.kill('SIGKILL');
  process.once('exit', killPrometheus);
  t.teardown(async () => {
    killPrometheus();
    process.removeListener('exit', killPrometheus);
    held.responder?.close();
    await lan.destroy(); // removes the veths and with them the XDP attachment
    XdpResponder.cleanup(pinDir);
    rmSync(dir, { recursive: true, force: true });
  });

  const client = await lan.createNamespace('client');
  const node = await lan.createNamespace('node');
  await lan.link(
    { ns: client, ifname: 'eth0', addrs: ['10.97.0.1/24', 'fd00:97::1/64'] },
    { ns: node, ifname: 'eth0', addrs: ['10.97.0.2/24', 'fd00:97::2/64'] },
  );
  const mac = JSON.parse(await lan.ip(node, '-j', 'link', 'show', 'eth0'))[0].address as string;
  await lan.ip(client, 'neigh', 'replace', VIP4, 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent');
  await lan.ip(client, '-6', 'neigh', 'replace', VIP6, 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent');

  // This process owns the maps (pinned); the agent in the node namespace attaches the program.
  const responder = XdpResponder.open({ pinDir });
  held.responder = responder;
  const macBuf = Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
  responder.setVip(VIP4, { action: 'answer', mac: macBuf });
  responder.setVip(VIP6, { action: 'answer', mac: macBuf });
  const agent = await lan.exec(node, 'node', [
    '--input-type=module',
    '-e',
    attachAgent,
    responderModule,
    pinDir,
  ]);
  t.same(JSON.parse(agent.stdout), { mode: 'generic' }, 'XDP attached in the node namespace');

  const metrics = createHeraldMetrics();
  const monitor = new TrafficMonitor(() => responder.counters(), { windowMs: 3000 });
  monitor.start(250);
  t.teardown(() => monitor.stop());
  metrics.attachTraffic(monitor);
  metrics.setLinkCapacity('eth0', 10e6); // override: a veth has no speed
  const server = await startMetricsServer(metrics, { address: '127.0.0.1:0' });
  t.teardown(() => server.close());

  const promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\n` +
      `rule_files: ['${join(projectRoot(), 'charts', 'herald', 'files', 'alerts.yaml')}']\n` +
      `scrape_configs:\n  - job_name: herald\n    static_configs: [{ targets: ['127.0.0.1:${server.port}'] }]\n`,
  );
  const promLog: string[] = [];
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  held.prometheus = prometheus;
  prometheus.stderr?.on('data', (d: Buffer) => promLog.push(d.toString()));
  const base = `http://127.0.0.1:${promPort}`;
  await waitFor('Prometheus to scrape the speaker', 20_000, async () =>
    scalar(await promQuery(base, 'up{job="herald"}')) === 1 ? true : undefined,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${promLog.join('')}`);
  });

  // Bounded, paced traffic: 1000 IPv4 datagrams at 200/s and 500 IPv6 ones at 100/s, in parallel (5 s).
  const send = async (ip: string, count: number, pps: number, size: number) => {
    const r = await lan.exec(
      client,
      'node',
      ['-e', pacedSender, ip, String(count), String(pps), String(size)],
      30_000,
    );
    return JSON.parse(r.stdout) as { sent: number; start: number; ms: number };
  };
  const [s4, s6] = await Promise.all([send(VIP4, COUNT4, 200, 972), send(VIP6, COUNT6, 100, 952)]);
  t.equal(s4.sent, COUNT4, `IPv4 datagrams sent in ${s4.ms} ms`);
  t.equal(s6.sent, COUNT6, `IPv6 datagrams sent in ${s6.ms} ms`);
  const seconds4 = s4.ms / 1000;
  // Evaluate when the rate window (3 s, plus up to 1 s scrape lag) lies inside the 5 s of traffic.
  const midTime = (s4.start + 4800) / 1000;

  // Exact totals once Prometheus has scraped the final counters.
  const total4 = await waitFor('final IPv4 byte count in Prometheus', 10_000, async () => {
    const v = scalar(await promQuery(base, `herald_vip_rx_bytes_total{ip="${VIP4}"}`));
    return v === COUNT4 * FRAME ? v : undefined;
  });
  t.equal(total4, COUNT4 * FRAME, 'IPv4 VIP bytes counted by XDP, as scraped');
  t.equal(scalar(await promQuery(base, `herald_vip_rx_packets_total{ip="${VIP4}"}`)), COUNT4);
  const total6 = await waitFor('final IPv6 byte count', 10_000, async () => {
    const v = scalar(await promQuery(base, `herald_vip_rx_bytes_total{ip="${VIP6}"}`));
    return v === COUNT6 * FRAME ? v : undefined;
  });
  t.equal(total6, COUNT6 * FRAME, 'IPv6 VIP bytes');

  // The rate while traffic flowed, as Prometheus stored it, against what was sent.
  const expected4 = (COUNT4 * FRAME * 8) / seconds4;
  const bytesRate = scalar(await promQuery(base, `herald_vip_rx_bytes_per_second{ip="${VIP4}"}`, midTime));
  const gauge = bytesRate === undefined ? undefined : bytesRate * 8;
  const promRate = scalar(
    await promQuery(base, `rate(herald_vip_rx_bytes_total{ip="${VIP4}"}[3s]) * 8`, midTime),
  );
  t.ok(
    gauge !== undefined && Math.abs(gauge - expected4) / expected4 < 0.1,
    `herald rate ${gauge} b/s ≈ sent ${expected4.toFixed(0)} b/s`,
  );
  t.ok(
    promRate !== undefined && Math.abs(promRate - expected4) / expected4 < 0.1,
    `PromQL rate ${promRate} b/s ≈ sent`,
  );
  const util = scalar(await promQuery(base, 'herald_node_lb_utilization_ratio', midTime));
  const expectedUtil = (expected4 + (COUNT6 * FRAME * 8) / (s6.ms / 1000)) / 10e6;
  t.ok(
    util !== undefined && Math.abs(util - expectedUtil) / expectedUtil < 0.1,
    `utilization ${util} ≈ (IPv4 + IPv6 ingress) / 10 Mb/s override = ${expectedUtil.toFixed(3)}`,
  );

  // Every dashboard query parses and evaluates against real Herald series.
  const dashboard = JSON.parse(
    readFileSync(join(projectRoot(), 'charts', 'herald', 'files', 'dashboard.json'), 'utf8'),
  ) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const expr = target.expr.replace(/\$instance/g, '.*').replace(/\$__rate_interval/g, '1m');
      await t.resolves(promQuery(base, expr), `dashboard "${panel.title}": ${target.expr}`);
    }
  }
  const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as { data: { groups: unknown[] } };
  t.equal(rules.data.groups.length, 2, 'Prometheus loaded the alert rule groups');
});
