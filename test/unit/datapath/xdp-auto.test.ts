import t from 'tap';
import { autoXdpMode } from '../../../src/datapath/xdp-auto.js';

// Issue 13: `--xdp-mode auto` on a veth picks a mode whose replies are delivered.

t.test('auto: veth without an XDP program on the peer is generic', async (t) => {
  const other = autoXdpMode({ kind: 'veth', peer: undefined, peerHasXdp: false });
  t.equal(other.mode, 'generic');
  t.match(other.reason, 'another network namespace');
  const bare = autoXdpMode({ kind: 'veth', peer: 'veth1', peerHasXdp: false });
  t.equal(bare.mode, 'generic');
  t.match(bare.reason, 'veth1 (no XDP program)');
});

t.test('auto: veth whose peer has an XDP program, and real NICs, may be native', async (t) => {
  t.equal(autoXdpMode({ kind: 'veth', peer: 'veth1', peerHasXdp: true }).mode, 'native');
  t.equal(autoXdpMode({ kind: undefined, peer: undefined, peerHasXdp: false }).mode, 'auto');
  t.equal(autoXdpMode({ kind: 'bond', peer: undefined, peerHasXdp: false }).mode, 'auto');
});
