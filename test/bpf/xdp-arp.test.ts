import t from 'tap';
import { arpBody, arpFrame, BROADCAST, CLIENT_MAC, ethHeader, VIP_MAC, type Tag } from './xdp-frames.js';
import { CLIENT4, openResponder, run, SUPPRESSED4, VIP4, XDP_DROP, XDP_PASS, XDP_TX } from './xdp-harness.js';

const r = openResponder(t, 'arp');

/** The reply an RFC 826 responder sends for `tpa`, tags preserved, built independently. */
function expectedReply(o: { spa: string; tpa: string; tags?: Tag[]; padTo?: number }): Buffer {
  const f = Buffer.concat([
    ethHeader(CLIENT_MAC, VIP_MAC, o.tags ?? [], 0x0806),
    arpBody({ op: 2, sha: VIP_MAC, spa: o.tpa, tha: CLIENT_MAC, tpa: o.spa }),
  ]);
  return o.padTo && f.length < o.padTo ? Buffer.concat([f, Buffer.alloc(o.padTo - f.length)]) : f;
}

if (r) {
  t.test('request for an answer-VIP is answered in place, every byte', async (t) => {
    const req = arpFrame({ spa: CLIENT4, tpa: VIP4, padTo: 60 });
    const out = run(r, req);
    t.equal(out.retval, XDP_TX);
    t.same(out.data.toString('hex'), expectedReply({ spa: CLIENT4, tpa: VIP4, padTo: 60 }).toString('hex'));
  });

  t.test('unicast request (ARP refresh) is answered too', async (t) => {
    const out = run(r, arpFrame({ spa: CLIENT4, tpa: VIP4, ethDst: VIP_MAC }));
    t.equal(out.retval, XDP_TX);
    t.same(out.data, expectedReply({ spa: CLIENT4, tpa: VIP4 }));
  });

  t.test('request for another address passes untouched', async (t) => {
    const req = arpFrame({ spa: CLIENT4, tpa: '10.0.0.77' });
    const out = run(r, req);
    t.equal(out.retval, XDP_PASS);
    t.same(out.data, req);
  });

  t.test('request for a suppress-VIP is dropped', async (t) => {
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: SUPPRESSED4 })).retval, XDP_DROP);
  });

  t.test('RFC 5227 probe (sender 0.0.0.0) for an owned VIP is defended', async (t) => {
    const out = run(r, arpFrame({ spa: '0.0.0.0', tpa: VIP4 }));
    t.equal(out.retval, XDP_TX);
    t.same(out.data, expectedReply({ spa: '0.0.0.0', tpa: VIP4 }));
  });

  t.test('gratuitous ARP (request and reply form) passes untouched, also for VIPs', async (t) => {
    for (const f of [
      arpFrame({ spa: VIP4, tpa: VIP4, sha: Buffer.from('020000000077', 'hex') }),
      arpFrame({ op: 2, spa: VIP4, tpa: VIP4, tha: BROADCAST }),
      arpFrame({ spa: SUPPRESSED4, tpa: SUPPRESSED4 }),
    ]) {
      const out = run(r, f);
      t.equal(out.retval, XDP_PASS);
      t.same(out.data, f);
    }
  });

  t.test('ARP replies and non-Ethernet/IPv4 ARP pass untouched', async (t) => {
    for (const f of [
      arpFrame({ op: 2, spa: CLIENT4, tpa: VIP4 }),
      arpFrame({ spa: CLIENT4, tpa: VIP4, htype: 6 }),
      arpFrame({ spa: CLIENT4, tpa: VIP4, ptype: 0x86dd }),
      arpFrame({ spa: CLIENT4, tpa: VIP4, hlen: 8 }),
      arpFrame({ spa: CLIENT4, tpa: VIP4, plen: 16 }),
      arpFrame({ op: 3, spa: CLIENT4, tpa: VIP4 }),
    ]) {
      const out = run(r, f);
      t.equal(out.retval, XDP_PASS);
      t.same(out.data, f);
    }
  });

  t.test('802.1Q and QinQ (802.1ad outer) requests are answered with the tags preserved', async (t) => {
    const cases: Tag[][] = [
      [{ tpid: 0x8100, vid: 100, pcp: 5 }],
      [
        { tpid: 0x88a8, vid: 200, pcp: 3 },
        { tpid: 0x8100, vid: 100 },
      ],
      [
        { tpid: 0x8100, vid: 7 },
        { tpid: 0x8100, vid: 8 },
      ],
    ];
    for (const tags of cases) {
      const out = run(r, arpFrame({ spa: CLIENT4, tpa: VIP4, tags }));
      t.equal(out.retval, XDP_TX, JSON.stringify(tags));
      t.same(out.data.toString('hex'), expectedReply({ spa: CLIENT4, tpa: VIP4, tags }).toString('hex'));
    }
  });

  t.test('three tags are beyond the parser: pass untouched', async (t) => {
    const tags = [0x88a8, 0x8100, 0x8100].map((tpid, i) => ({ tpid, vid: i + 1 }));
    const f = arpFrame({ spa: CLIENT4, tpa: VIP4, tags });
    const out = run(r, f);
    t.equal(out.retval, XDP_PASS);
    t.same(out.data, f);
  });

  t.test('VLAN restriction matches the innermost VLAN ID', async (t) => {
    const vip = '10.0.1.5';
    r.setVip(vip, { action: 'answer', mac: VIP_MAC, vlan: 100 });
    t.teardown(() => r.deleteVip(vip));
    const inner100 = [
      { tpid: 0x88a8, vid: 200 },
      { tpid: 0x8100, vid: 100 },
    ];
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip, tags: inner100 })).retval, XDP_TX);
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip, tags: [{ tpid: 0x8100, vid: 100 }] })).retval, XDP_TX);
    t.equal(
      run(r, arpFrame({ spa: CLIENT4, tpa: vip, tags: [{ tpid: 0x8100, vid: 101 }] })).retval,
      XDP_PASS,
    );
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip })).retval, XDP_PASS, 'untagged');
  });

  t.test('interface restriction: the test runner delivers on ifindex 1 (lo)', async (t) => {
    const vip = '10.0.1.6';
    r.setVip(vip, { action: 'answer', mac: VIP_MAC, ifindex: 1 });
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip })).retval, XDP_TX);
    r.setVip(vip, { action: 'suppress', ifindex: 1 });
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip })).retval, XDP_DROP);
    r.setVip(vip, { action: 'answer', mac: VIP_MAC, ifindex: 9999 });
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip })).retval, XDP_PASS);
    r.deleteVip(vip);
    t.equal(run(r, arpFrame({ spa: CLIENT4, tpa: vip })).retval, XDP_PASS, 'deleted');
  });

  t.test('unknown EtherTypes and runt L2 headers pass untouched', async (t) => {
    for (const f of [
      Buffer.concat([ethHeader(BROADCAST, CLIENT_MAC, [], 0x88cc), Buffer.alloc(46)]),
      Buffer.concat([ethHeader(BROADCAST, CLIENT_MAC, [], 0x0800), Buffer.alloc(2)]),
      ethHeader(BROADCAST, CLIENT_MAC, [], 0x8100),
    ]) {
      const out = run(r, f);
      t.equal(out.retval, XDP_PASS);
      t.same(out.data, f);
    }
  });
}
