/**
 * ARP/NDP responder benchmark (numbers, not tests). Needs root.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/arp/run.js [--skip-live] [--flood-ms 2000]
 *     [--skip-capacity] [--capacity-rates 50000,200000] [--capacity-rounds 5] [--capacity-window 5]
 *
 * Part 1, BPF_PROG_TEST_RUN: ns per packet of the real program for a baseline XDP_PASS program, an
 * IPv4 frame to a non-VIP, an IPv4 frame to a VIP (counted), an ARP request answered and an NS
 * answered (reply paths rewrite the frame, so they are timed one run per call and the median taken).
 * Part 2, live on a veth pair between two namespaces: the XDP responder (native, generic), the
 * kernel's own ARP (VIP on lo) and a userspace AF_PACKET responder (bench/arp/arptool.go `respond`, the
 * MetalLB model). For each: reply latency p50/p99 idle and while flooded, and replies/s under a flood
 * from a Go AF_PACKET generator (arptool `flood`, on the other CPU).
 * Part 3, CPU nanoseconds per answered request at fixed offered rates (capacity.ts).
 * Writes bench/results/arp.json and bench/results/arp.md.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { release } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BpfObject } from '../../src/datapath/bpf.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { PASS_PROGRAM_NAME } from '../../src/datapath/xdp-layout.js';
import { nativeBuildDir, projectRoot } from '../../src/util/paths.js';
import { TestLan } from '../../test/helpers/netns.js';
import { arpFrame, ipv4Frame, nsFrame, VIP_MAC } from '../../test/bpf/xdp-frames.js';
import { median } from '../stats.js';
import { type CapacityResult, capacityMarkdown, capacityPart } from './capacity.js';
import { namespacePrefix } from '../../src/lab/netns.js';

const { values: args } = parseArgs({
  options: {
    'skip-live': { type: 'boolean', default: false },
    'flood-ms': { type: 'string', default: '2000' },
    'skip-capacity': { type: 'boolean', default: false },
    'capacity-rates': { type: 'string', default: '50000,200000' },
    'capacity-rounds': { type: 'string', default: '5' },
    'capacity-window': { type: 'string', default: '5' },
  },
});
const FLOOD_MS = Number(args['flood-ms']);
const CAPACITY = {
  rates: args['capacity-rates'].split(',').map(Number),
  rounds: Number(args['capacity-rounds']),
  warmS: 1,
  windowS: Number(args['capacity-window']),
};

interface TestRunRow {
  case: string;
  nsPerPacket: number;
  method: string;
}

function testRunPart(): TestRunRow[] {
  const pinDir = `/sys/fs/bpf/${namespacePrefix()}h2bench-${process.pid}`;
  XdpResponder.cleanup(pinDir);
  const r = XdpResponder.open({ pinDir });
  const base = BpfObject.load(join(nativeBuildDir(), 'herald_xdp.bpf.o'));
  try {
    r.setVip('10.0.0.5', { action: 'answer', mac: VIP_MAC });
    r.setVip('2001:db8::5', { action: 'answer', mac: VIP_MAC });
    // A realistic table: many VIPs, so lookups hit a populated hash.
    for (let i = 0; i < 1000; i++)
      r.setVip(`10.200.${i >> 8}.${i & 255}`, { action: 'answer', mac: VIP_MAC });
    r.setLivenessBoundMs(600_000);
    r.heartbeat();
    const pass = base.program(PASS_PROGRAM_NAME);
    const nonVip = ipv4Frame({ src: '10.0.0.9', dst: '10.9.9.9', payload: 64 });
    const vip = ipv4Frame({ src: '10.0.0.9', dst: '10.0.0.5', payload: 64 });
    const arp = arpFrame({ spa: '10.0.0.9', tpa: '10.0.0.5', padTo: 60 });
    const ns = nsFrame({ src: '2001:db8::9', target: '2001:db8::5' });
    const REPEAT = 2_000_000;
    const SINGLE = 20_000;
    const repeated = (prog: typeof pass, f: Buffer) => prog.testRun(f, { repeat: REPEAT }).durationNs;
    const single = (prog: typeof pass, f: Buffer) => {
      const xs: number[] = [];
      for (let i = 0; i < SINGLE; i++) xs.push(prog.testRun(Buffer.from(f)).durationNs);
      return median(xs);
    };
    const rows: TestRunRow[] = [];
    const mean = `mean of ${REPEAT} repeats`;
    const med = `median of ${SINGLE} single runs`;
    rows.push({ case: 'baseline XDP_PASS (herald_pass)', nsPerPacket: repeated(pass, nonVip), method: mean });
    rows.push({ case: 'IPv4 to a non-VIP', nsPerPacket: repeated(r.program, nonVip), method: mean });
    rows.push({ case: 'IPv4 to a VIP (counted)', nsPerPacket: repeated(r.program, vip), method: mean });
    rows.push({ case: 'baseline XDP_PASS (herald_pass)', nsPerPacket: single(pass, nonVip), method: med });
    rows.push({ case: 'IPv4 to a VIP (counted)', nsPerPacket: single(r.program, vip), method: med });
    rows.push({ case: 'ARP request answered (XDP_TX)', nsPerPacket: single(r.program, arp), method: med });
    rows.push({ case: 'NS answered (XDP_TX)', nsPerPacket: single(r.program, ns), method: med });
    return rows;
  } finally {
    base.close();
    r.close();
    XdpResponder.cleanup(pinDir);
  }
}

interface LatencyResult {
  sent: number;
  received: number;
  lost: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}
interface FloodResult {
  sent: number;
  received: number;
  seconds: number;
  sentPerSec: number;
  repliesPerSec: number;
  lossRatio: number;
}
interface LiveRow {
  responder: string;
  idle: LatencyResult;
  underFlood: LatencyResult;
  flood: FloodResult;
  /** XDP modes: requests seen and replies sent by the program over the whole run (its own counters). */
  xdpCounted?: { arpRequests: number; replies: number; requestsSent: number };
}

function buildArptool(dir: string): string {
  const out = join(dir, 'arptool');
  execFileSync('go', ['build', '-o', out, join(projectRoot(), 'bench', 'arp', 'arptool.go')], {
    env: { ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOCACHE: join(dir, 'gocache'), GOPATH: dir },
    stdio: 'inherit',
  });
  return out;
}

const VIP = '10.88.0.100';
type Kind = 'xdp-native' | 'xdp-generic' | 'kernel' | 'userspace';

async function livePart(arptool: string): Promise<LiveRow[]> {
  const agent = join(projectRoot(), 'dist', 'test', 'netns', 'datapath-agent.js');
  const rows: LiveRow[] = [];
  for (const kind of ['xdp-native', 'xdp-generic', 'kernel', 'userspace'] as Kind[]) {
    const lan = new TestLan('h2bn');
    const pinDir = `/sys/fs/bpf/${namespacePrefix()}h2bn-${process.pid}`;
    let responderProc: ChildProcess | undefined;
    let r: XdpResponder | undefined;
    try {
      const c = await lan.createNamespace('c');
      const s = await lan.createNamespace('r');
      await lan.link(
        { ns: c, ifname: 'c0', addrs: ['10.88.0.1/24'] },
        { ns: s, ifname: 'r0', addrs: ['10.88.0.2/24'] },
      );
      if (kind.startsWith('xdp')) {
        XdpResponder.cleanup(pinDir);
        r = XdpResponder.open({ pinDir });
        r.setVip(VIP, { action: 'answer', mac: VIP_MAC });
        r.setLivenessBoundMs(600_000);
        r.heartbeat();
        if (kind === 'xdp-native') await lan.exec(c, process.execPath, [agent, 'pass', 'c0']);
        await lan.exec(s, process.execPath, [
          agent,
          'attach',
          pinDir,
          'r0',
          kind === 'xdp-native' ? 'native' : 'generic',
        ]);
      } else if (kind === 'kernel') {
        await lan.ip(s, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
      } else {
        responderProc = lan.spawn(s, 'taskset', [
          '-c',
          '1',
          arptool,
          'respond',
          '-i',
          'r0',
          '-vip',
          VIP,
          '-mac',
          '02:00:00:00:00:aa',
        ]);
        await new Promise((res) => setTimeout(res, 300));
      }
      const tool = async (...a: string[]) =>
        JSON.parse((await lan.exec(c, 'taskset', ['-c', '0', arptool, ...a], 60_000)).stdout) as unknown;
      const idle = (await tool('latency', '-i', 'c0', '-target', VIP, '-n', '2000')) as LatencyResult;
      const [flood, underFlood] = await Promise.all([
        tool(
          'flood',
          '-i',
          'c0',
          '-target',
          VIP,
          '-spa',
          '10.88.0.77',
          '-ms',
          String(FLOOD_MS),
        ) as Promise<FloodResult>,
        (async () => {
          await new Promise((res) => setTimeout(res, 200));
          return (await tool('latency', '-i', 'c0', '-target', VIP, '-n', '500')) as LatencyResult;
        })(),
      ]);
      const row: LiveRow = { responder: kind, idle, underFlood, flood };
      const counted = r?.counters().get(VIP);
      if (counted)
        row.xdpCounted = {
          arpRequests: Number(counted.arpRequests),
          replies: Number(counted.replies),
          requestsSent: idle.sent + underFlood.sent + flood.sent,
        };
      rows.push(row);
      console.log(kind, JSON.stringify({ idle, underFlood, flood }));
    } finally {
      responderProc?.kill('SIGKILL');
      r?.close();
      await lan.destroy();
      XdpResponder.cleanup(pinDir);
    }
  }
  return rows;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/arp needs root (BPF, namespaces)');
  const started = new Date().toISOString();
  const load = loadavg()[0] ?? 0;
  const testRun = testRunPart();
  for (const row of testRun) console.log(`${row.case}: ${fmt(row.nsPerPacket)} ns (${row.method})`);
  let live: LiveRow[] = [];
  let capacity: CapacityResult | undefined;
  if (!args['skip-live'] || !args['skip-capacity']) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-arpbench-'));
    try {
      const arptool = buildArptool(dir);
      if (!args['skip-live']) live = await livePart(arptool);
      if (!args['skip-capacity']) {
        const sinkObject = join(dir, 'sink.bpf.o');
        execFileSync('bash', [
          join(projectRoot(), 'scripts', 'build-bpf.sh'),
          join(projectRoot(), 'bench', 'arp', 'sink.bpf.c'),
          sinkObject,
        ]);
        capacity = await capacityPart({ arptool, sinkObject, ...CAPACITY });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const loadEnd = loadavg()[0] ?? 0;
  const env = {
    node: process.version,
    cpu: cpus()[0]?.model ?? '?',
    cpus: cpus().length,
    kernel: release(),
    loadavg1: load,
    loadavg1End: loadEnd,
    started,
    finished: new Date().toISOString(),
    command: `node dist/bench/arp/run.js ${process.argv.slice(2).join(' ')}`.trim(),
  };
  const results = join(projectRoot(), 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'arp.json'),
    JSON.stringify({ env, floodMs: FLOOD_MS, testRun, live, capacity }, null, 2) + '\n',
  );
  const md: string[] = [
    '# ARP/NDP responder benchmark',
    '',
    `${env.cpus} × ${env.cpu}, kernel ${env.kernel}, Node ${env.node}, ${started}, 1-minute load average ` +
      `${fmt(load)} at start, ${fmt(loadEnd)} at end (the machine is shared: treat absolute values as rough).`,
    `Rerun: \`npx tsc -p tsconfig.json && ${env.command}\` as root (\`--skip-live --skip-capacity\` for part 1 only).`,
    '',
    '## Per-packet cost of the XDP program (BPF_PROG_TEST_RUN)',
    '',
    '| case | ns/packet | method |',
    '| --- | --- | --- |',
    ...testRun.map((r) => `| ${r.case} | ${fmt(r.nsPerPacket)} | ${r.method} |`),
    '',
    'Reply paths rewrite the frame in place, and `repeat` would re-run on the reply, so they are timed one',
    'run per call; single-run medians include the kernel timer overhead, so compare them with the',
    'single-run baseline, and the repeated means with the repeated baseline.',
  ];
  if (live.length > 0) {
    md.push(
      '',
      `## Live, veth between two namespaces (Go AF_PACKET client pinned to CPU 0; ${FLOOD_MS} ms flood)`,
      '',
      '| responder | p50 idle µs | p99 idle µs | p50 flooded µs | p99 flooded µs | requests/s sent | replies/s | loss |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...live.map(
        (l) =>
          `| ${l.responder} | ${fmt(l.idle.p50Us)} | ${fmt(l.idle.p99Us)} | ${fmt(l.underFlood.p50Us)} | ` +
          `${fmt(l.underFlood.p99Us)} | ${fmt(l.flood.sentPerSec, 0)} | ${fmt(l.flood.repliesPerSec, 0)} | ` +
          `${fmt(l.flood.lossRatio * 100)} % |`,
      ),
      '',
      'Latency is measured by the client from send to receipt of the reply (includes the client stack,',
      'the same for every responder). The flood generator is a single Go goroutine doing one sendto per',
      'frame on a shared 2-vCPU machine: with the in-kernel responders it, not the responder, is the',
      'limit, so their replies/s are a lower bound. On veth the in-kernel responders (kernel ARP, XDP',
      "generic and native) run in the softirq of the sending CPU, i.e. on the generator's CPU 0, while",
      'the userspace responder has CPU 1 to itself: their replies/s measure one CPU doing both generator',
      "and responder, so this table cannot show the responders' capacity ratio (part 1 does: ns/packet).",
      '',
      ...live
        .filter((l) => l.xdpCounted)
        .map(
          (l) =>
            `- ${l.responder}: the program counted ${l.xdpCounted?.arpRequests} requests and sent ` +
            `${l.xdpCounted?.replies} replies for ${l.xdpCounted?.requestsSent} requests sent by the client ` +
            "(loss above that is on the client's receive side).",
        ),
    );
  }
  if (capacity) md.push('', ...capacityMarkdown(capacity, CAPACITY));
  writeFileSync(join(results, 'arp.md'), md.join('\n') + '\n');
  console.log(`wrote ${join(results, 'arp.json')} and arp.md`);
}

await main();
