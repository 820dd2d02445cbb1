import t from 'tap';
import { arpFrame, ipv4Frame, ipv6Frame, nsFrame } from './xdp-frames.js';
import { CLIENT4, CLIENT6, openResponder, run, VIP4, VIP6, XDP_PASS, XDP_TX } from './xdp-harness.js';

const r = openResponder(t, 'trunc');

if (r) {
  const qinq = [
    { tpid: 0x88a8, vid: 10 },
    { tpid: 0x8100, vid: 20 },
  ];
  const frames: Record<string, Buffer> = {
    arp: arpFrame({ spa: CLIENT4, tpa: VIP4 }),
    'arp qinq': arpFrame({ spa: CLIENT4, tpa: VIP4, tags: qinq }),
    ns: nsFrame({ src: CLIENT6, target: VIP6 }),
    'ns qinq': nsFrame({ src: CLIENT6, target: VIP6, tags: qinq }),
    'ns no slla': nsFrame({ src: CLIENT6, target: VIP6, slla: null }),
    ipv4: ipv4Frame({ src: CLIENT4, dst: VIP4, payload: 0 }),
    ipv6: ipv6Frame({ src: CLIENT6, dst: VIP6, payload: 0 }),
  };

  t.test('every complete frame is answered or passed (sanity: the frames are valid)', async (t) => {
    for (const [name, f] of Object.entries(frames))
      t.equal(run(r, f).retval, name.startsWith('ip') ? XDP_PASS : XDP_TX, name);
  });

  t.test('every truncation from 14 bytes to length-1 passes untouched', async (t) => {
    // The kernel's test runner refuses frames shorter than an Ethernet header (EINVAL), so lengths
    // 0..13 never reach the program through BPF_PROG_TEST_RUN; the parser's first bound covers them.
    for (const [name, f] of Object.entries(frames)) {
      for (let len = 14; len < f.length; len++) {
        const cut = Buffer.from(f.subarray(0, len));
        const out = run(r, cut);
        if (out.retval !== XDP_PASS || !out.data.equals(cut)) {
          t.fail(`${name} cut to ${len} bytes: verdict ${out.retval}`);
          return;
        }
      }
      t.pass(`${name}: ${f.length - 14} truncations passed untouched`);
    }
  });

  t.test('runt frames below 14 bytes are refused by the test runner', async (t) => {
    t.throws(() => r.program.testRun(Buffer.alloc(13)));
  });
}
