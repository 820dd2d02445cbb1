import t from 'tap';
import { negotiate } from '../../../src/bgp/fsm.js';
import { peerConfigFromBgpPeer } from '../../../src/bgp/peer-config.js';
import { makeOpen } from '../../../src/bgp/wire/open.js';
import type { BFDProfile, BGPPeer } from '../../../src/config/index.js';

const peer = (spec: Partial<BGPPeer['spec']>): BGPPeer => ({
  apiVersion: 'herald.dev/v1beta1',
  kind: 'BGPPeer',
  metadata: { name: 'tor' },
  spec: { myASN: 64513, peerASN: 64512, peerAddress: '10.0.0.1', ...spec },
});
const profile: BFDProfile = {
  apiVersion: 'herald.dev/v1beta1',
  kind: 'BFDProfile',
  metadata: { name: 'fast' },
  spec: { transmitInterval: 100, detectMultiplier: 5, minimumTtl: 254 },
};

t.test('BGPPeer → PeerConfig with defaults and durations', async (t) => {
  const d = peerConfigFromBgpPeer(peer({}), [], '10.9.9.9');
  t.match(d, {
    name: 'tor',
    localAsn: 64513,
    peerAsn: 64512,
    peerPort: 179,
    routerId: '10.9.9.9',
    holdTimeSec: 90,
  });
  t.equal(d.bfd, undefined);
  t.equal(d.gracefulRestart, false);
  const c = peerConfigFromBgpPeer(
    peer({
      holdTime: '9s',
      connectTime: '2s',
      routerID: '1.1.1.1',
      password: 'k',
      enableGracefulRestart: true,
      ebgpMultiHop: true,
      bfdProfile: 'fast',
      sourceAddress: '10.0.0.5',
      peerPort: 1179,
    }),
    [profile],
    '10.9.9.9',
  );
  t.match(c, {
    holdTimeSec: 9,
    connectRetrySec: 2,
    routerId: '1.1.1.1',
    password: 'k',
    gracefulRestart: true,
    ebgpMultihop: true,
    sourceAddress: '10.0.0.5',
    peerPort: 1179,
    bfd: { transmitIntervalMs: 100, receiveIntervalMs: 300, detectMultiplier: 5, passive: false },
  });
  t.equal(c.minTtl, undefined, 'BFD minimumTtl is not BGP GTSM');
});

t.test('dynamic ASN: external refuses our own AS, internal expects it', async (t) => {
  const open = (asn: number) => makeOpen({ asn, holdTime: 9, routerId: '2.2.2.2' });
  const base = { localAsn: 64513, holdTimeSec: 9, connectRetrySec: 1, passive: false };
  t.equal(negotiate(open(65000), { ...base, dynamicAsn: 'external' }).peerAsn, 65000);
  t.throws(() => negotiate(open(64513), { ...base, dynamicAsn: 'external' }), { code: 2, subcode: 2 });
  t.throws(() => negotiate(open(65000), { ...base, peerAsn: 64513 }), { code: 2, subcode: 2 });
  t.equal(negotiate(open(64513), { ...base, peerAsn: 64513 }).holdTimeSec, 9);
});
