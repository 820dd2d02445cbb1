/**
 * Per-packet cost of flow steering against the counted path (BPF_PROG_TEST_RUN), part 1 of the flow
 * benchmark. Steering rewrites the frame in place and `repeat` re-runs on the rewritten buffer, so the
 * repeated "established flow" case steers to a target whose MAC is the VIP's own MAC (not in the
 * node-MAC set): every repeat then takes the whole steering path again (pinned-flow hit, rewrite,
 * XDP_TX). New flows (pin miss + insert) are timed one run per call against single-run counted runs.
 */
import { FLOW_SLOTS } from '../../src/datapath/flow-layout.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { flowFrame } from '../../test/bpf/flow-frames.js';
import { VIP_MAC } from '../../test/bpf/xdp-frames.js';
import { median } from '../stats.js';

export const COUNTED_CASE = 'IPv4 TCP to a VIP, counted path';
export const STEERED_CASE = 'IPv4 TCP, established flow steered (XDP_TX)';

export interface PacketRow {
  case: string;
  nsPerPacket: number;
  method: string;
}

export function packetCost(opts: { repeat?: number; single?: number } = {}): PacketRow[] {
  const REPEAT = opts.repeat ?? 2_000_000;
  const SINGLE = opts.single ?? 20_000;
  const pinDir = `/sys/fs/bpf/hrl-ebench-${process.pid}`;
  XdpResponder.cleanup(pinDir);
  const r = XdpResponder.open({ pinDir });
  try {
    const counted = '10.0.0.5';
    const steered = '10.0.0.6';
    for (const ip of [counted, steered]) r.setVip(ip, { action: 'answer', mac: VIP_MAC });
    for (let i = 0; i < 1000; i++)
      r.setVip(`10.200.${i >> 8}.${i & 255}`, { action: 'answer', mac: VIP_MAC });
    r.setLivenessBoundMs(600_000);
    r.heartbeat();
    const slots = new Uint8Array(FLOW_SLOTS).fill(1);
    const targets = [
      { mac: Buffer.from('0200000000a1', 'hex'), local: true, stat: 1 },
      { mac: VIP_MAC, local: false, stat: 2 }, // see the header: keeps a repeated run on the steering path
    ];
    r.flows.set(steered, { role: 'owner', ownMac: VIP_MAC, inStat: 3, targets, slots });
    r.flows.setNodeMacs([Buffer.from('0200000000a1', 'hex'), Buffer.from('0200000000b1', 'hex')]);
    const frame = (dst: string, sport: number) =>
      flowFrame({ src: '192.0.2.77', dst, l4: { proto: 6, sport, dport: 80, payload: 64 } });
    const prog = r.program;
    const repeated = (f: Buffer) => prog.testRun(f, { repeat: REPEAT }).durationNs;
    const rows: PacketRow[] = [];
    const mean = `mean of ${REPEAT} repeats`;
    rows.push({
      case: COUNTED_CASE,
      nsPerPacket: repeated(frame(counted, 1000)),
      method: mean,
    });
    const est = frame(steered, 1000);
    if (prog.testRun(Buffer.from(est)).retval !== 3) throw new Error('bench setup: the flow is not steered');
    rows.push({
      case: STEERED_CASE,
      nsPerPacket: repeated(est),
      method: mean,
    });
    const single = (make: (i: number) => Buffer) => {
      const xs: number[] = [];
      for (let i = 0; i < SINGLE; i++) xs.push(prog.testRun(make(i)).durationNs);
      return median(xs);
    };
    const med = `median of ${SINGLE} single runs`;
    rows.push({
      case: COUNTED_CASE,
      nsPerPacket: single(() => frame(counted, 1000)),
      method: med,
    });
    rows.push({
      case: 'IPv4 TCP, new flow steered (pin miss + insert)',
      nsPerPacket: single((i) => frame(steered, 2000 + (i % 60000))),
      method: med,
    });
    return rows;
  } finally {
    r.close();
    XdpResponder.cleanup(pinDir);
  }
}
