/**
 * bench/arp part 3: CPU nanoseconds per answered ARP request at fixed offered rates, for the XDP
 * responder (native, generic), the kernel's own ARP and the userspace AF_PACKET responder.
 *
 * One veth pair c0 (client) – r0 (responder). The client's flood (arptool flood -rate R -noread, CPU 0)
 * sends R requests/s and never reads a reply: an XDP sink on c0 (sink.bpf.c) counts the replies and
 * drops them before the client's kernel sees them, the same for every responder. The baseline run has
 * the sink on r0 too (every request dropped at the earliest point, nobody answers): it carries the
 * generator's own cost. Per run, after a warm-up, the CPU of the exchange over a window is the run time
 * of the generator, the responder process (userspace) and ksoftirqd (cpu-account.ts), and
 *   ns per reply = (CPU ns/s of the run − CPU ns/s of the baseline run of the same round) / replies/s.
 * Rounds repeat the five configurations interleaved, so slow drifts of the shared machine hit them all;
 * the spread over rounds is the error bar.
 */
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BpfMap } from '../../src/datapath/bpf.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { namespacePrefix } from '../../src/lab/netns.js';
import { projectRoot } from '../../src/util/paths.js';
import { TestLan } from '../../test/helpers/netns.js';
import { VIP_MAC } from '../../test/bpf/xdp-frames.js';
import { median } from '../stats.js';
import { machineBusyNs, softirqThreads, taskRuntimeNs } from './cpu-account.js';

export type Responder = 'xdp-native' | 'xdp-generic' | 'kernel' | 'userspace';
type Config = 'baseline' | Responder;
const CONFIGS: readonly Config[] = ['baseline', 'xdp-native', 'xdp-generic', 'kernel', 'userspace'];
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
  /** CPU of the exchange (generator + responder process + ksoftirqd), ns per second of wall time. */
  cpuNsPerSec: number;
  /** The whole machine's busy time, ns/s over both CPUs (other work included: a noise indicator). */
  machineBusyNsPerSec: number;
  load1: number;
}

export interface CapacityRow {
  responder: Responder;
  rate: number;
  /** Per round: (cpu − baseline cpu) / replies. */
  nsPerReply: number[];
  median: number;
  min: number;
  max: number;
  repliesPerSec: number;
  answeredPercent: number;
}

export interface CapacityResult {
  runs: CapacityRun[];
  rows: CapacityRow[];
  baselineNsPerRequest: Array<{ rate: number; median: number; min: number; max: number }>;
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
      { ns: c, ifname: 'c0', addrs: ['10.88.0.1/24'] },
      { ns: s, ifname: 'r0', addrs: ['10.88.0.2/24'] },
    );
    const node = (ns: string, ...a: string[]) => lan.exec(ns, process.execPath, [agent, ...a]);
    await node(c, 'object', o.sinkObject, 'arp_sink', pinSinkC, 'c0', 'native');
    sinkC = BpfMap.openPinned(`${pinSinkC}/arp_sink_count`);
    XdpResponder.cleanup(pinResponder);
    r = XdpResponder.open({ pinDir: pinResponder });
    r.setVip(VIP, { action: 'answer', mac: VIP_MAC });
    r.setLivenessBoundMs(600_000);
    const softirqd = await softirqThreads();
    const countC = sinkC;
    const sample = async (pids: number[]) => {
      const tx = JSON.parse(await lan.ip(c, '-j', '-s', 'link', 'show', 'c0')) as Array<{
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
          await node(s, 'detach', 'r0');
          if (config === 'baseline')
            await node(s, 'object', o.sinkObject, 'arp_sink', pinSinkR, 'r0', 'native');
          else if (config === 'xdp-native' || config === 'xdp-generic') {
            r.heartbeat();
            await node(s, 'attach', pinResponder, 'r0', config === 'xdp-native' ? 'native' : 'generic');
          } else if (config === 'kernel') await lan.ip(s, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
          else {
            responderProc = lan.spawn(s, 'taskset', [
              '-c',
              '1',
              o.arptool,
              'respond',
              '-i',
              'r0',
              '-vip',
              VIP,
              '-mac',
              '02:00:00:00:00:aa',
            ]);
            await sleep(300);
          }
          try {
            const ms = Math.round((o.warmS + o.windowS + 0.5) * 1000);
            const gen = lan.spawn(c, 'taskset', [
              '-c',
              '0',
              o.arptool,
              'flood',
              '-i',
              'c0',
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
            const exited = new Promise<number | null>((res) => gen.once('exit', (code) => res(code)));
            const pids = [gen.pid ?? -1, responderProc?.pid ?? -1, ...softirqd].filter((p) => p > 0);
            await sleep(o.warmS * 1000);
            const a = await sample(pids);
            await sleep(o.windowS * 1000);
            const b = await sample(pids);
            const code = await exited;
            if (code !== 0) throw new Error(`flood exited with ${code} (${config}, ${rate}/s)`);
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
  const baselineNsPerRequest: CapacityResult['baselineNsPerRequest'] = [];
  for (const rate of rates) {
    const base = runs.filter((x) => x.config === 'baseline' && x.rate === rate);
    const perReq = base.map((x) => x.cpuNsPerSec / Math.max(1, x.requestsPerSec));
    baselineNsPerRequest.push({ rate, ...spread(perReq) });
    for (const responder of CONFIGS.filter((x): x is Responder => x !== 'baseline')) {
      const mine = runs.filter((x) => x.config === responder && x.rate === rate);
      const ns = mine.flatMap((x) => {
        const b = base.find((y) => y.round === x.round);
        return b && x.repliesPerSec > 0 ? [(x.cpuNsPerSec - b.cpuNsPerSec) / x.repliesPerSec] : [];
      });
      const replies = median(mine.map((x) => x.repliesPerSec));
      const requests = median(mine.map((x) => x.requestsPerSec));
      rows.push({
        responder,
        rate,
        nsPerReply: ns.map((x) => Math.round(x)),
        ...spread(ns),
        repliesPerSec: replies,
        answeredPercent: requests > 0 ? round2((replies / requests) * 100) : 0,
      });
    }
  }
  return { runs, rows, baselineNsPerRequest };
}

function spread(xs: number[]): { median: number; min: number; max: number } {
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
    '| responder | offered req/s | ns CPU per reply, median | min – max over rounds | replies/s | answered |',
    '| --- | --- | --- | --- | --- | --- |',
    ...res.rows.map(
      (x) =>
        `| ${x.responder} | ${x.rate} | ${x.median} | ${x.min} – ${x.max} | ${x.repliesPerSec} | ${x.answeredPercent} % |`,
    ),
    '',
    '| offered req/s | kernel ÷ XDP native | userspace ÷ XDP native | kernel ÷ XDP generic | userspace ÷ XDP generic |',
    '| --- | --- | --- | --- | --- |',
    ...o.rates.map((rate) => {
      const get = (k: Responder) => res.rows.find((x) => x.responder === k && x.rate === rate);
      const ratio = (num: Responder, den: Responder): string => {
        const a = get(num);
        const b = get(den);
        if (!a || !b || b.median <= 0) return 'n/a';
        const lo = b.max > 0 ? a.min / b.max : Number.NaN;
        const hi = b.min > 0 ? a.max / b.min : Number.POSITIVE_INFINITY;
        return `${(a.median / b.median).toFixed(1)}× (${fmtRatio(lo)} – ${fmtRatio(hi)})`;
      };
      return `| ${rate} | ${ratio('kernel', 'xdp-native')} | ${ratio('userspace', 'xdp-native')} | ${ratio('kernel', 'xdp-generic')} | ${ratio('userspace', 'xdp-generic')} |`;
    }),
    '',
    'Baseline (generator alone, every request dropped by an XDP sink on the responder side), ns CPU per',
    `request: ${res.baselineNsPerRequest.map((b) => `${b.rate}/s: ${b.median} (${b.min} – ${b.max})`).join('; ')}.`,
    '',
    'Method. The client sends at a fixed rate and never reads a reply: an XDP program on its veth counts',
    'and drops the replies, the same for every responder. CPU is the exact run time (schedstat, ns) of the',
    'generator, the responder process (userspace) and ksoftirqd over the window: on veth the whole',
    'exchange runs in softirq inline in those tasks, and without IRQ time accounting (this kernel) that',
    "time is charged to them; other work on the shared machine is not counted. A run's cost minus the",
    "baseline run of the same round, divided by the replies, is the responder's cost per reply: it",
    "includes receiving the request (XDP native: the veth's XDP ring; the others: the kernel's backlog),",
    "answering it, and delivering the reply to the client's veth. Error bars: the min – max over the",
    'interleaved rounds; the ratio ranges divide the extremes (worst case both ways). Scheduler run',
    'time is exact, but the windows share the machine with other work (cache, frequency, hypervisor',
    'steal): the spread over rounds is the honest error bar.',
  ];
  return md;
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
