/**
 * bench/arp part 3: CPU nanoseconds per answered ARP request at fixed offered rates, for the XDP
 * responder (native, generic), the kernel's own ARP and the userspace AF_PACKET responder.
 *
 * One veth pair capc0 (client) – capr0 (responder). The client's flood (arptool flood -rate R -noread,
 * CPU 0) sends R requests/s and never reads a reply: an XDP sink on capc0 (sink.bpf.c) counts the
 * replies and drops them. Both veths run their receive path in NAPI (GRO on, TSO off: every frame takes
 * veth's NAPI path, as on a real NIC) and their NAPI pollers are threaded (`/sys/class/net/X/threaded`):
 * everything the responder side does for a request (XDP native or generic, the kernel's ARP, the
 * packet tap feeding the userspace responder, and sending the reply into the client's veth) runs in
 * the kernel thread napi/capr0-N, plus, for userspace, in the responder process. Their exact run time
 * (schedstat, ns) over a window, divided by the replies the client received, is the CPU per reply; the
 * generator's own cost and other work on the shared machine are not in it. The floor (sink on capr0:
 * receive and drop, nobody answers) is measured in the same rounds. Rounds repeat the configurations
 * interleaved, so slow drifts of the shared machine hit them all; the spread over rounds is the error bar.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BpfMap } from '../../src/datapath/bpf.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { namespacePrefix } from '../../src/lab/netns.js';
import { projectRoot } from '../../src/util/paths.js';
import { TestLan } from '../../test/helpers/netns.js';
import { VIP_MAC } from '../../test/bpf/xdp-frames.js';
import { median } from '../stats.js';
import { kernelThreads, machineBusyNs, taskRuntimeNs } from './cpu-account.js';

const execFileAsync = promisify(execFile);

export type Responder = 'xdp-native' | 'xdp-generic' | 'kernel' | 'userspace';
/** Floors: the sink on the responder veth in native mode (veth's XDP ring) or generic mode (skb path). */
type Floor = 'floor-native' | 'floor-skb';
type Config = Floor | Responder;
const CONFIGS: readonly Config[] = [
  'floor-native',
  'floor-skb',
  'xdp-native',
  'xdp-generic',
  'kernel',
  'userspace',
];
const isFloor = (c: Config): c is Floor => c.startsWith('floor');
/** The floor a responder is compared with: the receive path it takes. */
const FLOOR_OF: Record<Responder, Floor> = {
  'xdp-native': 'floor-native',
  'xdp-generic': 'floor-skb',
  kernel: 'floor-skb',
  userspace: 'floor-skb',
};
const VIP = '10.88.0.100';

export interface CapacityOptions {
  arptool: string;
  sinkObject: string;
  rates: number[];
  rounds: number;
  warmS: number;
  windowS: number;
}

/** One run of one configuration at one rate. */
export interface CapacityRun {
  config: Config;
  rate: number;
  round: number;
  windowS: number;
  /** Requests sent by the client (c0 tx) and replies reaching it (c0 sink), per second. */
  requestsPerSec: number;
  repliesPerSec: number;
  /** CPU of the responder side (capr0's NAPI threads + the responder process), ns per second of wall time. */
  cpuNsPerSec: number;
  /** The whole machine's busy time, ns/s over both CPUs (other work included: a noise indicator). */
  machineBusyNsPerSec: number;
  load1: number;
}

export interface CapacityRow {
  responder: Responder;
  rate: number;
  /** Per round: responder-side CPU / replies. */
  nsPerReply: number[];
  median: number;
  min: number;
  max: number;
  /** Per reply minus the floor (receiving and dropping a request) of the same round. */
  aboveFloor: { median: number; min: number; max: number };
  repliesPerSec: number;
  answeredPercent: number;
}

export interface CapacityResult {
  runs: CapacityRun[];
  rows: CapacityRow[];
  floorNsPerRequest: Array<{ floor: Floor; rate: number; median: number; min: number; max: number }>;
}

export async function capacityPart(o: CapacityOptions): Promise<CapacityResult> {
  const agent = join(projectRoot(), 'dist', 'test', 'netns', 'datapath-agent.js');
  const lan = new TestLan('h2cap');
  const prefix = namespacePrefix();
  const pinResponder = `/sys/fs/bpf/${prefix}h2cap-r-${process.pid}`;
  const pinSinkC = `/sys/fs/bpf/${prefix}h2cap-c-${process.pid}`;
  const pinSinkR = `/sys/fs/bpf/${prefix}h2cap-s-${process.pid}`;
  const runs: CapacityRun[] = [];
  let r: XdpResponder | undefined;
  let sinkC: BpfMap | undefined;
  try {
    const c = await lan.createNamespace('c');
    const s = await lan.createNamespace('r');
    await lan.link(
      { ns: c, ifname: 'capc0', addrs: ['10.88.0.1/24'] },
      { ns: s, ifname: 'capr0', addrs: ['10.88.0.2/24'] },
    );
    for (const [ns, dev] of [
      [c, 'capc0'],
      [s, 'capr0'],
    ] as const) {
      await lan.exec(ns, 'ethtool', ['-K', dev, 'gro', 'on', 'tso', 'off']);
      await execFileAsync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /sys/class/net/${dev}/threaded`]);
    }
    const node = (ns: string, ...a: string[]) => lan.exec(ns, process.execPath, [agent, ...a]);
    await node(c, 'object', o.sinkObject, 'arp_sink', pinSinkC, 'capc0', 'native');
    sinkC = BpfMap.openPinned(`${pinSinkC}/arp_sink_count`);
    XdpResponder.cleanup(pinResponder);
    r = XdpResponder.open({ pinDir: pinResponder });
    r.setVip(VIP, { action: 'answer', mac: VIP_MAC });
    r.setLivenessBoundMs(600_000);
    const countC = sinkC;
    const sample = async (pids: number[]) => {
      const tx = JSON.parse(await lan.ip(c, '-j', '-s', 'link', 'show', 'capc0')) as Array<{
        stats64: { tx: { packets: number } };
      }>;
      let cpu = 0;
      for (const pid of pids) cpu += await taskRuntimeNs(pid);
      return {
        t: performance.now(),
        cpu,
        busy: await machineBusyNs(),
        replies: Number(countC.lookupPerCpuSum(Buffer.alloc(4))?.[0] ?? 0n),
        requests: tx[0]?.stats64.tx.packets ?? 0,
      };
    };
    for (let round = 1; round <= o.rounds; round++) {
      for (const rate of o.rates) {
        for (const config of CONFIGS) {
          let responderProc: ChildProcess | undefined;
          await node(s, 'detach', 'capr0');
          if (isFloor(config))
            await node(
              s,
              'object',
              o.sinkObject,
              'arp_sink',
              pinSinkR,
              'capr0',
              config === 'floor-native' ? 'native' : 'generic',
            );
          else if (config === 'xdp-native' || config === 'xdp-generic') {
            r.heartbeat();
            await node(s, 'attach', pinResponder, 'capr0', config === 'xdp-native' ? 'native' : 'generic');
          } else if (config === 'kernel') await lan.ip(s, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
          else {
            responderProc = lan.spawn(s, 'taskset', [
              '-c',
              '1',
              o.arptool,
              'respond',
              '-i',
              'capr0',
              '-vip',
              VIP,
              '-mac',
              '02:00:00:00:00:aa',
            ]);
            await sleep(300);
          }
          try {
            // The flood outlasts the window by far; it is stopped once the window has been sampled.
            const ms = Math.round((o.warmS + o.windowS + 30) * 1000);
            const gen = lan.spawn(c, 'taskset', [
              '-c',
              '0',
              o.arptool,
              'flood',
              '-i',
              'capc0',
              '-target',
              VIP,
              '-spa',
              '10.88.0.77',
              '-ms',
              String(ms),
              '-rate',
              String(rate),
              '-noread',
            ]);
            const exited = new Promise<void>((res) => gen.once('exit', () => res()));
            // Attaching or detaching XDP re-creates the veth's NAPI, so its threads are looked up now.
            const napi = await kernelThreads('napi/capr0-');
            if (napi.length === 0) throw new Error('no threaded NAPI poller for capr0');
            const pids = [responderProc?.pid ?? -1, ...napi].filter((p) => p > 0);
            await sleep(o.warmS * 1000);
            const a = await sample(pids);
            await sleep(o.windowS * 1000);
            const b = await sample(pids);
            if (gen.exitCode !== null || gen.signalCode !== null)
              throw new Error(`flood ended before the window did (${config}, ${rate}/s)`);
            gen.kill('SIGKILL');
            await exited;
            const secs = (b.t - a.t) / 1000;
            const run: CapacityRun = {
              config,
              rate,
              round,
              windowS: round2(secs),
              requestsPerSec: Math.round((b.requests - a.requests) / secs),
              repliesPerSec: Math.round((b.replies - a.replies) / secs),
              cpuNsPerSec: Math.round((b.cpu - a.cpu) / secs),
              machineBusyNsPerSec: Math.round((b.busy - a.busy) / secs),
              load1: round2(loadavg()[0] ?? 0),
            };
            runs.push(run);
            console.log('capacity', JSON.stringify(run));
          } finally {
            responderProc?.kill('SIGKILL');
            if (config === 'kernel') await lan.ip(s, 'addr', 'del', `${VIP}/32`, 'dev', 'lo');
          }
        }
      }
    }
  } finally {
    sinkC?.close();
    r?.close();
    await lan.destroy();
    for (const dir of [pinResponder, pinSinkC, pinSinkR]) XdpResponder.cleanup(dir);
  }
  return summarize(runs, o.rates);
}

function summarize(runs: CapacityRun[], rates: number[]): CapacityResult {
  const rows: CapacityRow[] = [];
  const floorNsPerRequest: CapacityResult['floorNsPerRequest'] = [];
  const perRequest = (x: CapacityRun) => x.cpuNsPerSec / Math.max(1, x.requestsPerSec);
  for (const rate of rates) {
    for (const floor of CONFIGS.filter(isFloor))
      floorNsPerRequest.push({
        floor,
        rate,
        ...spread(runs.filter((x) => x.config === floor && x.rate === rate).map(perRequest)),
      });
    for (const responder of CONFIGS.filter((x): x is Responder => !isFloor(x))) {
      const mine = runs.filter((x) => x.config === responder && x.rate === rate);
      const answered = mine.filter((x) => x.repliesPerSec > 0);
      const ns = answered.map((x) => x.cpuNsPerSec / x.repliesPerSec);
      // Above the floor: minus what receiving and dropping a request on the same path cost, same round.
      const above = answered.flatMap((x) => {
        const b = runs.find(
          (y) => y.config === FLOOR_OF[responder] && y.rate === rate && y.round === x.round,
        );
        return b && b.requestsPerSec > 0 ? [x.cpuNsPerSec / x.repliesPerSec - perRequest(b)] : [];
      });
      const replies = median(mine.map((x) => x.repliesPerSec));
      const requests = median(mine.map((x) => x.requestsPerSec));
      rows.push({
        responder,
        rate,
        nsPerReply: ns.map((x) => Math.round(x)),
        ...spread(ns),
        aboveFloor: spread(above),
        repliesPerSec: replies,
        answeredPercent: requests > 0 ? round2((replies / requests) * 100) : 0,
      });
    }
  }
  return { runs, rows, floorNsPerRequest };
}

function spread(xs: number[]): Spread {
  return {
    median: Math.round(median(xs)),
    min: Math.round(Math.min(...xs)),
    max: Math.round(Math.max(...xs)),
  };
}

/** The markdown section of part 3. */
export function capacityMarkdown(
  res: CapacityResult,
  o: Omit<CapacityOptions, 'arptool' | 'sinkObject'>,
): string[] {
  const md = [
    `## CPU per answered request at fixed offered rates (${o.rounds} interleaved rounds, ${o.windowS} s windows)`,
    '',
    '| responder | offered req/s | ns CPU per reply, median | min – max over rounds | above the floor, median (min – max) | replies/s | answered |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...res.rows.map(
      (x) =>
        `| ${x.responder} | ${x.rate} | ${x.median} | ${x.min} – ${x.max} | ` +
        `${x.aboveFloor.median} (${x.aboveFloor.min} – ${x.aboveFloor.max}) | ${x.repliesPerSec} | ${x.answeredPercent} % |`,
    ),
    '',
    'Ratios of the medians (in brackets: the extremes divided, worst case both ways), per reply and above the floor:',
    '',
    '| offered req/s | kernel ÷ XDP native | userspace ÷ XDP native | kernel ÷ XDP generic | userspace ÷ XDP generic |',
    '| --- | --- | --- | --- | --- |',
    ...o.rates.map((rate) => {
      const get = (k: Responder) => res.rows.find((x) => x.responder === k && x.rate === rate);
      const ratio = (num: Responder, den: Responder): string => {
        const a = get(num);
        const b = get(den);
        if (!a || !b) return 'n/a';
        return `${ratioText(a, b)}; above the floor ${ratioText(a.aboveFloor, b.aboveFloor)}`;
      };
      return `| ${rate} | ${ratio('kernel', 'xdp-native')} | ${ratio('userspace', 'xdp-native')} | ${ratio('kernel', 'xdp-generic')} | ${ratio('userspace', 'xdp-generic')} |`;
    }),
    '',
    'Floors (an XDP sink on the responder veth drops every request: receiving a frame and doing nothing),',
    "ns CPU per request; native = veth's XDP ring (the path of XDP native), skb = the NAPI/GRO skb path",
    '(the path of XDP generic, the kernel and the userspace tap):',
    `${res.floorNsPerRequest.map((b) => `${b.floor} at ${b.rate}/s: ${b.median} (${b.min} – ${b.max})`).join('; ')}.`,
    '',
    'Method. The client sends at a fixed rate and never reads a reply: an XDP program on its veth counts',
    'and drops the replies. Both veths take the NAPI receive path (GRO on, TSO off) with threaded NAPI, so',
    "everything the responder side does for a request runs in the responder veth's NAPI kernel thread",
    '(XDP native or generic, the kernel ARP stack, the packet tap of the userspace responder, and putting',
    "the reply into the client's veth) and, for userspace, in the responder process. CPU is the exact run",
    'time (schedstat, ns) of those tasks over the window divided by the replies the client received; the',
    "generator's cost and other work on the shared machine are not in it. Error bars: the min – max over",
    'the interleaved rounds; the ratio ranges divide the extremes (worst case both ways). Run time is',
    'exact, but the windows share the machine with other work (caches, hypervisor steal): the spread over',
    'rounds is the honest error bar. "answered" below 100 % means the responder fell behind the offered',
    'rate (its CPU per reply then includes the requests it dropped).',
    '',
    "Limits. The floor is mostly the NAPI thread's wake-up per batch, which every responder pays too (at",
    'lower rates the batches are smaller and it weighs more): "above the floor" is the marginal cost of',
    'answering. On veth, XDP "native" gets the sender\'s skb and converts it (a real NIC\'s driver runs XDP',
    'before any skb exists), so native XDP here is dearer than on hardware; the kernel and userspace paths',
    'are the same as on hardware.',
  ];
  return md;
}

type Spread = { median: number; min: number; max: number };

function ratioText(a: Spread, b: Spread): string {
  if (b.median <= 0) return 'n/a';
  const lo = b.max > 0 ? a.min / b.max : Number.NaN;
  const hi = b.min > 0 ? a.max / b.min : Number.POSITIVE_INFINITY;
  return `${(a.median / b.median).toFixed(1)}× (${fmtRatio(lo)} – ${fmtRatio(hi)})`;
}

function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)}×` : '∞';
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
