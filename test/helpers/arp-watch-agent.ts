/**
 * The ARP/NDP watcher's probe process, run inside a client namespace by arp-watch.ts:
 *   arp-watch-agent '<json ArpAgentConfig>'
 * Every intervalMs it reads the replies to the previous round from one long-lived AF_PACKET socket, then
 * sends one broadcast ARP request (IPv6: one NS to the solicited-node group) per VIP. Prints one JSON line
 * per round: { r, t, silent: [vip index...], dual: [[index, [mac...]]], moved: [[index, mac]] } and a last
 * line { end: true, rounds }. With heartbeatPins, each round also carries hb: the age in ms of each
 * speaker's last heartbeat (-1 when unreadable). Stops after durationMs, on SIGTERM, or when stdin closes.
 */
import { join } from 'node:path';
import { BpfMap } from '../../src/datapath/bpf.js';
import { interfaceMac } from '../../src/datapath/netdev.js';
import { kernelMonotonicNs } from '../../src/datapath/responder.js';
import { decodeConfig, MAP_NAMES } from '../../src/datapath/xdp-layout.js';
import { ETH_P_ALL, PacketSocket } from '../../src/datapath/packet-socket.js';
import { arpFrame, nsFrame, v4, v6 } from '../bpf/xdp-frames.js';

export interface ArpAgentConfig {
  ifname: string;
  source4: string;
  source6?: string;
  vips: string[];
  intervalMs: number;
  durationMs: number;
  /** Pin directories of speakers whose heartbeat age (ms, as the XDP gate sees it) each round reports. */
  heartbeatPins?: string[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as ArpAgentConfig;
const mac = interfaceMac(config.ifname);
const socket = PacketSocket.open(config.ifname, ETH_P_ALL);
const src4 = v4(config.source4);
const src6 = config.source6 ? v6(config.source6) : undefined;

const index = new Map<string, number>();
const requests: Buffer[] = [];
config.vips.forEach((ip, i) => {
  if (ip.includes(':')) {
    if (!config.source6) throw new Error(`IPv6 VIP ${ip} needs source6`);
    index.set(v6(ip).toString('hex'), i);
    requests.push(nsFrame({ src: config.source6, target: ip, ethSrc: mac }));
  } else {
    index.set(v4(ip).toString('hex'), i);
    requests.push(arpFrame({ spa: config.source4, tpa: ip, sha: mac, padTo: 60 }));
  }
});

/** The VIP index and answering MAC of a reply to one of our requests (gratuitous frames excluded). */
function answer(frame: Buffer): [number, string] | undefined {
  if (frame.length < 42) return undefined;
  const type = frame.readUInt16BE(12);
  const from = frame.subarray(6, 12).toString('hex');
  if (type === 0x0806) {
    // An ARP reply addressed to our sender address (a gratuitous one targets the VIP itself).
    if (frame.readUInt16BE(20) !== 2 || !frame.subarray(38, 42).equals(src4)) return undefined;
    const i = index.get(frame.subarray(28, 32).toString('hex'));
    return i === undefined ? undefined : [i, from];
  }
  if (type === 0x86dd && src6 && frame.length >= 78) {
    // A neighbor advertisement to our address (an unsolicited one goes to ff02::1).
    if (frame[20] !== 58 || frame[54] !== 136 || !frame.subarray(38, 54).equals(src6)) return undefined;
    const i = index.get(frame.subarray(62, 78).toString('hex'));
    return i === undefined ? undefined : [i, from];
  }
  return undefined;
}

const configMaps = new Map<string, BpfMap>();
const ZERO_KEY = Buffer.alloc(4);

/** Heartbeat age per pin dir, in ms on the clock the XDP gate reads; -1 when not readable (yet). */
function heartbeatAges(): number[] {
  return (config.heartbeatPins ?? []).map((dir) => {
    try {
      let map = configMaps.get(dir);
      if (!map) {
        map = BpfMap.openPinned(join(dir, MAP_NAMES.config));
        configMaps.set(dir, map);
      }
      const value = map.lookup(ZERO_KEY);
      if (!value) return -1;
      const { heartbeatNs } = decodeConfig(value);
      return heartbeatNs === 0n ? -1 : Number((kernelMonotonicNs() - heartbeatNs) / 1_000_000n);
    } catch {
      configMaps.get(dir)?.close();
      configMaps.delete(dir);
      return -1;
    }
  });
}

const owner: Array<string | undefined> = config.vips.map(() => undefined);
let round = 0;
let stopping = false;
const start = Date.now();

function collect(r: number, t: number): void {
  const macs: Array<Set<string>> = config.vips.map(() => new Set<string>());
  for (const frame of socket.receive(65536)) {
    const a = answer(frame);
    if (a) macs[a[0]]?.add(a[1]);
  }
  const silent: number[] = [];
  const dual: Array<[number, string[]]> = [];
  const moved: Array<[number, string]> = [];
  macs.forEach((set, i) => {
    if (set.size === 0) silent.push(i);
    else if (set.size > 1) dual.push([i, [...set]]);
    else {
      const m = [...set][0];
      if (m !== undefined && m !== owner[i]) {
        owner[i] = m;
        moved.push([i, m]);
      }
    }
  });
  const hb = config.heartbeatPins ? { hb: heartbeatAges() } : {};
  process.stdout.write(`${JSON.stringify({ r, t, silent, dual, moved, ...hb })}\n`);
}

async function run(): Promise<void> {
  let sentAt = 0;
  while (!stopping && Date.now() - start < config.durationMs) {
    const due = start + round * config.intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (round > 0) collect(round - 1, sentAt);
    else socket.receive(65536); // drop what queued before the first round
    sentAt = Date.now();
    for (let i = 0; i < requests.length;) {
      const n = socket.sendBatch(requests, i);
      if (n === 0) await new Promise((r) => setTimeout(r, 1));
      i += n;
    }
    round++;
  }
  await new Promise((r) => setTimeout(r, config.intervalMs));
  if (round > 0) collect(round - 1, sentAt);
  process.stdout.write(`${JSON.stringify({ end: true, rounds: round })}\n`);
  socket.close();
  for (const map of configMaps.values()) map.close();
}

process.once('SIGTERM', () => (stopping = true));
process.stdin.on('end', () => (stopping = true));
process.stdin.resume();
void run().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`arp-watch-agent: ${String(error)}\n`);
    process.exit(1);
  },
);
