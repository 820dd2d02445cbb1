import t from 'tap';
import { bgpAdvertisements } from '../../../src/bgp/advertisements.js';
import type { BGPAdvertisement, BGPPeer, Community, IPAddressPool } from '../../../src/config/index.js';

const meta = (name: string, labels?: Record<string, string>) => ({ name, ...(labels ? { labels } : {}) });
const pool = (name: string, addresses: string[], labels?: Record<string, string>): IPAddressPool => ({
  apiVersion: 'herald.dev/v1beta1',
  kind: 'IPAddressPool',
  metadata: meta(name, labels),
  spec: { addresses },
});
const adv = (name: string, spec: BGPAdvertisement['spec']): BGPAdvertisement => ({
  apiVersion: 'herald.dev/v1beta1',
  kind: 'BGPAdvertisement',
  metadata: meta(name),
  spec,
});
const peer = (name: string, spec: Partial<BGPPeer['spec']> = {}): BGPPeer => ({
  apiVersion: 'herald.dev/v1beta1',
  kind: 'BGPPeer',
  metadata: meta(name),
  spec: { myASN: 65001, peerASN: 65000, peerAddress: '10.0.0.1', ...spec },
});
const communities: Community[] = [
  {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'Community',
    metadata: meta('c'),
    spec: { communities: [{ name: 'edge', value: '65000:300' }] },
  },
];

const pools = [
  pool('web', ['192.0.2.0/24', '2001:db8::/64'], { tier: 'web' }),
  pool('db', ['198.51.100.0/24']),
];
const vips = [
  { ip: '192.0.2.10', pool: 'web' },
  { ip: '192.0.2.11', pool: 'web' },
  { ip: '2001:db8::5', pool: 'web' },
  { ip: '198.51.100.7', pool: 'db' },
];
const base = { nodeName: 'n1', nodeLabels: { rack: 'r1' }, vips, pools, communities };

t.test('default advertisement: every VIP as /32 and /128 to every peer', async (t) => {
  const r = bgpAdvertisements({
    ...base,
    advertisements: [adv('all', {})],
    peers: [peer('tor1'), peer('tor2')],
  });
  t.same(
    r.routes.get('tor1')?.map((x) => x.prefix),
    ['192.0.2.10/32', '192.0.2.11/32', '198.51.100.7/32', '2001:db8::5/128'],
  );
  t.same(r.routes.get('tor2'), r.routes.get('tor1'));
});

t.test('pools, peers, node selectors, aggregation, communities, localPref for iBGP only', async (t) => {
  const r = bgpAdvertisements({
    ...base,
    advertisements: [
      adv('agg', {
        ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }],
        aggregationLength: 24,
        aggregationLengthV6: 64,
        communities: ['edge', '65000:1', 'large:4200000001:7:8', 'NO_EXPORT'],
        localPref: 250,
        peers: ['ibgp', 'tor1'],
      }),
      adv('other-rack', { nodeSelectors: [{ matchLabels: { rack: 'r2' } }] }),
      adv('typo', { ipAddressPools: ['db'], communities: ['nosuch'] }),
    ],
    peers: [
      peer('tor1'),
      peer('ibgp', { peerASN: 65001 }),
      peer('far', { nodeSelectors: [{ matchLabels: { rack: 'r9' } }] }),
    ],
  });
  t.notOk(r.routes.has('far'), 'peer limited to other nodes is not active here');
  const tor1 = r.routes.get('tor1') ?? [];
  t.same(
    tor1.map((x) => x.prefix),
    ['192.0.2.0/24', '198.51.100.7/32', '2001:db8::/64'],
  );
  t.same(tor1[0]?.communities, [65000 * 65536 + 1, 65000 * 65536 + 300, 65535 * 65536 + 65281]);
  t.same(tor1[0]?.largeCommunities, [[4200000001, 7, 8]]);
  t.equal(tor1[0]?.localPref, undefined, 'no LOCAL_PREF towards eBGP');
  t.equal(r.routes.get('ibgp')?.[0]?.localPref, 250);
  t.match(r.problems, [/nosuch/]);
});

t.test('no advertisement or no eligible VIP → empty route lists', async (t) => {
  const r = bgpAdvertisements({ ...base, vips: [], advertisements: [adv('all', {})], peers: [peer('tor1')] });
  t.same(r.routes.get('tor1'), []);
  const r2 = bgpAdvertisements({ ...base, advertisements: [], peers: [peer('tor1')] });
  t.same(r2.routes.get('tor1'), []);
});
