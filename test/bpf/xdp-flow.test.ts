import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  FLOW_MAP_NAMES,
  FLOW_NO_TARGET,
  FLOW_SLOTS,
  type FlowEntry,
} from '../../src/datapath/flow-layout.js';
import { kernelMonotonicNs, XdpResponder } from '../../src/datapath/responder.js';
import { requirePrerequisites } from '../helpers/prereq.js';
import { flowFrame, flowSlot, steered, type FrameOpts } from './flow-frames.js';
import { CLIENT_MAC, nsFrame, VIP_MAC } from './xdp-frames.js';
import {
  CLIENT4,
  XDP_DROP,
  CLIENT6,
  openResponder,
  run,
  SUPPRESSED4,
  VIP4,
  VIP6,
  XDP_PASS,
  XDP_TX,
} from './xdp-harness.js';

const NODE_B = Buffer.from('0200000000bb', 'hex');
const NODE_C = Buffer.from('0200000000cc', 'hex');
const TARGETS = [VIP_MAC, NODE_B, NODE_C];
const ROUTER4 = '192.0.2.77';
const IN_STAT = 10;

function table(role: FlowEntry['role'], pick: (slot: number) => number, targets = TARGETS): FlowEntry {
  const slots = new Uint8Array(FLOW_SLOTS);
  for (let s = 0; s < FLOW_SLOTS; s++) slots[s] = pick(s);
  return {
    role,
    ownMac: VIP_MAC,
    inStat: IN_STAT,
    targets: targets.map((mac, i) => ({ mac, local: i === 0, stat: i + 1 })),
    slots,
  };
}

const byThirds = (s: number) => s % 3;

const r = openResponder(t, 'flow');

if (r) {
  const reset = (entry: FlowEntry = table('owner', byThirds)) => {
    r.setLivenessBoundMs(600_000);
    r.heartbeat();
    r.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
    r.flows.set(VIP4, entry);
    r.flows.set(VIP6, entry);
    r.flows.setNodeMacs([VIP_MAC, NODE_B, NODE_C]);
    r.flows.clearPins();
    for (const n of [1, 2, 3, IN_STAT]) r.flows.resetStat(n);
  };

  /** Runs the frame and checks the verdict and every output byte against the slot the key hashes to. */
  const expectSlot = (t: Test, o: FrameOpts, key: [number, number, number], what: string) => {
    const frame = flowFrame(o);
    const slot = flowSlot(o.src, o.dst, ...key);
    const target = TARGETS[byThirds(slot)] ?? VIP_MAC;
    const out = run(r, frame);
    if (target === VIP_MAC) {
      t.equal(out.retval, XDP_PASS, `${what}: own slot ${slot} passed up`);
      t.same(out.data, frame, `${what}: untouched`);
    } else {
      t.equal(out.retval, XDP_TX, `${what}: slot ${slot} steered`);
      t.same(out.data.toString('hex'), steered(frame, target).toString('hex'), `${what}: byte for byte`);
    }
    return target;
  };

  t.test('IPv4 TCP/UDP: 5-tuple slot, MACs rewritten, nothing else touched', async (t) => {
    reset();
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const proto = i % 2 ? 6 : 17;
      const o = { src: ROUTER4, dst: VIP4, l4: { proto, sport: 40000 + i, dport: 80, payload: i } };
      seen.add(expectSlot(t, o, [proto, 40000 + i, 80], `v4 ${proto} #${i}`).toString('hex'));
    }
    t.equal(seen.size, 3, 'one client through a router reaches all three nodes');
  });

  t.test('VLAN and QinQ tags are kept; IPv6 with and without extension headers', async (t) => {
    reset();
    const vlan = [{ tpid: 0x8100, vid: 12, pcp: 5 }];
    const qinq = [
      { tpid: 0x88a8, vid: 300 },
      { tpid: 0x8100, vid: 12 },
    ];
    for (let i = 0; i < 12; i++) {
      const l4 = { proto: 6, sport: 1000 + i, dport: 443, payload: 100 };
      expectSlot(t, { src: CLIENT4, dst: VIP4, l4, tags: vlan }, [6, 1000 + i, 443], `vlan #${i}`);
      expectSlot(t, { src: CLIENT4, dst: VIP4, l4, tags: qinq }, [6, 1000 + i, 443], `qinq #${i}`);
      expectSlot(t, { src: CLIENT6, dst: VIP6, l4 }, [6, 1000 + i, 443], `v6 #${i}`);
      expectSlot(t, { src: CLIENT6, dst: VIP6, l4, tags: qinq }, [6, 1000 + i, 443], `v6 qinq #${i}`);
      const ext: Array<[number, number]> = [
        [0, 6],
        [60, 14],
        [43, 22],
      ];
      expectSlot(t, { src: CLIENT6, dst: VIP6, l4, ext }, [6, 1000 + i, 443], `v6 hop+dst+routing #${i}`);
    }
  });

  t.test('fragments and other protocols hash by addresses + protocol', async (t) => {
    reset();
    for (let i = 0; i < 12; i++) {
      const src = `198.51.100.${i + 1}`;
      const l4 = { proto: 17, sport: 5000 + i, dport: 53, payload: 40 };
      const a = expectSlot(
        t,
        { src, dst: VIP4, l4, fragField: 0x2000 },
        [17, 0, 0],
        `v4 first fragment #${i}`,
      );
      const b = expectSlot(
        t,
        { src, dst: VIP4, l4: { proto: 17, payload: 40 }, fragField: 185 },
        [17, 0, 0],
        'later',
      );
      t.same(a, b, 'every fragment of a datagram to the same node');
      expectSlot(t, { src, dst: VIP4, l4: { proto: 1 } }, [1, 0, 0], `ICMP #${i}`);
      expectSlot(t, { src, dst: VIP4, l4: { proto: 47 } }, [47, 0, 0], `GRE #${i}`);
      const src6 = `2001:db8:1::${i + 1}`;
      expectSlot(t, { src: src6, dst: VIP6, l4, ext: [[44, 0x0001]] }, [17, 0, 0], `v6 first fragment #${i}`);
      expectSlot(
        t,
        {
          src: src6,
          dst: VIP6,
          l4,
          ext: [
            [0, 6],
            [44, 0x0100],
          ],
        },
        [17, 0, 0],
        `v6 hbh+fragment #${i}`,
      );
      expectSlot(t, { src: src6, dst: VIP6, l4: { proto: 58 } }, [58, 0, 0], `ICMPv6 #${i}`);
      expectSlot(t, { src, dst: VIP4, l4, truncate: 14 + 20 + 2 }, [17, 0, 0], `truncated UDP #${i}`);
    }
  });

  t.test('loop guard, non-owner, gate closed, foreign MAC, suppress: never steered', async (t) => {
    reset();
    // A flow that lands on NODE_B, to show what each guard stops.
    const guards0 = r.flows.guards();
    let sport = 20000;
    while (byThirds(flowSlot(ROUTER4, VIP4, 6, sport, 80)) !== 1) sport++;
    const o = { src: ROUTER4, dst: VIP4, l4: { proto: 6, sport, dport: 80 } };
    t.equal(run(r, flowFrame(o)).retval, XDP_TX, 'control: steered');
    for (const mac of [NODE_B, NODE_C, VIP_MAC]) {
      const f = flowFrame({ ...o, ethSrc: mac });
      const out = run(r, f);
      t.equal(out.retval, XDP_PASS, `from node MAC ${mac.toString('hex')}: never steered again`);
      t.same(out.data, f);
    }
    t.equal(r.flows.stat(IN_STAT).packets, 3n, 'counted as steered in');
    t.equal(r.flows.stat(IN_STAT).bytes, BigInt(flowFrame(o).length * 3));
    const size = BigInt(flowFrame(o).length);
    const loop0 = guards0.loop_guard.packets;
    t.equal(r.flows.guards().loop_guard.packets - loop0, 3n, 'at an owner: counted by the loop guard');
    t.equal(r.flows.guards().loop_guard.bytes - guards0.loop_guard.bytes, 3n * size);

    const other = flowFrame({ ...o, ethDst: Buffer.from('020000000099', 'hex') });
    t.same(run(r, other), { retval: XDP_PASS, data: other }, 'frame not addressed to the VIP MAC');

    // A flow of the own slot, for the cases that must not steer: it still goes up the own stack.
    let own = 20000;
    while (byThirds(flowSlot(ROUTER4, VIP4, 6, own, 80)) !== 0) own++;
    const mine = { ...o, l4: { ...o.l4, sport: own } };
    r.flows.clearPins();
    r.flows.set(VIP4, table('member', byThirds));
    t.same(
      run(r, flowFrame(o)),
      { retval: XDP_DROP, data: flowFrame(o) },
      "member: another node's flow dropped",
    );
    t.same(run(r, flowFrame(mine)), { retval: XDP_PASS, data: flowFrame(mine) }, 'member: own flow passed');
    t.equal(r.flows.guards().not_owner.packets - guards0.not_owner.packets, 1n, 'member: one not_owner drop');
    t.equal(r.flows.guards().not_owner.bytes - guards0.not_owner.bytes, size);
    const fromNode = flowFrame({ ...o, ethSrc: NODE_B });
    t.equal(run(r, fromNode).retval, XDP_PASS, 'member: a steered-in frame passed');
    t.equal(r.flows.guards().loop_guard.packets - loop0, 3n, 'at a member: not a loop guard hit');
    r.flows.set(VIP4, table('owner', byThirds));
    t.equal(run(r, flowFrame(o)).retval, XDP_TX, 'owner again: steered (and pinned)');

    r.setLivenessBoundMs(50);
    r.heartbeat(kernelMonotonicNs() - 5_000_000_000n);
    t.same(
      run(r, flowFrame(o)),
      { retval: XDP_DROP, data: flowFrame(o) },
      'gate closed: not steered, dropped',
    );
    t.same(
      run(r, flowFrame(mine)),
      { retval: XDP_PASS, data: flowFrame(mine) },
      'gate closed: own flow passed',
    );
    r.flows.set(
      VIP4,
      table('owner', () => 0),
    );
    t.equal(
      run(r, flowFrame(o)).retval,
      XDP_DROP,
      'gate closed: a pinned flow stays with its node (dropped)',
    );
    const g = r.flows.guards();
    t.equal(g.gate_closed.packets - guards0.gate_closed.packets, 2n, 'gate closed: two gate_closed drops');
    t.equal(g.gate_closed.bytes - guards0.gate_closed.bytes, 2n * size);
    t.equal(g.not_owner.packets - guards0.not_owner.packets, 1n, 'and no more not_owner ones');
    r.flows.set(VIP4, table('owner', byThirds));
    // A fresh heartbeat's steering age is 10 ms minus the coarse clock's lag: one tick (4 ms at HZ=250) on
    // a busy CPU, but a VM's tick can come late (a clean-clone CI on a loaded 2-vCPU VM saw more than
    // 5 ms), so the bound is 1 ms: the fine-clock gate is open, steering has stopped unless the lag is 9 ms.
    r.setLivenessBoundMs(1);
    r.heartbeat();
    t.equal(
      run(r, flowFrame(o)).retval,
      XDP_DROP,
      'a fresh heartbeat under a 1 ms bound: steering (coarse clock + 10 ms) already stopped',
    );
    r.setLivenessBoundMs(600_000);
    r.heartbeat();
    t.equal(run(r, flowFrame(o)).retval, XDP_TX, 'gate open again');

    const sup = flowFrame({ ...o, dst: SUPPRESSED4 });
    t.same(run(r, sup), { retval: XDP_PASS, data: sup }, 'VIP without a flow entry: counted path only');
    r.flows.delete(VIP4);
    t.same(run(r, flowFrame(o)), { retval: XDP_PASS, data: flowFrame(o) }, 'flow entry removed');
  });

  t.test('a unicast NS to the VIP is answered, never steered', async (t) => {
    reset();
    const ns = nsFrame({ src: CLIENT6, target: VIP6, dst: VIP6 });
    const out = run(r, ns);
    t.equal(out.retval, XDP_TX);
    t.same(out.data.subarray(0, 6), CLIENT_MAC, 'the NA goes back to the solicitor');
  });

  t.test('slot table lookups, pinned flows, counters', async (t) => {
    reset(table('owner', () => 2));
    const flows = Array.from({ length: 40 }, (_, i) => ({
      src: ROUTER4,
      dst: VIP4,
      l4: { proto: 6, sport: 30000 + i, dport: 80 },
    }));
    for (const o of flows) t.same(run(r, flowFrame(o)).data.subarray(0, 6), NODE_C, 'every slot → C');
    r.flows.set(
      VIP4,
      table('owner', () => 1),
    );
    for (const o of flows)
      t.same(run(r, flowFrame(o)).data.subarray(0, 6), NODE_C, 'established flows stay pinned while C stays');
    const fresh = { src: ROUTER4, dst: VIP4, l4: { proto: 6, sport: 31000, dport: 80 } };
    t.same(run(r, flowFrame(fresh)).data.subarray(0, 6), NODE_B, 'a new flow follows the new table');
    r.flows.set(
      VIP4,
      table('owner', () => 1, [VIP_MAC, NODE_B]),
    );
    for (const o of flows)
      t.same(run(r, flowFrame(o)).data.subarray(0, 6), NODE_B, 'C left the table: its flows move');
    const none = table('owner', () => FLOW_NO_TARGET);
    r.flows.set(VIP4, none);
    r.flows.clearPins();
    t.equal(run(r, flowFrame(fresh)).retval, XDP_PASS, 'empty slot: passed up');
    t.equal(r.flows.stat(3).packets, 80n, 'steered out to C, per target');
    t.equal(r.flows.stat(2).packets, 41n);
    t.equal(r.flows.stat(2).bytes, BigInt(flowFrame(fresh).length * 41));
  });
}

t.test('pins of a program without herald_flow_guards (before the guard counters) are adopted', async (t) => {
  requirePrerequisites({ root: true });
  const pinDir = `/sys/fs/bpf/hrl-h2b-${process.pid}-flow-upgrade`;
  XdpResponder.cleanup(pinDir);
  const removePins = () => XdpResponder.cleanup(pinDir);
  process.once('exit', removePins);
  t.teardown(() => {
    removePins();
    process.removeListener('exit', removePins);
  });
  const before = XdpResponder.open({ pinDir });
  before.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
  before.flows.set(VIP4, table('owner', byThirds));
  before.close();
  // What an older program left behind: every pin but the guard map.
  rmSync(join(pinDir, FLOW_MAP_NAMES.guards));
  const after = XdpResponder.open({ pinDir });
  t.teardown(() => after.close());
  t.same([...after.vips().keys()], [VIP4], 'the VIP entries survive the upgrade');
  t.same(after.flows.get(VIP4)?.slots, table('owner', byThirds).slots, 'and the flow table');
  t.ok(existsSync(join(pinDir, FLOW_MAP_NAMES.guards)), 'the guard map is created and pinned');
  t.same(after.flows.guards().loop_guard, { packets: 0n, bytes: 0n }, 'its counters start at zero');
});
