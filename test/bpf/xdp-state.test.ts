import t from 'tap';
import { kernelMonotonicNs } from '../../src/datapath/responder.js';
import { clientBucket } from '../../src/l2/buckets.js';
import { arpFrame, CLIENT_MAC, ipv4Frame, ipv6Frame, nsFrame, VIP_MAC } from './xdp-frames.js';
import {
  CLIENT4,
  CLIENT6,
  openResponder,
  run,
  SUPPRESSED4,
  VIP4,
  VIP6,
  XDP_DROP,
  XDP_PASS,
  XDP_TX,
} from './xdp-harness.js';

const r = openResponder(t, 'state');

if (r) {
  t.test('counters after N frames, summed over CPUs; the data path creates no entries', async (t) => {
    const before = r.counters();
    t.same([...before.keys()].sort(), [SUPPRESSED4, VIP4, '2001:db8::6', VIP6].sort());
    let v4Bytes = 0n;
    let v6Bytes = 0n;
    for (let i = 0; i < 25; i++) {
      const f4 = ipv4Frame({ src: CLIENT4, dst: VIP4, payload: i * 3 });
      const f6 = ipv6Frame({
        src: CLIENT6,
        dst: VIP6,
        payload: i * 5,
        tags: i % 2 ? [{ tpid: 0x8100, vid: 9 }] : [],
      });
      v4Bytes += BigInt(f4.length);
      v6Bytes += BigInt(f6.length);
      t.equal(run(r, f4).retval, XDP_PASS);
      t.equal(run(r, f6).retval, XDP_PASS);
    }
    for (let i = 0; i < 7; i++) run(r, arpFrame({ spa: CLIENT4, tpa: VIP4 }));
    for (let i = 0; i < 3; i++) run(r, arpFrame({ spa: CLIENT4, tpa: SUPPRESSED4 }));
    for (let i = 0; i < 4; i++) run(r, nsFrame({ src: CLIENT6, target: VIP6 }));
    for (let i = 0; i < 5; i++) run(r, ipv4Frame({ src: CLIENT4, dst: '10.9.9.9' }));
    run(r, arpFrame({ spa: CLIENT4, tpa: '10.9.9.9' }));
    const c = r.counters();
    t.equal(c.size, 4, 'no entry created by traffic to non-VIPs');
    t.same(c.get(VIP4), { rxPackets: 25n, rxBytes: v4Bytes, arpRequests: 7n, ndpRequests: 0n, replies: 7n });
    t.same(c.get(SUPPRESSED4), { rxPackets: 0n, rxBytes: 0n, arpRequests: 3n, ndpRequests: 0n, replies: 0n });
    t.same(c.get(VIP6), { rxPackets: 25n, rxBytes: v6Bytes, arpRequests: 0n, ndpRequests: 4n, replies: 4n });
    // setVip on an existing VIP keeps its counters; deleteVip removes them.
    r.setVip(VIP4, { action: 'answer', mac: VIP_MAC });
    const again = r.counters();
    t.equal(again.get(VIP4)?.replies, 7n);
    t.equal(again.get(SUPPRESSED4), c.get(SUPPRESSED4), 'an unchanged VIP keeps its sums (not summed again)');
    run(r, ipv4Frame({ src: CLIENT4, dst: VIP4 }));
    const moved = r.counters();
    t.equal(moved.get(VIP4)?.rxPackets, 26n, 'a VIP whose counters moved is summed again');
    t.equal(moved.get(VIP6), again.get(VIP6), 'the others keep theirs');
    // A VIP added and removed: the keys change, every address and sum is read afresh.
    r.setVip('10.9.9.8', { action: 'suppress' });
    const added = r.counters();
    t.equal(added.size, 5);
    t.same(added.get('10.9.9.8'), {
      rxPackets: 0n,
      rxBytes: 0n,
      arpRequests: 0n,
      ndpRequests: 0n,
      replies: 0n,
    });
    t.equal(added.get(VIP4)?.rxPackets, 26n);
    r.deleteVip('10.9.9.8');
    const removed = r.counters();
    t.same([...removed.keys()].sort(), [...c.keys()].sort(), 'the removed VIP is gone');
    t.equal(removed.get(VIP6)?.ndpRequests, 4n);
  });

  t.test('heartbeat stats: the age and the longest gap since the last read', async (t) => {
    const now = kernelMonotonicNs();
    r.heartbeat(now - 300_000_000n);
    r.heartbeat(now - 250_000_000n);
    r.heartbeat(now - 100_000_000n);
    const first = r.heartbeatStats();
    t.equal(first.maxGapMs, 150);
    t.ok((first.ageMs ?? 0) >= 100, `age ${first.ageMs} ms`);
    r.heartbeat(now);
    t.equal(r.heartbeatStats().maxGapMs, 100, 'the gap since the previous read only');
    r.heartbeat(0n);
    t.equal(r.heartbeatStats().maxGapMs, 0, 'a shut gate (stamp 0) is no beat');
  });

  t.test('liveness gate: fresh answers, stale / never / far-future passes untouched', async (t) => {
    const req = arpFrame({ spa: CLIENT4, tpa: VIP4 });
    const ns = nsFrame({ src: CLIENT6, target: VIP6 });
    r.setLivenessBoundMs(50);
    r.heartbeat();
    t.equal(run(r, req).retval, XDP_TX, 'heartbeat() from process.hrtime is on the bpf_ktime_get_ns clock');
    t.equal(run(r, ns).retval, XDP_TX);
    const now = kernelMonotonicNs();
    r.heartbeat(now - 200_000_000n);
    const out = run(r, req);
    t.equal(out.retval, XDP_PASS, 'stale heartbeat');
    t.same(out.data, req, 'untouched when stale');
    t.equal(run(r, ns).retval, XDP_PASS);
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: SUPPRESSED4 })).retval, XDP_DROP, 'suppress is not gated');
    r.heartbeat(now + 10_000_000_000n);
    t.equal(run(r, req).retval, XDP_PASS, 'heartbeat far in the future is not fresh');
    r.heartbeat(0n);
    t.equal(run(r, req).retval, XDP_PASS, 'never written');
    // Tight bound: proves userspace and BPF read the same clock to within 20 ms (other bases differ by s).
    // Three tries, so that one scheduling hiccup on a loaded machine does not fail it.
    r.setLivenessBoundMs(20);
    const fresh: number[] = [];
    for (let i = 0; i < 3 && fresh.at(-1) !== XDP_TX; i++) {
      r.heartbeat();
      fresh.push(run(r, req).retval);
    }
    t.equal(fresh.at(-1), XDP_TX, 'fresh within 20 ms');
    await new Promise((res) => setTimeout(res, 60));
    t.equal(run(r, req).retval, XDP_PASS, 'stale after 60 ms with a 20 ms bound');
    r.setLivenessBoundMs(600_000);
    r.heartbeat();
    t.equal(run(r, req).retval, XDP_TX);
  });

  t.test('spread buckets: C and clientBucket() agree; bit clear -> drop, set -> answer', async (t) => {
    const vip4 = '10.0.2.5';
    const vip6 = '2001:db8::2:5';
    t.teardown(() => {
      r.deleteVip(vip4);
      r.deleteVip(vip6);
    });
    for (let i = 1; i <= 40; i++) {
      const c4 = `10.1.${i}.${(i * 37) % 250}`;
      const c6 = `2001:db8:1::${i.toString(16)}`;
      const b4 = clientBucket(c4);
      const b6 = clientBucket(c6);
      r.setVip(vip4, { action: 'answer', mac: VIP_MAC, buckets: 1n << BigInt(b4) });
      r.setVip(vip6, { action: 'answer', mac: VIP_MAC, buckets: 1n << BigInt(b6) });
      t.equal(run(r, arpFrame({ spa: c4, tpa: vip4 })).retval, XDP_TX, `${c4} bucket ${b4} set`);
      t.equal(run(r, nsFrame({ src: c6, target: vip6 })).retval, XDP_TX, `${c6} bucket ${b6} set`);
      const others4 = ((1n << 64n) - 1n) ^ (1n << BigInt(b4));
      const others6 = ((1n << 64n) - 1n) ^ (1n << BigInt(b6));
      r.setVip(vip4, { action: 'answer', mac: VIP_MAC, buckets: others4 });
      r.setVip(vip6, { action: 'answer', mac: VIP_MAC, buckets: others6 });
      t.equal(run(r, arpFrame({ spa: c4, tpa: vip4 })).retval, XDP_DROP, `${c4} bucket ${b4} clear`);
      t.equal(run(r, nsFrame({ src: c6, target: vip6 })).retval, XDP_DROP, `${c6} bucket ${b6} clear`);
    }
    r.setVip(vip4, { action: 'answer', mac: VIP_MAC, buckets: 1n << BigInt(clientBucket('0.0.0.0')) });
    t.equal(
      run(r, arpFrame({ spa: '0.0.0.0', tpa: vip4 })).retval,
      XDP_TX,
      'probes use the bucket of 0.0.0.0',
    );
  });

  t.test('client learning: requester IP -> MAC, ifindex, last seen', async (t) => {
    const mac4 = Buffer.from('02000000c004', 'hex');
    const mac6 = Buffer.from('02000000c006', 'hex');
    const eth6 = Buffer.from('02000000e006', 'hex');
    const t0 = kernelMonotonicNs();
    run(r, arpFrame({ spa: '10.3.0.1', tpa: VIP4, sha: mac4 }));
    run(r, arpFrame({ spa: '10.3.0.2', tpa: SUPPRESSED4, sha: mac4 })); // learned even when suppressed
    run(r, arpFrame({ spa: '10.3.0.3', tpa: '10.9.9.9', sha: mac4 })); // not a VIP: not learned
    run(r, nsFrame({ src: '2001:db8:3::1', target: VIP6, slla: mac6, ethSrc: eth6 })); // MAC from the SLLA
    run(r, nsFrame({ src: '2001:db8:3::2', target: VIP6, slla: null, ethSrc: eth6 })); // MAC from Ethernet
    run(r, nsFrame({ src: '::', target: VIP6, slla: null, ethSrc: eth6 })); // DAD: nothing to learn
    const t1 = kernelMonotonicNs();
    const clients = new Map(r.learnedClients().map((c) => [c.ip, c]));
    const expect = new Map([
      ['10.3.0.1', mac4],
      ['10.3.0.2', mac4],
      ['2001:db8:3::1', mac6],
      ['2001:db8:3::2', eth6],
    ]);
    for (const [ip, mac] of expect) {
      const c = clients.get(ip);
      t.ok(c, `${ip} learned`);
      if (!c) continue;
      t.same(c.mac, mac, `${ip} mac`);
      t.equal(c.ifindex, 1, `${ip} ifindex (test runner: lo)`);
      t.ok(
        c.lastSeenNs >= t0 - 1_000_000n && c.lastSeenNs <= t1 + 1_000_000n,
        `${ip} last seen within the test`,
      );
    }
    for (const ip of ['10.3.0.3', '::', '0.0.0.0']) t.notOk(clients.has(ip), `${ip} not learned`);
    // A new MAC for a known client replaces the old one.
    run(r, arpFrame({ spa: '10.3.0.1', tpa: VIP4, sha: CLIENT_MAC }));
    t.same(new Map(r.learnedClients().map((c) => [c.ip, c.mac])).get('10.3.0.1'), CLIENT_MAC);
  });

  t.test('vips() reads back what setVip wrote', async (t) => {
    const v = r.vips();
    t.same(v.get(VIP4), { action: 'answer', mac: VIP_MAC, ifindex: 0, vlan: 0, buckets: (1n << 64n) - 1n });
    t.equal(v.get(SUPPRESSED4)?.action, 'suppress');
    r.deleteVip(SUPPRESSED4);
    t.notOk(r.vips().has(SUPPRESSED4));
    t.notOk(r.counters().has(SUPPRESSED4));
  });
}
