import t from 'tap';
import { missingPrerequisites } from '../helpers/prereq.js';
import { BgpLab, birdTorConfig, ROUTER4, ROUTER6, speaker4, waitFor } from './bgp-fixture.js';

const missing = missingPrerequisites({ root: true, commands: ['bird', 'birdc', 'ip', 'nsenter'] });

t.test(
  'BIRD 2 as ToR: ECMP over 3 Herald speakers, IPv4 and IPv6, communities',
  { skip: missing },
  async (t) => {
    const lab = await BgpLab.create('h5b', 3);
    t.teardown(() => lab.destroy());
    const birdc = await lab.startBird(birdTorConfig());
    const speakers = [1, 2, 3].map((i) =>
      lab.startSpeaker(i, [
        '--asn',
        '64513',
        '--peer-asn',
        '64512',
        '--router-id',
        speaker4(i),
        '--peer',
        ROUTER4,
        '--peer',
        ROUTER6,
        '--prefix',
        '10.99.0.1',
        '--prefix',
        'fd00:99::1',
        '--community',
        '64513:100',
        '--community',
        'large:64513:1:2',
      ]),
    );
    await waitFor(
      '3 IPv4 nexthops at the router',
      async () => (await lab.nexthops('10.99.0.1')) === 3 || undefined,
    );
    t.pass('kernel route 10.99.0.1 has 3 nexthops');
    await waitFor(
      '3 IPv6 nexthops at the router',
      async () => (await lab.nexthops('fd00:99::1')) === 3 || undefined,
    );
    t.pass('kernel route fd00:99::1 has 3 nexthops');
    const detail = await birdc('show', 'route', '10.99.0.1/32', 'all');
    t.match(detail, /BGP\.community: \(64513,100\)/, 'community visible in BIRD');
    t.match(detail, /BGP\.large_community: \(64513, 1, 2\)/, 'large community visible in BIRD');
    t.match(detail, /BGP\.as_path: 64513/);
    const v6 = await birdc('show', 'route', 'fd00:99::1/128', 'all');
    t.match(v6, /BGP\.next_hop: fd00:250::11 fe80:/, 'IPv6 next hop global + link-local');

    speakers[0]!.child.kill('SIGKILL');
    await waitFor(
      '2 IPv4 nexthops after killing a speaker',
      async () => (await lab.nexthops('10.99.0.1')) === 2 || undefined,
    );
    await waitFor(
      '2 IPv6 nexthops after killing a speaker',
      async () => (await lab.nexthops('fd00:99::1')) === 2 || undefined,
    );
    t.pass('killed speaker withdrawn: 2 nexthops left');

    speakers[1]!.child.kill('SIGTERM');
    await waitFor(
      '1 nexthop after a clean stop',
      async () => (await lab.nexthops('10.99.0.1')) === 1 || undefined,
    );
    t.pass('cleanly stopped speaker withdrawn: 1 nexthop left');
  },
);
