import t from 'tap';
import { CLIENT_MAC, expectedNa, ipv6Frame, nsFrame, VIP_MAC, type Tag } from './xdp-frames.js';
import { CLIENT6, openResponder, run, SUPPRESSED6, VIP6, XDP_DROP, XDP_PASS, XDP_TX } from './xdp-harness.js';

const r = openResponder(t, 'ndp');
const OTHER_MAC = Buffer.from('020000000055', 'hex');

if (r) {
  t.test('NS with source link-layer option -> NA (S+O, TLLA, checksum), every byte', async (t) => {
    const out = run(r, nsFrame({ src: CLIENT6, target: VIP6 }));
    t.equal(out.retval, XDP_TX);
    t.same(
      out.data.toString('hex'),
      expectedNa({ reqMac: CLIENT_MAC, src: CLIENT6, target: VIP6, mac: VIP_MAC }).toString('hex'),
    );
  });

  t.test('NS without source link-layer option is answered (frame grows by the TLLA)', async (t) => {
    const req = nsFrame({ src: CLIENT6, target: VIP6, slla: null });
    const out = run(r, req);
    t.equal(out.retval, XDP_TX);
    t.equal(out.data.length, req.length + 8);
    t.same(out.data, expectedNa({ reqMac: CLIENT_MAC, src: CLIENT6, target: VIP6, mac: VIP_MAC }));
  });

  t.test('unicast NS (neighbor unreachability detection) is answered', async (t) => {
    const out = run(r, nsFrame({ src: CLIENT6, target: VIP6, dst: VIP6 }));
    t.equal(out.retval, XDP_TX);
    t.same(out.data, expectedNa({ reqMac: CLIENT_MAC, src: CLIENT6, target: VIP6, mac: VIP_MAC }));
  });

  t.test('DAD NS from :: with a nonce option -> NA to ff02::1, S clear, frame shrinks', async (t) => {
    const nonce = Buffer.from([14, 1, 1, 2, 3, 4, 5, 6]);
    const req = nsFrame({ src: '::', target: VIP6, slla: null, extraOptions: nonce, ethSrc: OTHER_MAC });
    const out = run(r, req);
    t.equal(out.retval, XDP_TX);
    t.same(
      out.data.toString('hex'),
      expectedNa({ reqMac: OTHER_MAC, src: '::', target: VIP6, mac: VIP_MAC }).toString('hex'),
    );
  });

  t.test('NS with unknown options before the SLLA is answered', async (t) => {
    const unknown = Buffer.from([200, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const out = run(r, nsFrame({ src: CLIENT6, target: VIP6, slla: null, extraOptions: unknown }));
    t.equal(out.retval, XDP_TX);
    t.same(out.data, expectedNa({ reqMac: CLIENT_MAC, src: CLIENT6, target: VIP6, mac: VIP_MAC }));
  });

  t.test('NS in 802.1Q and QinQ keeps the tags', async (t) => {
    const cases: Tag[][] = [
      [{ tpid: 0x8100, vid: 42 }],
      [
        { tpid: 0x88a8, vid: 300 },
        { tpid: 0x8100, vid: 42, pcp: 6 },
      ],
    ];
    for (const tags of cases) {
      const out = run(r, nsFrame({ src: CLIENT6, target: VIP6, tags }));
      t.equal(out.retval, XDP_TX);
      t.same(out.data, expectedNa({ reqMac: CLIENT_MAC, src: CLIENT6, target: VIP6, mac: VIP_MAC, tags }));
    }
  });

  t.test('NS for a suppress-VIP is dropped; for another address passes untouched', async (t) => {
    t.equal(run(r, nsFrame({ src: CLIENT6, target: SUPPRESSED6 })).retval, XDP_DROP);
    const miss = nsFrame({ src: CLIENT6, target: '2001:db8::77' });
    const out = run(r, miss);
    t.equal(out.retval, XDP_PASS);
    t.same(out.data, miss);
  });

  t.test(
    'invalid NS passes untouched: hop limit, zero-length option, short payload, not ICMPv6',
    async (t) => {
      const badHop = nsFrame({ src: CLIENT6, target: VIP6, hopLimit: 64 });
      const zeroOpt = nsFrame({
        src: CLIENT6,
        target: VIP6,
        slla: null,
        extraOptions: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]),
      });
      const shortPl = nsFrame({ src: CLIENT6, target: VIP6 });
      shortPl.writeUInt16BE(16, 18); // payload length below the 24-byte NS minimum
      const longPl = nsFrame({ src: CLIENT6, target: VIP6 });
      longPl.writeUInt16BE(200, 18); // payload length beyond the frame
      const notNs = nsFrame({ src: CLIENT6, target: VIP6 });
      notNs[54] = 128; // echo request
      const udp = ipv6Frame({ src: CLIENT6, dst: '2001:db8::77' });
      for (const f of [badHop, zeroOpt, shortPl, longPl, notNs, udp]) {
        const out = run(r, f);
        t.equal(out.retval, XDP_PASS);
        t.same(out.data, f);
      }
    },
  );
}
